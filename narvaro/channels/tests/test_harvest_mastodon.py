"""Harvesting a Mastodon account over real HTTP from mastodon-mock, with gap accounting.

The world every test starts from (`world`): alice is the organisation's account; she posts,
edits, attaches an image with alt text and answers a DM; bob replies, mentions her and
sends a DM; carol answers bob in alice's thread without mentioning her.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from narvaro.archive.models import Item, ItemEvent, ItemVersion, VersionMedia
from narvaro.channels.connectors.base import RetryPolicy
from narvaro.channels.harvest import harvest_due, harvest_run
from narvaro.channels.models import CaptureGap, Connection
from narvaro.channels.tests.conftest import MastodonServer
from narvaro.channels.tokens import decrypt_credentials
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import make_person, make_unit

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


class Rollback(Exception):
    pass


def world(m: MastodonServer) -> dict[str, Any]:
    alice, bob, carol = m.client("alice_token"), m.client("bob_token"), m.client("carol_token")
    media = alice.media_post(PNG, mime_type="image/png", description="Läsesalen i morgonljus")
    p1 = alice.status_post("Biblioteket öppnar kl 10")
    p2 = alice.status_post("Nya läsesalen", media_ids=[media["id"]])
    alice.status_update(p1["id"], "Biblioteket öppnar kl 9")
    reply = bob.status_post("@alice Även på lördag?", in_reply_to_id=p1["id"])
    thread = carol.status_post("@bob ja, står på webben", in_reply_to_id=reply["id"])
    mention = bob.status_post("Tack @alice för hjälpen")
    dm = bob.status_post("@alice Mitt lånekort är spärrat", visibility="direct")
    answer = alice.status_post("@bob Vi hör av oss", visibility="direct", in_reply_to_id=dm["id"])
    return {
        "p1": p1,
        "p2": p2,
        "reply": reply,
        "thread": thread,
        "mention": mention,
        "dm": dm,
        "answer": answer,
    }


def run(*args: str) -> Any:
    out = io.StringIO()
    call_command("channels", *args, stdout=out)
    return json.loads(out.getvalue())


def connect(m: MastodonServer, token: str = "alice_token") -> Connection:
    make_unit("kultur") if not _unit_exists("kultur") else None
    ref = run("connect", "mastodon", m.url, f"--token={token}", "--unit", "kultur", "--json")
    assert ref == {"account": "mastodon:@alice@mock.local"}
    return Connection.objects.select_related("account").get(account__handle="@alice@mock.local")


def _unit_exists(slug: str) -> bool:
    from narvaro.organisation.models import Unit

    return Unit.objects.filter(slug=slug).exists()


def no_sleep() -> tuple[RetryPolicy, list[float]]:
    waits: list[float] = []
    return RetryPolicy(sleep=waits.append, max_wait=30.0), waits


def snapshot() -> dict[str, Any]:
    """The archive's content, independent of when things were recorded."""
    out: dict[str, Any] = {}
    for item in Item.objects.order_by("remote_id"):
        versions = list(
            ItemVersion.objects.filter(item=item).order_by("number").values_list("content_digest")
        )
        out[item.remote_id] = {
            "kind": item.kind,
            "direction": item.direction,
            "parent": item.parent_remote_id,
            "author": item.author_handle,
            "versions": [v[0] for v in versions],
            "events": sorted(ItemEvent.objects.filter(item=item).values_list("type", flat=True)),
        }
    return out


def test_connect_stores_the_token_encrypted_and_logs_it(mastodon: MastodonServer) -> None:
    connection = connect(mastodon)
    assert "alice_token" not in connection.credentials_encrypted
    assert decrypt_credentials(connection.credentials_encrypted) == {"access_token": "alice_token"}
    assert connection.status == Connection.Status.ACTIVE
    event = AuditEvent.objects.get(summary="platform token connected")
    assert "alice_token" not in json.dumps(event.changes)


