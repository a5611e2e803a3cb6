"""Claim: a Bluesky harvest after a small change reads only the change, not the repository.

Figure: bytes received and seconds for the connector's harvest (`BlueskyConnector.harvest`,
everything it reads: latest commit, repository, blobs) after one new post, by the
incremental path (`getRepo?since=REV`, blobs of changed records only), against the same
harvest forced to the full export (`getRepo` of the whole repository and every blob again,
as every harvest did before), on the same account of COUNT posts, IMAGES of them with an
image, on the local PDS (tests/servers). Each side runs ROUNDS times; medians are printed.
The archive itself is not written (both sides hand the same new post to it).

Run: .venv/bin/python bench/harvest_bluesky_incremental.py [COUNT] [IMAGES] [ROUNDS]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "narvaro.config.settings_test")

import django

django.setup()

import httpx  # noqa: E402
import requests  # noqa: E402

from narvaro.channels.connectors.bluesky import BlueskyConnector  # noqa: E402
from narvaro.channels.tests.bluesky_pds import _free_port, _servers  # noqa: E402

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
IMAGES = int(sys.argv[2]) if len(sys.argv) > 2 else 50
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
WHEN = "2026-11-20T09:00:00.000Z"
IMAGE = os.urandom(40_000)  # an incompressible 40 kB "photo"


class Meter:
    """Counts the bytes of every response the SDK's HTTP client receives."""

    def __init__(self) -> None:
        self.bytes = 0
        original = httpx.Client.send
        meter = self

        def send(client: httpx.Client, request: httpx.Request, **kwargs: object) -> httpx.Response:
            response = original(client, request, **kwargs)  # type: ignore[arg-type]
            response.read()
            meter.bytes += len(response.content)
            return response

        httpx.Client.send = send  # type: ignore[method-assign]


def harvest(
    pds_url: str, handle: str, password: str, cursor: dict[str, str]
) -> tuple[int, float, dict[str, str], int]:
    meter.bytes = 0
    started = time.perf_counter()
    connector = BlueskyConnector(
        base_url=pds_url,
        credentials={"handle": handle, "app_password": password},
        read_notifications=False,
    )
    captures = 0
    last: dict[str, str] = {}
    for batch in connector.harvest(cursor):
        captures += len(batch.captures)
        last = {**last, **batch.cursor}
    return meter.bytes, time.perf_counter() - started, {**cursor, **last}, captures


meter = Meter()


def main() -> None:
    ports = ["--plc-port", str(_free_port()), "--pds-port", str(_free_port())]
    with _servers(ports) as pds:
        account = pds.create_account("bench")
        password = pds.app_password(account)
        print(f"writing {COUNT} posts ({IMAGES} with a 40 kB image) …", flush=True)
        for n in range(COUNT):
            record: dict[str, object] = {
                "$type": "app.bsky.feed.post",
                "text": f"Inlägg nummer {n} om bibliotekets öppettider",
                "createdAt": WHEN,
            }
            if n < IMAGES:
                uploaded = requests.post(
                    f"{pds.url}/xrpc/com.atproto.repo.uploadBlob",
                    data=IMAGE,
                    headers={
                        "Authorization": f"Bearer {account.access_jwt}",
                        "Content-Type": "image/jpeg",
                    },
                    timeout=30,
                )
                uploaded.raise_for_status()
                blob = uploaded.json()["blob"]
                record["embed"] = {
                    "$type": "app.bsky.embed.images",
                    "images": [{"alt": f"Bild {n}", "image": blob}],
                }
            pds.create_record(account, "app.bsky.feed.post", record)
        _, _, cursor, first = harvest(pds.url, account.handle, password, {})
        print(f"first harvest: {first} captures", flush=True)
        full_bytes, full_secs, diff_bytes, diff_secs = [], [], [], []
        for round_ in range(ROUNDS):
            pds.create_record(
                account,
                "app.bsky.feed.post",
                {"$type": "app.bsky.feed.post", "text": f"Ny {round_}", "createdAt": WHEN},
            )
            forced = {k: v for k, v in cursor.items() if k != "full_at"}
            size, secs, _, n_full = harvest(pds.url, account.handle, password, forced)
            full_bytes.append(size)
            full_secs.append(secs)
            size, secs, cursor, n_diff = harvest(pds.url, account.handle, password, cursor)
            diff_bytes.append(size)
            diff_secs.append(secs)
            print(
                f"round {round_ + 1}: full {full_bytes[-1]:,} B {full_secs[-1]:.2f} s "
                f"({n_full} captures handed over); incremental {diff_bytes[-1]:,} B "
                f"{diff_secs[-1]:.2f} s ({n_diff} captures)",
                flush=True,
            )
        fb, fs = statistics.median(full_bytes), statistics.median(full_secs)
        db, ds = statistics.median(diff_bytes), statistics.median(diff_secs)
        print(f"incremental harvest after one new post: {db:,.0f} B, {ds:.2f} s")
        print(f"full export baseline (same account):    {fb:,.0f} B, {fs:.2f} s")
        print(f"ratio: {db / fb:.4f} × the bytes, {ds / fs:.3f} × the time")


if __name__ == "__main__":
    main()
