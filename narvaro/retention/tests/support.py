"""An archive with old and new records of every class, for the retention tests."""

from __future__ import annotations

import datetime as dt

from narvaro.archive.capture import EventInput
from narvaro.archive.models import Item
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture, an_image
from narvaro.lib.testing import NarvaroTestCase

OLD = dt.datetime(2025, 2, 1, 10, 0, tzinfo=dt.UTC)
NEW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)
# A dry run "now": with a 365-day period, OLD is past it and NEW is not.
NOW = dt.datetime(2027, 1, 1, 12, 0, tzinfo=dt.UTC)


def archive_for_retention(case: NarvaroTestCase) -> dict[str, Item]:
    """Comments old and new, an own post, a DM and a removed comment on account A; one on B.

    Returns the items by remote id.
    """
    capture_batch(
        account=case.account_a,
        captures=[
            a_capture("post-1", "Öppet hus", kind="post", direction="drawn_up", created_at=OLD),
            a_capture(
                "c-old-1",
                "Gammal kommentar kanelbulle",
                created_at=OLD,
                thread_remote_id="post-1",
                media=(an_image("a.jpg", b"\xff\xd8\xff old comment photo"),),
            ),
            a_capture("c-old-2", "Gammal fråga", created_at=OLD, thread_remote_id="post-1"),
            a_capture(
                "c-old-3",
                "Trollkommentar",
                created_at=OLD,
                author_handle="@troll@social.example",
                thread_remote_id="post-9",
            ),
            a_capture("c-new", "Ny kommentar", created_at=NEW, thread_remote_id="post-1"),
            a_capture("dm-old", "Hej i DM", kind="dm", created_at=OLD),
            a_capture("removed-old", "Borttagen", created_at=OLD, thread_remote_id="post-9"),
        ],
        events=[
            EventInput(
                platform="mastodon", remote_id="removed-old", type="removed", occurred_at=OLD
            )
        ],
        source="test",
    )
    # An edit of an old comment: both versions go.
    capture_batch(
        account=case.account_a,
        captures=[
            a_capture("c-old-2", "Gammal fråga (ändrad)", created_at=OLD, thread_remote_id="post-1")
        ],
        source="test",
    )
    capture_batch(
        account=case.account_b,
        captures=[a_capture("b-old", "Gata", created_at=OLD)],
        source="test",
    )
    return {item.remote_id: item for item in Item.objects.all()}
