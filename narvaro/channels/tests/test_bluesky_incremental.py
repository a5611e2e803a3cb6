"""Bluesky: incremental harvests (`getRepo?since=`) and rate limits, against the local PDS.

The rate-limit tests put a small real HTTP proxy between the connector and the PDS. It
forwards every request and answers one chosen XRPC method once with HTTP 429 and the
headers the PDS's own rate limiter sends (RateLimit-Limit/-Remaining/-Reset/-Policy and
Retry-After). It drops `didDoc` from the session answer, so the SDK keeps talking to the
proxy instead of following the PDS address the DID document names.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from narvaro.archive.models import Item, ItemEvent, VersionMedia
from narvaro.channels.connectors.base import RateLimited, RetryPolicy
from narvaro.channels.connectors.bluesky import BlueskyConnector
from narvaro.channels.harvest import harvest_run
from narvaro.channels.models import CaptureGap, Connection
from narvaro.channels.tests.bluesky_pds import LocalPds
from narvaro.channels.tests.bluesky_pds import bluesky_pds as bluesky_pds
from narvaro.channels.tests.test_connector_bluesky import (
    PNG,
    POST,
    WHEN,
    connect,
    harvest,
    post,
    rkey,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_appview(settings: Any) -> None:
    settings.NARVARO_BLUESKY_NOTIFICATIONS = False


def listing(pds: LocalPds, did: str) -> set[str]:
    """Every post key the PDS lists now (listRecords, all pages)."""
    keys: set[str] = set()
    cursor = None
    while True:
        params: dict[str, Any] = {"repo": did, "collection": POST, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = requests.get(
            f"{pds.url}/xrpc/com.atproto.repo.listRecords", params=params, timeout=30
        ).json()
        keys.update(f"p/{rkey(r['uri'])}" for r in page["records"])
        cursor = page.get("cursor")
        if not page["records"] or not cursor:
            return keys


def test_deleting_the_newest_post_is_found(bluesky_pds: LocalPds) -> None:
    """Deleting the record written last gives back the tree of the revision before it, whose
    nodes the PDS already holds; the diff walk fetches any node the diff does not carry
    (`getBlocks`) instead of assuming it unchanged, and the deletion is found."""
    alice = bluesky_pds.create_account("tillbaka")
    posts = [post(bluesky_pds, alice, f"Inlägg {n}") for n in range(6)]
    connect(bluesky_pds, alice, bluesky_pds.app_password(alice))
    assert harvest(alice)["items"] == 6
    bluesky_pds.delete_record(alice, POST, rkey(posts[-1]["uri"]))
    second = harvest(alice)
    assert second["status"] == "ok", second
    assert (second["items"], second["deletions"]) == (0, 1)
    deleted = ItemEvent.objects.get(type="deleted")
    assert deleted.item.remote_id == posts[-1]["uri"]


def test_later_harvests_read_only_what_changed(bluesky_pds: LocalPds) -> None:
    alice = bluesky_pds.create_account("inkr")
    # Enough posts for a tree of several levels, so changes touch some subtrees only.
    posts = [post(bluesky_pds, alice, f"Inlägg {n}") for n in range(120)]
    connection = connect(bluesky_pds, alice, bluesky_pds.app_password(alice))
    first = harvest(alice)
    assert first["status"] == "ok", first
    assert first["items"] == 120
    connection.refresh_from_db()
    full_at = connection.cursor["full_at"]

    blob = upload(bluesky_pds, alice, PNG)
    fresh = post(
        bluesky_pds,
        alice,
        "Med bild",
        embed={"$type": "app.bsky.embed.images", "images": [{"alt": "Entrén", "image": blob}]},
    )
    bluesky_pds.put_record(
        alice, POST, rkey(posts[7]["uri"]), {"$type": POST, "text": "Ändrat", "createdAt": WHEN}
    )
    for gone in (posts[3], posts[64], posts[118]):
        bluesky_pds.delete_record(alice, POST, rkey(gone["uri"]))

    connector = BlueskyConnector(
        base_url=bluesky_pds.url,
        credentials={"handle": alice.handle, "app_password": bluesky_pds.app_password(alice, "x")},
    )
    batches = list(connector.harvest(dict(connection.cursor)))
    assert connector.last_export == "diff"
    read = [c.remote_id for b in batches for c in b.captures]
    # Only the new and the changed record were read, not the 120 unchanged ones.
    assert sorted(read) == sorted([fresh["uri"], posts[7]["uri"]])
    assert sorted(e.remote_id for b in batches for e in b.events) == sorted(
        p["uri"] for p in (posts[3], posts[64], posts[118])
    )
    # The listing the diff arrived at is the PDS's own.
    assert set(batches[-1].cursor["records"].split(",")) == listing(bluesky_pds, alice.did)

    second = harvest(alice)
    assert (second["items"], second["versions"], second["deletions"]) == (1, 2, 3)
    assert second["duplicates_skipped"] == 0 and second["media"] == 1
    attachment = VersionMedia.objects.get(version__item__remote_id=fresh["uri"])
    assert attachment.alt_text == "Entrén" and not attachment.missing
    connection.refresh_from_db()
    assert connection.cursor["full_at"] == full_at

    # Once a day a full export re-anchors the listing; it finds the archive complete.
    Connection.objects.filter(pk=connection.pk).update(
        cursor={**connection.cursor, "full_at": "2020-01-01T00:00:00+00:00"}
    )
    post(bluesky_pds, alice, "En till")
    third = harvest(alice)
    assert (third["items"], third["versions"], third["deletions"]) == (1, 1, 0)
    connection.refresh_from_db()
    assert connection.cursor["full_at"] != full_at
    assert set(connection.cursor["records"].split(",")) == listing(bluesky_pds, alice.did)
    assert ItemEvent.objects.filter(type="deleted").count() == 3
    assert Item.objects.filter(account=connection.account).count() == 122


class _Proxy:
    """Forwards to the PDS; answers `method` with 429 `times` times first."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.method = ""
        self.times = 0
        self.reset_in = 2
        self.limited: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                if proxy.method and proxy.times > 0 and f"/xrpc/{proxy.method}" in self.path:
                    proxy.times -= 1
                    proxy.limited.append(self.path)
                    body = json.dumps(
                        {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
                    ).encode()
                    self.send_response(429)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("RateLimit-Limit", "3000")
                    self.send_header("RateLimit-Remaining", "0")
                    self.send_header("RateLimit-Reset", str(int(time.time()) + proxy.reset_in))
                    self.send_header("RateLimit-Policy", "3000;w=300")
                    self.send_header("Retry-After", str(proxy.reset_in))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in {"host", "content-length", "accept-encoding"}
                }
                answer = requests.request(
                    self.command,
                    proxy.target + self.path,
                    data=data,
                    headers=headers,
                    timeout=30,
                )
                content = answer.content
                if "com.atproto.server.createSession" in self.path and answer.ok:
                    session = answer.json()
                    session.pop("didDoc", None)
                    content = json.dumps(session).encode()
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in {
                        "content-length",
                        "transfer-encoding",
                        "connection",
                        "content-encoding",
                    }:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = _forward
            do_POST = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Proxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(bluesky_pds: LocalPds) -> Iterator[_Proxy]:
    with _Proxy(bluesky_pds.url) as running:
        yield running


