"""The Bluesky connector over real HTTP against a local PDS (tests/servers, `bluesky_pds`).

Every test makes its own accounts on the session's PDS, connects one of them with an app
password through `narvaro channels connect bluesky`, and harvests with `narvaro channels
harvest`, as an operator would. Records are written to the PDS directly over XRPC
(createRecord, putRecord, deleteRecord), the way the Bluesky app writes them.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from typing import Any

import pytest
import requests
from django.core.management import call_command

from narvaro.archive.models import Item, ItemEvent, ItemVersion, VersionMedia
from narvaro.channels import actions
from narvaro.channels.connectors.base import MediaDraft, NotSupported, PostDraft, RetryPolicy
from narvaro.channels.connectors.bluesky import BlueskyConnector
from narvaro.channels.harvest import harvest_run
from narvaro.channels.models import CaptureGap, Connection, PlatformAction
from narvaro.channels.tests.bluesky_pds import LocalPds, PdsAccount, _free_port
from narvaro.channels.tests.bluesky_pds import bluesky_pds as bluesky_pds
from narvaro.lib.testing import make_unit

pytestmark = pytest.mark.django_db

POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
WHEN = "2026-11-20T09:00:00.000Z"


@pytest.fixture(autouse=True)
def _no_appview(settings: Any) -> None:
    """The local PDS has no AppView, so there are no notifications to read (see the ADR)."""
    settings.NARVARO_BLUESKY_NOTIFICATIONS = False


def run(*args: str) -> Any:
    out = io.StringIO()
    # `harvest` exits 1 when the harvest failed; the JSON says how.
    with contextlib.suppress(SystemExit):
        call_command("channels", *args, stdout=out)
    return json.loads(out.getvalue())


def connect(pds: LocalPds, account: PdsAccount, app_password: str) -> Connection:
    if not _unit_exists("kommunikation"):
        make_unit("kommunikation")
    ref = run(
        "connect",
        "bluesky",
        pds.url,
        "--handle",
        account.handle,
        "--app-password",
        app_password,
        "--unit",
        "kommunikation",
        "--json",
    )
    assert ref == {"account": f"bluesky:{account.handle}"}
    return Connection.objects.select_related("account").get(account__handle=account.handle)


def harvest(account: PdsAccount) -> dict[str, Any]:
    return dict(run("harvest", f"bluesky:{account.handle}", "--json"))


def _unit_exists(slug: str) -> bool:
    from narvaro.organisation.models import Unit

    return Unit.objects.filter(slug=slug).exists()


def post(pds: LocalPds, account: PdsAccount, text: str, **extra: Any) -> dict[str, Any]:
    record = {"$type": POST, "text": text, "createdAt": WHEN, **extra}
    return pds.create_record(account, POST, record)


def upload(pds: LocalPds, account: PdsAccount, content: bytes) -> dict[str, Any]:
    response = requests.post(
        f"{pds.url}/xrpc/com.atproto.repo.uploadBlob",
        data=content,
        headers={"Authorization": f"Bearer {account.access_jwt}", "Content-Type": "image/png"},
        timeout=30,
    )
    response.raise_for_status()
    return dict(response.json()["blob"])


def rkey(uri: str) -> str:
    return uri.rsplit("/", 1)[1]


def world(pds: LocalPds) -> dict[str, Any]:
    """alice (the organisation) posts, posts an image, replies to herself and reposts bob."""
    alice, bob = pds.create_account("alice"), pds.create_account("bob")
    blob = upload(pds, alice, PNG)
    p1 = post(pds, alice, "Biblioteket öppnar kl 10", langs=["sv"])
    p2 = post(
        pds,
        alice,
        "Nya läsesalen",
        embed={
            "$type": "app.bsky.embed.images",
            "images": [{"alt": "Läsesalen i morgonljus", "image": blob}],
        },
    )
    ref = {"uri": p1["uri"], "cid": p1["cid"]}
    own_reply = post(pds, alice, "Även på lördagar", reply={"root": ref, "parent": ref})
    by_bob = post(pds, bob, "Bra initiativ")
    repost = pds.create_record(
        alice,
        REPOST,
        {
            "$type": REPOST,
            "subject": {"uri": by_bob["uri"], "cid": by_bob["cid"]},
            "createdAt": WHEN,
        },
    )
    # Not archive items: a like and a follow are counted by the importer, not stored.
    pds.create_record(
        alice,
        "app.bsky.feed.like",
        {"$type": "app.bsky.feed.like", "subject": ref, "createdAt": WHEN},
    )
    pds.create_record(
        alice,
        "app.bsky.graph.follow",
        {"$type": "app.bsky.graph.follow", "subject": bob.did, "createdAt": WHEN},
    )
    return {
        "alice": alice,
        "bob": bob,
        "p1": p1,
        "p2": p2,
        "own_reply": own_reply,
        "by_bob": by_bob,
        "repost": repost,
    }


def test_harvest_captures_every_record_once_and_a_repeat_adds_nothing(
    bluesky_pds: LocalPds,
) -> None:
    w = world(bluesky_pds)
    alice = w["alice"]
    connection = connect(bluesky_pds, alice, bluesky_pds.app_password(alice))
    assert connection.platform_account_id == alice.did

    first = harvest(alice)
    assert first["status"] == "ok", first
    assert (first["items"], first["versions"], first["deletions"], first["gaps"]) == (4, 4, 0, 0)
    assert first["media"] == 1

    items = {i.remote_id: i for i in Item.objects.filter(account=connection.account)}
    assert set(items) == {w[k]["uri"] for k in ("p1", "p2", "own_reply", "repost")}
    assert items[w["p1"]["uri"]].kind == "post"
    assert items[w["own_reply"]["uri"]].kind == "reply"
    assert items[w["own_reply"]["uri"]].parent_remote_id == w["p1"]["uri"]
    assert items[w["repost"]["uri"]].kind == "share"
    assert items[w["repost"]["uri"]].parent_remote_id == w["by_bob"]["uri"]
    assert items[w["p1"]["uri"]].versions.get().text == "Biblioteket öppnar kl 10"
    attachment = VersionMedia.objects.select_related("media").get(
        version__item=items[w["p2"]["uri"]]
    )
    assert attachment.alt_text == "Läsesalen i morgonljus"
    assert not attachment.missing
    assert attachment.media is not None
    assert attachment.media.sha256 == hashlib.sha256(PNG).hexdigest()

    # Nothing changed on the PDS: the repository's rev is the cursor, nothing is re-read.
    second = harvest(alice)
    assert (second["items"], second["versions"], second["deletions"]) == (0, 0, 0)
    assert Item.objects.filter(account=connection.account).count() == 4

    # One new post: only what changed since the cursor's revision is read and stored.
    p3 = post(bluesky_pds, alice, "Stängt på midsommarafton")
    third = harvest(alice)
    assert (third["items"], third["versions"], third["duplicates_skipped"]) == (1, 1, 0)
    assert Item.objects.filter(account=connection.account, remote_id=p3["uri"]).exists()


def test_a_put_record_is_a_new_version_and_a_delete_record_a_deletion(
    bluesky_pds: LocalPds,
) -> None:
    w = world(bluesky_pds)
    alice = w["alice"]
    connect(bluesky_pds, alice, bluesky_pds.app_password(alice))
    harvest(alice)

    bluesky_pds.put_record(
        alice,
        POST,
        rkey(w["p1"]["uri"]),
        {"$type": POST, "text": "Biblioteket öppnar kl 9", "createdAt": WHEN, "langs": ["sv"]},
    )
    edited = harvest(alice)
    assert (edited["items"], edited["versions"], edited["deletions"]) == (0, 1, 0)
    texts = list(
        ItemVersion.objects.filter(item__remote_id=w["p1"]["uri"])
        .order_by("number")
        .values_list("text", flat=True)
    )
    assert texts == ["Biblioteket öppnar kl 10", "Biblioteket öppnar kl 9"]

    bluesky_pds.delete_record(alice, POST, rkey(w["own_reply"]["uri"]))
    deleted = harvest(alice)
    assert (deleted["items"], deleted["versions"], deleted["deletions"]) == (0, 0, 1)
    event = ItemEvent.objects.get(item__remote_id=w["own_reply"]["uri"])
    assert event.type == ItemEvent.Type.DELETED
    # The deleted record keeps its archived version.
    assert ItemVersion.objects.filter(item__remote_id=w["own_reply"]["uri"]).count() == 1

    again = harvest(alice)
    assert (again["items"], again["versions"], again["deletions"]) == (0, 0, 0)
    assert ItemEvent.objects.filter(type=ItemEvent.Type.DELETED).count() == 1


def test_publish_with_image_sends_alt_text_and_archives_the_post_as_drawn_up(
    bluesky_pds: LocalPds,
) -> None:
    alice = bluesky_pds.create_account("alice")
    connection = connect(bluesky_pds, alice, bluesky_pds.app_password(alice))
    draft = PostDraft(
        text="Ny utställning i foajén",
        media=(MediaDraft(content=PNG, content_type="image/png", alt_text="Tavlor på en vägg"),),
        language="sv",
    )
    action = actions.publish(actor=None, connection=connection, draft=draft)
    assert action.status == PlatformAction.Status.SENT, action.error
    uri = action.remote_id

    # What the PDS holds: the text, the language and the image with its alt text.
    on_pds = bluesky_pds.get_record(alice.did, POST, rkey(uri))["value"]
    assert on_pds["text"] == "Ny utställning i foajén"
    assert on_pds["langs"] == ["sv"]
    image = on_pds["embed"]["images"][0]
    assert image["alt"] == "Tavlor på en vägg"
    blob = requests.get(
        f"{bluesky_pds.url}/xrpc/com.atproto.sync.getBlob",
        params={"did": alice.did, "cid": image["image"]["ref"]["$link"]},
        timeout=30,
    )
    assert blob.content == PNG

    # What the archive holds: the same post, the file as sent and its alt text.
    item = Item.objects.get(remote_id=uri)
    version = item.versions.get()
    assert (item.kind, item.direction, version.text) == ("post", "drawn_up", draft.text)
    attachment = VersionMedia.objects.select_related("media").get(version=version)
    assert attachment.alt_text == "Tavlor på en vägg"
    assert attachment.media is not None
    assert attachment.media.sha256 == hashlib.sha256(PNG).hexdigest()

    # The harvest finds exactly that post: nothing new, no second version.
    report = harvest(alice)
    assert (report["items"], report["versions"], report["duplicates_skipped"]) == (0, 0, 1)

    # A free-text content warning has no Bluesky equivalent: failed, nothing is sent.
    warned = actions.publish(
        actor=None,
        connection=connection,
        draft=PostDraft(text="Om en olycka", content_warning="Olycka"),
    )
    assert warned.status == PlatformAction.Status.FAILED
    assert warned.error.startswith("NotSupported")
    assert Item.objects.filter(account=connection.account).count() == 1


def test_reply_and_delete_own_post(bluesky_pds: LocalPds) -> None:
    alice, bob = bluesky_pds.create_account("alice"), bluesky_pds.create_account("bob")
    question = post(bluesky_pds, bob, "Öppnar ni på lördag?")
    connection = connect(bluesky_pds, alice, bluesky_pds.app_password(alice))

    answer = actions.reply(
        actor=None,
        connection=connection,
        parent_remote_id=question["uri"],
        draft=PostDraft(text="Ja, kl 10–14"),
    )
    assert answer.status == PlatformAction.Status.SENT, answer.error
    record = bluesky_pds.get_record(alice.did, POST, rkey(answer.remote_id))["value"]
    assert record["reply"]["parent"] == {"uri": question["uri"], "cid": question["cid"]}
    assert record["reply"]["root"] == {"uri": question["uri"], "cid": question["cid"]}
    assert Item.objects.get(remote_id=answer.remote_id).parent_remote_id == question["uri"]

    removed = actions.delete(actor=None, connection=connection, remote_id=answer.remote_id)
    assert removed.status == PlatformAction.Status.SENT, removed.error
    gone = requests.get(
        f"{bluesky_pds.url}/xrpc/com.atproto.repo.getRecord",
        params={"repo": alice.did, "collection": POST, "rkey": rkey(answer.remote_id)},
        timeout=30,
    )
    assert gone.status_code == 400
    assert ItemEvent.objects.get(item__remote_id=answer.remote_id).type == "deleted"

    # Someone else's post cannot be deleted: refused and recorded as failed.
    refused = actions.delete(actor=None, connection=connection, remote_id=question["uri"])
    assert refused.status == PlatformAction.Status.FAILED
    assert "not this account's own record" in refused.error


def test_hide_reply_writes_the_threadgate(bluesky_pds: LocalPds) -> None:
    alice, bob, carol = (bluesky_pds.create_account(n) for n in ("alice", "bob", "carol"))
    root = post(bluesky_pds, alice, "Frågor om bygglov tas här")
    ref = {"uri": root["uri"], "cid": root["cid"]}
    spam = post(bluesky_pds, bob, "Köp följare!", reply={"root": ref, "parent": ref})
    rude = post(bluesky_pds, carol, "Otrevligt", reply={"root": ref, "parent": ref})
    connection = connect(bluesky_pds, alice, bluesky_pds.app_password(alice))

    for reply in (spam, rude, spam):
        hidden = actions.hide_reply(actor=None, connection=connection, remote_id=reply["uri"])
        assert hidden.status == PlatformAction.Status.SENT, hidden.error
    gate = bluesky_pds.get_record(alice.did, "app.bsky.feed.threadgate", rkey(root["uri"]))
    assert gate["value"]["post"] == root["uri"]
    assert gate["value"]["hiddenReplies"] == [spam["uri"], rude["uri"]]
    assert "allow" not in gate["value"]  # hiding does not restrict who may reply

    # A reply in someone else's thread cannot be hidden by alice.
    other = post(bluesky_pds, bob, "Bobs tråd")
    other_ref = {"uri": other["uri"], "cid": other["cid"]}
    theirs = post(bluesky_pds, carol, "Svar", reply={"root": other_ref, "parent": other_ref})
    refused = actions.hide_reply(actor=None, connection=connection, remote_id=theirs["uri"])
    assert refused.status == PlatformAction.Status.FAILED
    assert "threads this account started" in refused.error


def test_block_is_a_record_and_report_fails_honestly_without_a_moderation_service(
    bluesky_pds: LocalPds,
) -> None:
    alice, troll = bluesky_pds.create_account("alice"), bluesky_pds.create_account("troll")
    connection = connect(bluesky_pds, alice, bluesky_pds.app_password(alice))

    blocked = actions.block(actor=None, connection=connection, account_id=troll.handle)
    assert blocked.status == PlatformAction.Status.SENT, blocked.error
    block = bluesky_pds.get_record(alice.did, "app.bsky.graph.block", rkey(blocked.remote_id))
    assert block["value"]["subject"] == troll.did

    # This PDS has no moderation service to forward reports to: failed, never "sent".
    reported = actions.report(
        actor=None, connection=connection, account_id=troll.did, comment="Trakasserier"
    )
    assert reported.status == PlatformAction.Status.FAILED
    assert "No service configured" in reported.error


def test_failed_publish_is_recorded_as_failed(bluesky_pds: LocalPds) -> None:
    alice = bluesky_pds.create_account("alice")
    connection = connect(bluesky_pds, alice, bluesky_pds.app_password(alice))
    draft = PostDraft(text="Detta når aldrig fram")

    # The PDS does not answer at all (nothing listens on the port): failed after retries.
    waits: list[float] = []
    down = BlueskyConnector(
        base_url=f"http://127.0.0.1:{_free_port()}",
        credentials={"handle": alice.handle, "app_password": "x"},
        policy=RetryPolicy(sleep=waits.append),
        timeout=2,
    )
    failed = actions.action_perform(
        actor=None,
        connection=connection,
        action="publish",
        run=lambda c: c.publish(draft),
        connector=down,
    )
    assert failed.status == PlatformAction.Status.FAILED
    assert failed.error.startswith("Unavailable")
    assert len(waits) == 3  # backed off between attempts, then gave up

    # The app password was revoked: failed, and the connection must be reconnected.
    bluesky_pds.revoke_app_password(alice)
    refused = actions.publish(actor=None, connection=connection, draft=draft)
    assert refused.status == PlatformAction.Status.FAILED
    assert refused.error.startswith("AuthError")
    connection.refresh_from_db()
    assert connection.status == Connection.Status.RECONNECT
    assert not Item.objects.filter(account=connection.account).exists()
    assert not PlatformAction.objects.filter(status=PlatformAction.Status.SENT).exists()


def test_a_revoked_app_password_flags_the_connection_and_reconnecting_backfills(
    bluesky_pds: LocalPds,
) -> None:
    alice = bluesky_pds.create_account("alice")
    post(bluesky_pds, alice, "Före")
    connection = connect(bluesky_pds, alice, bluesky_pds.app_password(alice))
    assert harvest(alice)["items"] == 1

    bluesky_pds.revoke_app_password(alice)
    during = post(bluesky_pds, alice, "Under avbrottet")
    flagged = harvest(alice)
    assert flagged["status"] == "reconnect_needed"
    assert flagged["gaps"] == 1
    connection.refresh_from_db()
    assert connection.status == Connection.Status.RECONNECT
    gap = CaptureGap.objects.get(account=connection.account)
    assert (gap.reason, gap.status) == (CaptureGap.Reason.AUTH, CaptureGap.Status.OPEN)

    # Reconnecting with a new app password keeps the history and back-fills the window.
    connect(bluesky_pds, alice, bluesky_pds.app_password(alice, name="narvaro-2"))
    recovered = harvest(alice)
    assert recovered["status"] == "ok", recovered
    assert (recovered["items"], recovered["gaps"], recovered["gaps_recovered"]) == (1, 0, 1)
    assert Item.objects.filter(account=connection.account).count() == 2
    assert Item.objects.filter(remote_id=during["uri"]).exists()
    gap.refresh_from_db()
    assert gap.status == CaptureGap.Status.RECOVERED


def test_wrong_app_password_is_refused_at_connect(bluesky_pds: LocalPds) -> None:
    from django.core.management.base import CommandError

    alice = bluesky_pds.create_account("alice")
    make_unit("kommunikation")
    with pytest.raises(CommandError, match="refused the credentials"):
        call_command(
            "channels",
            "connect",
            "bluesky",
            bluesky_pds.url,
            "--handle",
            alice.handle,
            "--app-password",
            "fel-lösenord",
            "--unit",
            "kommunikation",
        )
    assert not Connection.objects.exists()


def test_appview_reads_are_not_supported_by_a_pds_without_appview(
    bluesky_pds: LocalPds,
) -> None:
    alice = bluesky_pds.create_account("alice")
    waits: list[float] = []
    connector = BlueskyConnector(
        base_url=bluesky_pds.url,
        credentials={"handle": alice.handle, "app_password": bluesky_pds.app_password(alice)},
        policy=RetryPolicy(sleep=waits.append),
    )
    with pytest.raises(NotSupported, match="No service configured"):
        connector.fetch_profile(alice.handle)
    with pytest.raises(NotSupported, match="No service configured"):
        connector.search_accounts("alice")
    assert waits == []  # a refusal is not retried
    # With notifications on, a harvest cannot pretend it read them: it fails, so the
    # machinery records a capture gap instead of silently missing replies by others.
    reading = BlueskyConnector(
        base_url=bluesky_pds.url,
        credentials={"handle": alice.handle, "app_password": bluesky_pds.app_password(alice, "b")},
        policy=RetryPolicy(sleep=waits.append),
        read_notifications=True,
    )
    with pytest.raises(NotSupported, match="listNotifications"):
        list(reading.harvest({}))


def test_an_unreachable_pds_opens_a_gap_that_the_next_harvest_closes(
    bluesky_pds: LocalPds,
) -> None:
    alice = bluesky_pds.create_account("alice")
    post(bluesky_pds, alice, "Före")
    connection = connect(bluesky_pds, alice, bluesky_pds.app_password(alice))
    assert harvest(alice)["items"] == 1

    # The PDS stops answering (nothing listens at the address any more).
    Connection.objects.filter(pk=connection.pk).update(base_url=f"http://127.0.0.1:{_free_port()}")
    during = post(bluesky_pds, alice, "Under avbrottet")
    waits: list[float] = []
    connection.refresh_from_db()
    failed = harvest_run(connection, policy=RetryPolicy(sleep=waits.append))
    assert (failed.status, failed.gaps) == ("failed", 1)
    assert len(waits) == 3  # backed off, then gave up: no retry storm
    gap = CaptureGap.objects.get(account=connection.account)
    assert (gap.reason, gap.status) == (CaptureGap.Reason.UNAVAILABLE, CaptureGap.Status.OPEN)
    connection.refresh_from_db()
    assert connection.status == Connection.Status.ACTIVE
    assert connection.next_run_at is not None and connection.next_run_at > gap.start

    # It answers again: the next harvest back-fills the window and closes the gap.
    Connection.objects.filter(pk=connection.pk).update(base_url=bluesky_pds.url)
    connection.refresh_from_db()
    recovered = harvest_run(connection)
    assert (recovered.status, recovered.items, recovered.gaps_recovered) == ("ok", 1, 1)
    assert Item.objects.filter(remote_id=during["uri"]).exists()
    gap.refresh_from_db()
    assert gap.status == CaptureGap.Status.RECOVERED