def test_connect_refuses_a_bad_token_and_stores_nothing(mastodon: MastodonServer) -> None:
    from django.core.management.base import CommandError

    make_unit("kultur")
    with pytest.raises(CommandError, match="refused the credentials"):
        run("connect", "mastodon", mastodon.url, "--token", "nope", "--unit", "kultur", "--json")
    assert not Connection.objects.exists()


def test_harvest_captures_everything_once(mastodon: MastodonServer) -> None:
    w = world(mastodon)
    connect(mastodon)
    first = run("harvest", "mastodon:@alice@mock.local", "--json")
    assert first["status"] == "ok"
    assert first["items"] == 7
    # p1 has its original and its edit; everything else one version.
    assert first["versions"] == 8
    assert first["media"] == 1
    assert first["gaps"] == 0
    kinds = {i.remote_id: (i.kind, i.direction) for i in Item.objects.all()}
    assert kinds[w["p1"]["uri"]] == ("post", "drawn_up")
    assert kinds[w["reply"]["uri"]] == ("reply", "received")
    assert kinds[w["thread"]["uri"]] == ("reply", "received")
    assert kinds[w["mention"]["uri"]] == ("mention", "received")
    assert kinds[w["dm"]["uri"]] == ("dm", "received")
    assert kinds[w["answer"]["uri"]] == ("dm", "drawn_up")
    p1 = Item.objects.get(remote_id=w["p1"]["uri"])
    assert [v.text for v in p1.versions.order_by("number")] == [
        "Biblioteket öppnar kl 10",
        "Biblioteket öppnar kl 9",
    ]
    reply = Item.objects.get(remote_id=w["reply"]["uri"])
    assert reply.parent_remote_id == w["p1"]["uri"]
    attachment = VersionMedia.objects.get(version__item__remote_id=w["p2"]["uri"])
    assert attachment.alt_text == "Läsesalen i morgonljus"
    assert not attachment.missing
    assert attachment.media is not None and attachment.media.size == len(PNG)

    second = run("harvest", "mastodon:@alice@mock.local", "--json")
    assert (second["items"], second["versions"], second["deletions"], second["media"]) == (
        0,
        0,
        0,
        0,
    )
    connection = Connection.objects.get()
    assert connection.last_success_at is not None
    assert connection.cursor["statuses"] == str(w["answer"]["id"])


def test_later_edits_deletions_and_new_posts_are_picked_up(mastodon: MastodonServer) -> None:
    w = world(mastodon)
    connection = connect(mastodon)
    harvest_run(connection)
    alice, bob = mastodon.client("alice_token"), mastodon.client("bob_token")
    alice.status_update(w["p2"]["id"], "Nya läsesalen är öppen", media_ids=None)
    alice.status_update(w["p2"]["id"], "Nya läsesalen är öppen nu")
    bob.status_delete(w["mention"]["id"])
    alice.status_delete(w["p1"]["id"])
    fresh = alice.status_post("Stängt på midsommar")
    report = harvest_run(connection)
    assert report.status == "ok", report.error
    assert report.items == 1
    assert report.deletions == 2
    texts = list(
        ItemVersion.objects.filter(item__remote_id=w["p2"]["uri"])
        .order_by("number")
        .values_list("text", flat=True)
    )
    assert texts[-2:] == ["Nya läsesalen är öppen", "Nya läsesalen är öppen nu"]
    deleted = set(
        ItemEvent.objects.filter(type="deleted").values_list("item__remote_id", flat=True)
    )
    assert deleted == {w["mention"]["uri"], w["p1"]["uri"]}
    assert Item.objects.filter(remote_id=fresh["uri"]).exists()
    # The deletions are recorded once, however often the recheck sees them gone.
    again = harvest_run(connection)
    assert (again.items, again.versions, again.deletions) == (0, 0, 0)


