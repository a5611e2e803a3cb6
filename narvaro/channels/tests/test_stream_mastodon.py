"""The Mastodon user stream over real HTTP (mastodon-mock's Server-Sent Events endpoint).

The streamer runs in the test's own thread (`pump`): each step hands over what the reader
thread queued and stores it, so the test can act on the platform between steps and then
wait for the archive to show it.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from narvaro.archive.models import Item, ItemEvent, ItemVersion
from narvaro.channels.harvest import harvest_run
from narvaro.channels.models import CaptureGap, Connection
from narvaro.channels.streaming import Streamer, held_remote_id
from narvaro.channels.tests.conftest import MastodonServer
from narvaro.channels.tests.test_harvest_mastodon import connect, world

pytestmark = pytest.mark.django_db


def pump(streamer: Streamer, until: Callable[[], bool], timeout: float = 15.0) -> None:
    """Step the streamer until `until()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        streamer.step(idle=0.1)
        if until():
            return
    raise AssertionError(f"not reached in {timeout} s; counts {streamer.counts}")


def streaming(connection: Connection) -> Streamer:
    streamer = Streamer([connection], read_timeout=10)
    pump(streamer, lambda: streamer.counts.connects == 1 and streamer.counts.polls == 1)
    return streamer


def held(remote_id: str) -> bool:
    return Item.objects.filter(remote_id=remote_id).exists()


def deleted(remote_id: str) -> bool:
    return ItemEvent.objects.filter(item__remote_id=remote_id, type="deleted").exists()


def sources(remote_id: str) -> list[str]:
    return list(
        ItemVersion.objects.filter(item__remote_id=remote_id)
        .order_by("number")
        .values_list("source", flat=True)
    )


def test_the_stream_archives_posts_edits_mentions_and_deletions_as_they_happen(
    mastodon: MastodonServer,
) -> None:
    w = world(mastodon)
    connection = connect(mastodon)
    streamer = streaming(connection)
    try:
        # The poll at connect read everything from before the stream.
        assert held(w["p1"]["uri"]) and held(w["dm"]["uri"])
        cursor = Connection.objects.get().cursor
        connection.refresh_from_db()
        assert connection.stream_connected_at is not None

        alice, bob = mastodon.client("alice_token"), mastodon.client("bob_token")
        carol = mastodon.client("carol_token")
        alice.account_follow(carol.me()["id"])
        post = alice.status_post("Sommaröppet från 1 juni")
        pump(streamer, lambda: held(post["uri"]))
        assert sources(post["uri"]) == ["stream"]

        alice.status_update(post["id"], "Sommaröppet från 3 juni")
        pump(streamer, lambda: len(sources(post["uri"])) == 2)
        texts = ItemVersion.objects.filter(item__remote_id=post["uri"]).order_by("number")
        assert [v.text for v in texts] == ["Sommaröppet från 1 juni", "Sommaröppet från 3 juni"]

        reply = bob.status_post("@alice Gäller det filialerna?", in_reply_to_id=post["id"])
        mention = bob.status_post("Fråga @alice om lånekort")
        dm = bob.status_post("@alice Kan jag förnya via telefon?", visibility="direct")
        pump(streamer, lambda: held(reply["uri"]) and held(mention["uri"]) and held(dm["uri"]))
        assert Item.objects.get(remote_id=reply["uri"]).parent_remote_id == post["uri"]
        assert Item.objects.get(remote_id=dm["uri"]).kind == "dm"

        # A followed account's own post reaches the home timeline but is not our record.
        unrelated = carol.status_post("Fin dag i parken")

        # Deletions: a status the stream captured, one the poll captured before the stream
        # (found by its id in the stored payload), and a received reply.
        alice.status_delete(post["id"])
        alice.status_delete(w["p2"]["id"])
        bob.status_delete(reply["id"])
        pump(
            streamer,
            lambda: deleted(post["uri"]) and deleted(w["p2"]["uri"]) and deleted(reply["uri"]),
        )
        event = ItemEvent.objects.get(item__remote_id=w["p2"]["uri"], type="deleted")
        assert event.details["detected_by"] == "stream delete event"
        assert event.details["platform_id"] == str(w["p2"]["id"])
        assert not held(unrelated["uri"])
        # The stream never moves the harvest cursor: the poll stays the safety net.
        assert Connection.objects.get().cursor == cursor
    finally:
        streamer.close()

    # The next harvest finds nothing new and records no deletion twice.
    report = harvest_run(Connection.objects.get())
    assert report.status == "ok", report.error
    assert (report.items, report.deletions) == (0, 0)
    assert ItemEvent.objects.filter(item__remote_id=post["uri"], type="deleted").count() == 1


def test_after_a_drop_the_poll_from_the_cursor_closes_the_gap(mastodon: MastodonServer) -> None:
    connection = connect(mastodon)
    streamer = streaming(connection)
    alice = mastodon.client("alice_token")
    try:
        first = alice.status_post("Före avbrottet")
        pump(streamer, lambda: held(first["uri"]))
        # The connection drops, and the first reconnect is refused by the instance.
        mastodon.fault({"type": "status", "status": 503}, path="/api/v1/streaming/user", count=1)
        state = streamer.accounts[0]
        assert state.live is not None
        state.live.close()
        missed = alice.status_post("Under avbrottet")
        pump(streamer, lambda: streamer.counts.connects == 2, timeout=30)
        pump(streamer, lambda: held(missed["uri"]))
        assert streamer.counts.drops >= 2  # the cut and the refused reconnect
        assert streamer.counts.polls == 2
        # Read by the poll from the cursor, not by the stream.
        assert sources(missed["uri"]) == ["harvest"]
        assert not mastodon.faults()
        after = alice.status_post("Efter avbrottet")
        pump(streamer, lambda: held(after["uri"]))
        assert sources(after["uri"]) == ["stream"]
    finally:
        streamer.close()
    assert not CaptureGap.objects.exists()


def test_a_revoked_token_stops_the_stream_and_flags_the_account(
    mastodon: MastodonServer,
) -> None:
    connection = connect(mastodon)
    mastodon.revoke("alice_token")
    streamer = Streamer([connection], read_timeout=10)
    pump(streamer, lambda: streamer.counts.polls == 1 or streamer.accounts[0].retry_at > 0)
    streamer.close()
    connection.refresh_from_db()
    assert connection.status == Connection.Status.RECONNECT
    assert CaptureGap.objects.get().reason == "auth"
    assert streamer.counts.connects == 0


def test_a_deleted_status_is_found_by_its_id_only_when_held(mastodon: MastodonServer) -> None:
    from narvaro.channels.harvest import connector_for

    w = world(mastodon)
    connection = connect(mastodon)
    harvest_run(connection)
    fresh = connector_for(connection)  # knows no uris: the lookup goes to the archive
    assert held_remote_id(connection, fresh, str(w["p1"]["id"])) == w["p1"]["uri"]
    # The history versions of the edited p1 carry the id too, and find the same item.
    assert held_remote_id(connection, fresh, str(w["reply"]["id"])) == w["reply"]["uri"]
    assert held_remote_id(connection, fresh, "999999999") == ""


def test_recheck_detects_deleted_replies_by_others_in_the_accounts_threads(
    mastodon: MastodonServer,
) -> None:
    w = world(mastodon)
    connection = connect(mastodon)
    harvest_run(connection)
    # carol's answer in alice's thread mentions bob only; it was captured from the thread.
    assert held(w["thread"]["uri"])
    mastodon.client("carol_token").status_delete(w["thread"]["id"])
    mastodon.client("bob_token").status_delete(w["reply"]["id"])
    report = harvest_run(connection)
    assert report.status == "ok", report.error
    assert report.deletions == 2
    assert deleted(w["thread"]["uri"]) and deleted(w["reply"]["uri"])


def test_stream_command_refuses_while_streaming_is_off(mastodon: MastodonServer) -> None:
    connect(mastodon)
    with pytest.raises(CommandError, match="NARVARO_MASTODON_STREAMING"):
        call_command("channels", "stream")


@override_settings(NARVARO_MASTODON_STREAMING=True)
def test_stream_command_connects_polls_and_stops(mastodon: MastodonServer) -> None:
    world(mastodon)
    connect(mastodon)
    out = io.StringIO()
    call_command(
        "channels",
        "stream",
        "--account",
        "mastodon:@alice@mock.local",
        "--seconds",
        "6",
        stdout=out,
    )
    lines = out.getvalue().strip().splitlines()
    assert lines[0].startswith("Streaming mastodon:@alice@mock.local")
    counts = json.loads(lines[-1])
    assert counts["connects"] == 1 and counts["polls"] == 1
    assert Item.objects.count() > 0
    with pytest.raises(CommandError, match="not connected"):
        call_command("channels", "stream", "--account", "mastodon:@nobody@mock.local")


def test_the_capture_page_shows_whether_the_stream_is_connected(mastodon: MastodonServer) -> None:
    from django.urls import reverse
    from django.utils import timezone

    from narvaro.channels.tests.test_harvest_views import signed_in, viewer_of

    connection = connect(mastodon)
    client = signed_in(viewer_of(connection.account.unit))
    url = reverse("channels:account_capture", args=[connection.account.pk])
    assert "Not streaming; captured by the scheduled harvests" in client.get(url).content.decode()
    Connection.objects.filter(pk=connection.pk).update(stream_connected_at=timezone.now())
    assert "Connected since" in client.get(url).content.decode()


def test_recheck_takes_turns_when_more_received_items_are_held_than_it_fetches(
    mastodon: MastodonServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from narvaro.channels.connectors import mastodon as connector_module

    monkeypatch.setattr(connector_module, "RECHECK_FETCH_LIMIT", 2)
    bob = mastodon.client("bob_token")
    mentions = [bob.status_post(f"@alice fråga {n}") for n in range(3)]
    connection = connect(mastodon)
    assert harvest_run(connection).status == "ok"
    # The oldest mention is the third in line (held items are re-checked newest first).
    bob.status_delete(mentions[0]["id"])
    found = []
    for _ in range(3):
        connection.refresh_from_db()
        report = harvest_run(connection)
        assert report.status == "ok", report.error
        found.append(report.deletions)
    assert sum(found) == 1 and found[0] == 0
    assert deleted(mentions[0]["uri"])
    assert "recheck_offset" in Connection.objects.get().cursor
