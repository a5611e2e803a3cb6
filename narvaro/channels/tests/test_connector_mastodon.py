"""The Mastodon connector's actions against mastodon-mock, and its reading of real responses.

Actions run over real HTTP against mastodon-mock. Response *shapes* come from real Mastodon:
the Mastodon.py test recordings in /work/shared/testdata/mastodon-api/cassettes are served
back over HTTP by a small replay server, and the connector reads them through Mastodon.py
exactly as it reads a live instance.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from narvaro.archive.models import Item, ItemEvent, VersionMedia
from narvaro.channels import actions
from narvaro.channels.connectors import connector_class
from narvaro.channels.connectors.base import MediaDraft, PostDraft, RateLimited, RetryPolicy
from narvaro.channels.connectors.mastodon import (
    MastodonConnector,
    profile_from,
    rate_limit_wait,
    status_capture,
)
from narvaro.channels.harvest import harvest_run
from narvaro.channels.models import Connection, PlatformAction
from narvaro.channels.tests.conftest import MastodonServer
from narvaro.channels.tests.test_harvest_mastodon import PNG, connect

CASSETTES = Path("/work/shared/testdata/mastodon-api/cassettes")
pytestmark = pytest.mark.django_db


def test_registry_names_the_mastodon_connector() -> None:
    assert connector_class("mastodon") is MastodonConnector
    with pytest.raises(KeyError):
        connector_class("myspace")


# -- actions against mastodon-mock -------------------------------------------------------------


def test_publish_with_image_sends_alt_text_and_archives_the_post(mastodon: MastodonServer) -> None:
    connection = connect(mastodon)
    draft = PostDraft(
        text="Sommarläsning för alla",
        media=(MediaDraft(content=PNG, content_type="image/png", alt_text="Barn som läser"),),
        content_warning="Lång text",
        visibility="unlisted",
        language="sv",
    )
    record = actions.publish(actor=None, connection=connection, draft=draft)
    assert record.status == PlatformAction.Status.SENT, record.error
    on_server = mastodon.client("alice_token").status(record.remote_id.rsplit("/", 1)[-1])
    assert on_server["media_attachments"][0]["description"] == "Barn som läser"
    assert on_server["spoiler_text"] == "Lång text"
    assert on_server["visibility"] == "unlisted"
    assert on_server["language"] == "sv"
    item = Item.objects.get(remote_id=record.remote_id)
    assert (item.kind, item.direction, item.visibility) == ("post", "drawn_up", "unlisted")
    version = item.versions.get()
    assert version.text == "Lång text\n\nSommarläsning för alla"
    assert version.source == "action:publish"
    media = VersionMedia.objects.get(version=version)
    assert media.alt_text == "Barn som läser" and not media.missing
    # The next harvest finds the same post and adds nothing.
    report = harvest_run(connection)
    assert (report.items, report.versions) == (0, 0)


def test_a_failed_publish_is_recorded_as_failed_not_sent(mastodon: MastodonServer) -> None:
    connection = connect(mastodon)
    mastodon.fault({"type": "status", "status": 500}, path="/api/v1/statuses", methods=["POST"])
    record = actions.publish(actor=None, connection=connection, draft=PostDraft(text="Hej"))
    assert record.status == PlatformAction.Status.FAILED
    assert "Unavailable" in record.error
    assert record.remote_id == ""
    assert not Item.objects.exists()
    # Posting is not idempotent without a key, so it was tried once, not retried.
    assert (
        mastodon.client("alice_token").account_statuses(mastodon.client("alice_token").me()["id"])
        == []
    )


def test_publish_without_alt_text_is_refused(mastodon: MastodonServer) -> None:
    connection = connect(mastodon)
    draft = PostDraft(text="Bild", media=(MediaDraft(PNG, "image/png", alt_text=" "),))
    record = actions.publish(actor=None, connection=connection, draft=draft)
    assert record.status == PlatformAction.Status.FAILED
    assert "alt text" in record.error


def test_reply_delete_block_report_and_hide(mastodon: MastodonServer) -> None:
    connection = connect(mastodon)
    bob = mastodon.client("bob_token")
    question = bob.status_post("@alice När öppnar ni?")
    harvest_run(connection)
    answer = actions.reply(
        actor=None,
        connection=connection,
        parent_remote_id=question["uri"],
        draft=PostDraft(text="@bob Klockan nio"),
    )
    assert answer.status == PlatformAction.Status.SENT, answer.error
    item = Item.objects.get(remote_id=answer.remote_id)
    assert (item.kind, item.parent_remote_id) == ("reply", question["uri"])

    deleted = actions.delete(actor=None, connection=connection, remote_id=answer.remote_id)
    assert deleted.status == PlatformAction.Status.SENT, deleted.error
    assert ItemEvent.objects.filter(item=item, type="deleted").count() == 1
    # A later harvest's recheck sees it gone too, and records nothing twice.
    assert harvest_run(connection).deletions == 0

    blocked = actions.block(actor=None, connection=connection, account_id="@bob")
    assert blocked.status == PlatformAction.Status.SENT, blocked.error
    relationship = mastodon.client("alice_token").account_relationships(bob.me()["id"])[0]
    assert relationship["blocking"] is True

    reported = actions.report(
        actor=None,
        connection=connection,
        account_id="@bob",
        remote_ids=(question["uri"],),
        comment="Trakasserier",
    )
    assert reported.status == PlatformAction.Status.SENT, reported.error
    assert reported.remote_id
    assert ItemEvent.objects.filter(item__remote_id=question["uri"], type="reported").exists()

    hidden = actions.hide_reply(actor=None, connection=connection, remote_id=question["uri"])
    assert hidden.status == PlatformAction.Status.FAILED
    assert "NotSupported" in hidden.error


def test_an_action_with_a_revoked_token_fails_and_flags_the_connection(
    mastodon: MastodonServer,
) -> None:
    connection = connect(mastodon)
    mastodon.revoke("alice_token")
    record = actions.publish(actor=None, connection=connection, draft=PostDraft(text="Hej"))
    assert record.status == PlatformAction.Status.FAILED
    connection.refresh_from_db()
    assert connection.status == Connection.Status.RECONNECT


def test_search_and_profile(mastodon: MastodonServer) -> None:
    connection = connect(mastodon)
    from narvaro.channels.harvest import connector_for

    connector = connector_for(connection)
    found = connector.search_accounts("bob")
    assert "@bob@mock.local" in {p.handle for p in found}
    profile = connector.fetch_profile("@carol")
    assert (profile.handle, profile.display_name) == ("@carol@mock.local", "Carol")


# -- real Mastodon responses, replayed over HTTP ------------------------------------------------


def interactions(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((CASSETTES / name).read_text(encoding="utf-8"))
    return list(data["interactions"])


class Replay:
    """Serves a cassette's recorded responses: the last one recorded for method + path."""

    def __init__(self, recorded: list[dict[str, Any]]) -> None:
        self.responses: dict[tuple[str, str], dict[str, Any]] = {}
        for interaction in recorded:
            request = interaction["request"]
            self.responses[(request["method"], urlsplit(request["uri"]).path.rstrip("/"))] = (
                interaction["response"]
            )
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                key = (self.command, urlsplit(self.path).path.rstrip("/"))
                response = replay.responses.get(key)
                if response is None:
                    self.send_response(404)
                    self.end_headers()
                    self.wfile.write(b'{"error":"not recorded"}')
                    return
                body = response["body"]["string"]
                data = body.encode() if isinstance(body, str) else body
                self.send_response(response["status"]["code"])
                for header, values in response["headers"].items():
                    if header.lower() in {
                        "content-length",
                        "transfer-encoding",
                        "content-encoding",
                    }:
                        continue
                    for value in values:
                        self.send_header(header, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Replay:
        self.thread.start()
        return self

    def __exit__(self, *args: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def replay_edit() -> Iterator[Replay]:
    with Replay(interactions("test_status_edit.yaml")) as server:
        yield server


def test_real_edit_history_becomes_versions(replay_edit: Replay) -> None:
    connector = MastodonConnector(base_url=replay_edit.url, credentials={"access_token": "t"})
    status = connector.call(lambda: connector.api.status("117020586180926938"))
    connector._me = profile_from(status["account"], "localhost")
    captures = connector._captures(status, history=True)
    assert [c.text for c in captures] == [
        "the best editor? why, of course it is VS Code",
        "the best editor? why, of course it is the KDE Advanced Text Editor, Kate",
    ]
    assert {c.remote_id for c in captures} == {
        "http://localhost:3000/ap/users/117020566092212359/statuses/117020586180926938"
    }
    assert all(c.direction == "drawn_up" and c.kind == "post" for c in captures)
    assert captures[0].created_at == dt.datetime(2026, 8, 1, 13, 54, 0, 505000, tzinfo=dt.UTC)


def test_real_rate_limit_headers_are_read() -> None:
    recorded = interactions("test_get_pagination_info.yaml")
    headers = {k.lower(): v[0] for k, v in recorded[0]["response"]["headers"].items()}

    class Headers(dict[str, str]):
        def get(self, key: str, default: Any = None) -> Any:
            return super().get(key.lower(), default)

    reset = dt.datetime.fromisoformat(headers["x-ratelimit-reset"].replace("Z", "+00:00"))
    assert rate_limit_wait(Headers(headers), now=reset.timestamp() - 10) == 0  # 299 left
    spent = Headers({**headers, "x-ratelimit-remaining": "0"})
    assert rate_limit_wait(spent, now=reset.timestamp() - 10) == pytest.approx(10)
    assert rate_limit_wait(Headers({**headers, "x-ratelimit-reset": "1700000100"}), now=0) == 0
    epoch = Headers({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000100"})
    assert rate_limit_wait(epoch, now=1_700_000_000) == pytest.approx(100)


def test_real_link_pagination_is_followed() -> None:
    recorded = interactions("test_get_pagination_info.yaml")
    linked = [i for i in recorded if "link" in {h.lower() for h in i["response"]["headers"]}]
    assert linked, "the recording has Link headers"
    with Replay(recorded) as server:
        connector = MastodonConnector(base_url=server.url, credentials={"access_token": "t"})
        me = connector.verify()
        page = connector.call(lambda: connector.api.account_statuses(me.platform_id, limit=5))
        info = connector.api.get_pagination_info(page, "next")
        assert info is not None and "max_id" in info


def test_real_notifications_and_conversations_map_to_captures() -> None:
    mentions = [
        json.loads(i["response"]["body"]["string"])
        for i in interactions("test_notifications_types.yaml")
        if "notifications?" in i["request"]["uri"] and i["request"]["method"] == "GET"
    ]
    notes = [n for page in mentions for n in page if n.get("type") == "mention"]
    assert notes
    for note in notes:
        me = note["status"]["mentions"][0]["id"]
        capture = status_capture(note["status"], me_id=me, instance_host="localhost")
        assert capture.direction == "received"
        assert capture.remote_id == note["status"]["uri"]
        assert capture.author_handle.startswith("@") and "@localhost" in capture.author_handle
    conversations = [
        json.loads(i["response"]["body"]["string"])
        for i in interactions("test_conversations.yaml")
        if i["request"]["uri"].endswith("/conversations/")
    ]
    last = conversations[0][0]["last_status"]
    capture = status_capture(last, me_id=last["account"]["id"], instance_host="localhost")
    assert (capture.kind, capture.visibility, capture.direction) == ("dm", "direct", "drawn_up")


def test_real_verified_at_on_profile_fields() -> None:
    body = json.loads(
        interactions("test_entity_accountfield.yaml")[0]["response"]["body"]["string"]
    )
    profile = profile_from(body, "mastodon.social")
    verified = [f for f in profile.fields if f[2] is not None]
    assert verified
    assert verified[0][2] == dt.datetime(2026, 4, 11, 12, 8, 0, 687000, tzinfo=dt.UTC)
    # A local account (acct without domain) takes the host of its profile address.
    assert profile.handle == "@halcy@icosahedron.website"


def test_retry_policy_backs_off_with_jitter_and_gives_up() -> None:
    waits: list[float] = []
    policy = RetryPolicy(attempts=4, base_delay=1, max_delay=8, max_wait=100, sleep=waits.append)
    calls = 0

    def failing() -> None:
        nonlocal calls
        calls += 1
        raise RateLimited(retry_after=0)

    with pytest.raises(RateLimited):
        policy.call(failing)
    assert calls == 4 and len(waits) == 3
    for attempt, wait in enumerate(waits, start=1):
        ceiling = min(8, 2**attempt)
        assert ceiling / 2 <= wait <= ceiling


def test_oauth_sign_in_registers_the_app_and_stores_the_token(
    mastodon: MastodonServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`connect --oauth`: the person approves on the instance and pastes the code shown."""
    import io as stdlib_io
    import re

    import requests
    from django.core.management import call_command

    from narvaro.channels.connectors import mastodon as connector_module
    from narvaro.channels.tokens import decrypt_credentials
    from narvaro.lib.testing import make_unit

    make_unit("kultur")
    started = connector_module.oauth_start

    def approve_as_alice(base_url: str, **kwargs: Any) -> tuple[dict[str, str], str]:
        client, address = started(base_url, **kwargs)
        assert address.startswith(f"{mastodon.url}/oauth/authorize?")
        # What the person does in the browser: pick the account, approve, read the code.
        page = requests.post(
            f"{mastodon.url}/oauth/authorize",
            data={"username": "alice", "client_id": client["client_id"]},
            timeout=10,
        )
        code = re.search(r"Authorization code: (\S+)</p>", page.text)
        assert code is not None
        monkeypatch.setattr("sys.stdin", stdlib_io.StringIO(code.group(1) + "\n"))
        return client, address

    monkeypatch.setattr(connector_module, "oauth_start", approve_as_alice)
    out = stdlib_io.StringIO()
    call_command(
        "channels",
        "connect",
        "mastodon",
        mastodon.url,
        "--oauth",
        "--unit",
        "kultur",
        "--json",
        stdout=out,
    )
    assert json.loads(out.getvalue()) == {"account": "mastodon:@alice@mock.local"}
    assert "Open this address" in capsys.readouterr().err
    connection = Connection.objects.get()
    credentials = decrypt_credentials(connection.credentials_encrypted)
    assert set(credentials) == {"access_token", "client_id", "client_secret"}
    assert harvest_run(connection).status == "ok"