def test_a_429_with_ratelimit_headers_is_waited_out_and_the_harvest_completes(
    bluesky_pds: LocalPds, proxy: _Proxy
) -> None:
    alice = bluesky_pds.create_account("rate")
    for n in range(3):
        post(bluesky_pds, alice, f"Inlägg {n}")
    connection = connect(bluesky_pds, alice, bluesky_pds.app_password(alice))
    Connection.objects.filter(pk=connection.pk).update(base_url=proxy.url)
    connection.refresh_from_db()
    proxy.method, proxy.times, proxy.reset_in = "com.atproto.sync.getLatestCommit", 1, 2
    waits: list[float] = []
    report = harvest_run(connection, policy=RetryPolicy(sleep=waits.append))
    assert report.status == "ok", report.error
    assert report.items == 3
    assert len(proxy.limited) == 1
    # The one wait is the PDS's: about the two seconds its headers named, not a guess.
    assert len(waits) == 1 and 1.0 <= waits[0] <= 3.0
    assert report.retries == 1
    assert not CaptureGap.objects.exists()


def test_a_429_past_the_budget_reschedules_after_the_reset(
    bluesky_pds: LocalPds, proxy: _Proxy
) -> None:
    alice = bluesky_pds.create_account("late")
    post(bluesky_pds, alice, "Inlägg")
    connection = connect(bluesky_pds, alice, bluesky_pds.app_password(alice))
    Connection.objects.filter(pk=connection.pk).update(base_url=proxy.url)
    connection.refresh_from_db()
    proxy.method, proxy.times, proxy.reset_in = "com.atproto.sync.getLatestCommit", 1, 3600
    waits: list[float] = []
    report = harvest_run(connection, policy=RetryPolicy(sleep=waits.append))
    assert report.status == "failed"
    assert waits == []  # no request spent against a limit that lasts an hour
    gap = CaptureGap.objects.get()
    assert gap.reason == "rate_limited"
    connection.refresh_from_db()
    assert connection.next_run_at is not None
    assert connection.next_run_at >= connection.last_attempt_at + dt.timedelta(seconds=3500)
    # After the reset the harvest completes and closes the window.
    Connection.objects.filter(pk=connection.pk).update(next_run_at=connection.last_attempt_at)
    connection.refresh_from_db()
    again = harvest_run(connection, policy=RetryPolicy(sleep=waits.append))
    assert again.status == "ok", again.error
    assert CaptureGap.objects.get().status == "recovered"


def test_rate_limited_takes_the_reset_when_there_is_no_retry_after() -> None:
    from atproto_client.exceptions import RateLimitExceededError
    from atproto_client.request import Response

    from narvaro.channels.connectors.bluesky import translate

    reset = int(time.time()) + 120
    response = Response(
        success=False,
        status_code=429,
        content={"error": "RateLimitExceeded"},
        headers={"ratelimit-reset": str(reset), "ratelimit-remaining": "0"},
    )
    error = translate(RateLimitExceededError(response))
    assert isinstance(error, RateLimited)
    assert 100 <= error.retry_after <= 121
