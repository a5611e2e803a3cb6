"""What the moderation pages show in the browser checks: a queue, a decision, an escalation.

The kultur account gets two inbound comments (one waiting, one moderated as a threat by max,
by hand, which opens an escalation). Each helper makes what is missing and returns the
objects, so every check may call it first.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from narvaro.archive.capture import CaptureInput
from narvaro.archive.models import Item
from narvaro.archive.services import capture_batch
from narvaro.moderation.models import ModerationAction
from tests.browser.support import Cast

# Who opens which moderation page (roles of tests/browser/support.py). max moderates kultur;
# alice manages it; rita (registrar) reads every log and escalation; adam may do anything.
MODERATORS = frozenset({"moderator", "manager", "admin"})
MODERATION_READERS = MODERATORS | {"registrar"}
ESCALATION_READERS = frozenset({"manager", "registrar", "admin"})


def moderation_items(cast: Cast) -> list[Item]:
    account = cast.accounts["kultur"]
    ids = ["browser-moderation-1", "browser-moderation-2"]
    if Item.objects.filter(remote_id__in=ids).count() < len(ids):
        capture_batch(
            account=account,
            captures=[
                CaptureInput(
                    platform="mastodon",
                    remote_id=remote_id,
                    kind="comment",
                    direction="received",
                    text=text,
                    raw_payload=json.dumps({"id": remote_id}),
                    author_handle="@troll@social.example",
                    author_name="Troll",
                    author_platform_id="99",
                    created_at=dt.datetime(2026, 3, n + 1, 9, 0, tzinfo=dt.UTC),
                )
                for n, (remote_id, text) in enumerate(
                    zip(ids, ["Köp billiga klockor!", "Jag vet var du bor."], strict=True)
                )
            ],
            source="browser",
        )
        from narvaro.moderation.services import queue_fill

        queue_fill()
    return list(Item.objects.filter(remote_id__in=ids).order_by("remote_id"))


def moderation_decision(cast: Cast) -> ModerationAction:
    from narvaro.moderation.services import moderation_act

    item = moderation_items(cast)[1]
    existing = ModerationAction.objects.filter(item=item).first()
    if existing is not None:
        return existing
    return moderation_act(
        actor=cast.people["max"],
        item=item,
        action="hide",
        reason="threat",
        reason_text="Hot mot personalen",
        by_hand=True,
    )


def queue_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    moderation_items(cast)
    return {"pk": cast.accounts["kultur"].pk}


def item_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    return {"item_id": moderation_items(cast)[0].pk}


def decision_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    return {"pk": moderation_decision(cast).pk}


def log_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    moderation_decision(cast)
    return {"pk": cast.accounts["kultur"].pk}


def escalation_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    return {"pk": moderation_decision(cast).escalation.pk}


def with_escalation(cast: Cast, role: str) -> str:
    moderation_decision(cast)
    return ""