def test_harvest_under_faults_ends_with_the_same_archive(mastodon: MastodonServer) -> None:
    world(mastodon)
    connection = connect(mastodon)
    with pytest.raises(Rollback), transaction.atomic():
        assert harvest_run(connection).status == "ok"
        clean = snapshot()
        raise Rollback
    assert not Item.objects.exists()
    connection.refresh_from_db()
    # Transient faults on every kind of request (5xx, unreadable JSON, 429 with Retry-After,
    # a request that hangs past the timeout): each retried within the harvest.
    mastodon.fault({"type": "status", "status": 500}, path_regex=r"/statuses$", count=2)
    mastodon.fault({"type": "status", "status": 503}, path="/api/v1/notifications", count=1)
    mastodon.fault({"type": "malformed"}, path_regex=r"^/api/v1/conversations/?$", count=1)
    mastodon.fault(
        {"type": "ratelimit", "headers": {"Retry-After": "2"}}, path_regex=r"/context$", count=1
    )
    mastodon.fault(
        {"type": "timeout", "delay_ms": 8000}, path_regex=r"^/api/v1/conversations/?$", count=1
    )
    policy, waits = no_sleep()
    # The timeout leaves room for an ordinary request on a loaded CI machine; the hung one
    # (8 s) still passes it.
    report = harvest_run(connection, policy=policy, timeout=2.5)
    assert report.status == "ok", report.error
    assert mastodon.faults() == []  # every injected fault fired
    assert report.retries >= 6
    assert min(w for w in waits if w >= 2) >= 2  # the Retry-After was honoured
    assert snapshot() == clean
    assert not CaptureGap.objects.exists()


def test_outage_opens_a_gap_and_the_backfill_closes_it(mastodon: MastodonServer) -> None:
    world(mastodon)
    connection = connect(mastodon)
    with pytest.raises(Rollback), transaction.atomic():
        harvest_run(connection)
        clean = snapshot()
        raise Rollback
    connection.refresh_from_db()
    # The instance is down for longer than the harvest's retry budget.
    mastodon.fault({"type": "status", "status": 502}, path_regex=r"^/api/v1/accounts/\d+/statuses")
    policy, waits = no_sleep()
    report = harvest_run(connection, policy=policy)
    assert report.status == "failed"
    assert report.gaps == 1
    assert sum(waits) <= policy.max_wait
    assert len(waits) <= policy.attempts  # bounded: no retry storm
    gap = CaptureGap.objects.get()
    assert (gap.status, gap.reason) == ("open", "unavailable")
    connection.refresh_from_db()
    assert connection.consecutive_failures == 1
    assert connection.next_run_at is not None and connection.next_run_at > timezone.now()
    # A second failure extends the same window rather than opening another.
    harvest_run(connection, policy=no_sleep()[0])
    gap.refresh_from_db()
    assert gap.failures == 2 and CaptureGap.objects.count() == 1
    connection.refresh_from_db()
    assert connection.consecutive_failures == 2

    mastodon.clear_faults()
    report = harvest_run(connection, policy=no_sleep()[0])
    assert report.status == "ok"
    assert report.gaps == 0 and report.gaps_recovered == 1
    gap.refresh_from_db()
    assert gap.status == "recovered" and gap.end is not None
    assert snapshot() == clean


def test_rate_limit_past_the_budget_reschedules_after_reset(mastodon: MastodonServer) -> None:
    world(mastodon)
    connection = connect(mastodon)
    mastodon.fault(
        {"type": "ratelimit", "headers": {"Retry-After": "600"}},
        path="/api/v1/accounts/verify_credentials",
    )
    policy, waits = no_sleep()
    before = timezone.now()
    report = harvest_run(connection, policy=policy)
    assert report.status == "failed"
    assert waits == []  # no request spent waiting out a 10-minute limit
    gap = CaptureGap.objects.get()
    assert gap.reason == "rate_limited"
    connection.refresh_from_db()
    assert connection.next_run_at is not None
    assert (connection.next_run_at - before).total_seconds() >= 600


def test_revoked_token_is_flagged_at_once_and_reconnect_keeps_history(
    mastodon: MastodonServer, settings: Any
) -> None:
    settings.NARVARO_BASE_URL = "https://narvaro.example.se"
    world(mastodon)
    connection = connect(mastodon)
    rita = make_person("rita")
    connection.account.responsible.add(rita)
    harvest_run(connection)
    before = snapshot()
    mastodon.revoke("alice_token")
    mastodon.client("bob_token").status_post("@alice Hallå?")
    report = harvest_run(connection)
    assert report.status == "reconnect_needed"
    connection.refresh_from_db()
    assert connection.status == Connection.Status.RECONNECT
    gap = CaptureGap.objects.get()
    assert (gap.reason, gap.status) == ("auth", "open")
    assert AuditEvent.objects.filter(summary="platform token refused: reconnect needed").exists()
    assert [m.to for m in mail.outbox] == [["rita@example.org"]]
    assert "reconnect" in mail.outbox[0].subject.lower()
    (message,) = mail.outbox
    assert message.subject == "Narvaro: mastodon:@alice@mock.local must be reconnected"
    capture_page = f"https://narvaro.example.se/accounts/{connection.account.pk}/capture/"
    assert f"Reconnect the account on its capture page in Narvaro: {capture_page}" in message.body
    # No further attempts (no storm against a dead token) until someone reconnects.
    assert harvest_due(timezone.now() + timezone.timedelta(days=1)) == []
    assert harvest_run(connection).status == "reconnect_needed"

    token = mastodon.new_token("alice")
    run("connect", "mastodon", mastodon.url, f"--token={token}", "--json")
    connection.refresh_from_db()
    assert connection.status == Connection.Status.ACTIVE
    assert AuditEvent.objects.filter(summary="platform token replaced (reconnect)").exists()
    report = harvest_run(connection)
    assert report.status == "ok"
    assert report.items == 1  # only bob's new mention: the history was kept, nothing repeated
    after = snapshot()
    assert {k: v for k, v in after.items() if k in before} == before
    gap.refresh_from_db()
    assert gap.status == "recovered"


def test_a_gap_beyond_the_platforms_reach_is_lost(mastodon: MastodonServer) -> None:
    from narvaro.channels.connectors.mastodon import MastodonConnector

    world(mastodon)
    connection = connect(mastodon)
    mastodon.fault({"type": "status", "status": 500}, path="/api/v1/accounts/verify_credentials")
    harvest_run(connection, policy=no_sleep()[0])
    CaptureGap.objects.update(start=timezone.now() - timezone.timedelta(days=30))
    mastodon.clear_faults()
    MastodonConnector.reach_back = timezone.timedelta(days=7)
    try:
        report = harvest_run(connection)
    finally:
        MastodonConnector.reach_back = None
    assert report.gaps_lost == 1
    assert CaptureGap.objects.get().status == "lost"


def test_the_scheduler_claims_each_due_connection_once(mastodon: MastodonServer) -> None:
    connection = connect(mastodon)
    now = timezone.now()
    assert harvest_due(now) == [connection.pk]
    assert harvest_due(now) == []  # claimed: the next run moved forward
    connection.refresh_from_db()
    assert connection.next_run_at is not None and connection.next_run_at > now


def test_the_reconnect_mail_is_in_the_organisations_language(
    mastodon: MastodonServer, settings: Any
) -> None:
    settings.LANGUAGE_CODE = "sv"
    settings.NARVARO_BASE_URL = "https://narvaro.example.se"
    world(mastodon)
    connection = connect(mastodon)
    connection.account.responsible.add(make_person("rita"))
    harvest_run(connection)
    mastodon.revoke("alice_token")
    assert harvest_run(connection).status == "reconnect_needed"
    (message,) = mail.outbox
    assert message.subject == "Narvaro: mastodon:@alice@mock.local måste anslutas igen"
    assert "plattformen avvisade kontots token" in message.body
    assert "Inget av det som redan har samlats in går förlorat" in message.body
    capture_page = f"https://narvaro.example.se/accounts/{connection.account.pk}/capture/"
    assert f"Anslut kontot igen på dess insamlingssida i Narvaro: {capture_page}" in message.body
