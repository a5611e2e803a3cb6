"""Claim: storing captures through the archive's single writer runs at ≥ 0.3 × raw sqlite3.

Figure: captures per second through `capture_batch` (items + versions with digests and the
hash chain, batches of 500, SQLite in WAL mode) against a baseline of plain
`sqlite3.executemany` inserting the same item and version rows (same columns and values,
no digests, no chain) into an equivalent schema, in the same process.

For reference it also prints a plain executemany of Narvaro's own rows into its own tables
and indexes (search index included) with every digest and stem computed beforehand: what the
database alone costs, the ceiling for `capture_batch` (docs/performance.md).

Run: .venv/bin/python bench/import_throughput.py [COUNT]
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import bench_account, django_on_fresh_sqlite, generated_captures

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
BATCH = 500


def baseline(captures: list) -> float:  # type: ignore[type-arg]
    path = Path(tempfile.mkdtemp()) / "raw.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE item (id INTEGER PRIMARY KEY, platform TEXT, remote_id TEXT, kind TEXT, "
        "direction TEXT, author_handle TEXT, author_name TEXT, permalink TEXT, created_at TEXT, "
        "UNIQUE (platform, remote_id))"
    )
    db.execute(
        "CREATE TABLE version (id INTEGER PRIMARY KEY, item_id INTEGER, number INTEGER, "
        "text TEXT, raw_payload TEXT)"
    )
    started = time.perf_counter()
    for start in range(0, len(captures), BATCH):
        chunk = captures[start : start + BATCH]
        with db:
            first = db.execute("SELECT COALESCE(MAX(id), 0) FROM item").fetchone()[0] + 1
            db.executemany(
                "INSERT INTO item (platform, remote_id, kind, direction, author_handle, "
                "author_name, permalink, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        c.platform,
                        c.remote_id,
                        c.kind,
                        c.direction,
                        c.author_handle,
                        c.author_name,
                        c.permalink,
                        c.created_at.isoformat(),
                    )
                    for c in chunk
                ],
            )
            db.executemany(
                "INSERT INTO version (item_id, number, text, raw_payload) VALUES (?, 1, ?, ?)",
                [(first + i, c.text, c.raw_payload) for i, c in enumerate(chunk)],
            )
    return time.perf_counter() - started


def own_rows(captures: list, schema: list[str]) -> float:  # type: ignore[type-arg]
    """For reference: plain executemany of Narvaro's own rows, every value computed beforehand.

    The same tables and indexes as Narvaro's (items, versions, search entries, FTS5), the
    digests and stems made before the clock starts: what the database alone costs.
    """
    import hashlib

    from narvaro.archive.search import newest_key, searchable_body

    path = Path(tempfile.mkdtemp()) / "own.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    for sql in schema:
        db.execute(sql)
    now = "2026-01-01 00:00:00"
    rows = []
    for n, c in enumerate(captures, start=1):
        digest = hashlib.sha256(c.text.encode()).hexdigest()
        created = str(c.created_at.replace(tzinfo=None))
        item = (c.platform, c.remote_id, c.kind, c.direction, c.author_handle, c.author_name)
        item += ("", "", "", c.permalink, "", created, now)
        version = (n, now, digest, n, c.text, "", c.raw_payload, digest, digest, "bench")
        body = searchable_body([c.text])
        rows.append((item, version, (n, body), (newest_key(n, c.created_at), body)))
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        with db:
            db.executemany(
                "INSERT INTO archive_item (account_id, platform, remote_id, kind, direction, "
                "author_handle, author_name, author_platform_id, parent_remote_id, "
                "thread_remote_id, permalink, visibility, created_at, first_seen_at) "
                "VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [r[0] for r in chunk],
            )
            db.executemany(
                "INSERT INTO archive_itemversion (account_id, seq, recorded_at, chain_digest, "
                "item_id, number, text, html, raw_payload, content_digest, payload_digest, "
                "source) VALUES (1, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
                [r[1] for r in chunk],
            )
            db.executemany(
                "INSERT INTO archive_searchentry (item_id, body) VALUES (?, ?)",
                [r[2] for r in chunk],
            )
            db.executemany(
                "INSERT INTO archive_search_fts (rowid, body) VALUES (?, ?)", [r[3] for r in chunk]
            )
    return time.perf_counter() - started


def archive_schema() -> list[str]:
    """The CREATE statements of the archive's tables and indexes in the migrated database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND ("
            "tbl_name IN ('archive_item', 'archive_itemversion', 'archive_searchentry') "
            "OR name = 'archive_search_fts') ORDER BY type DESC"
        )
        return [row[0] for row in cursor.fetchall()]


def narvaro(captures: list) -> float:  # type: ignore[type-arg]
    from narvaro.archive.services import capture_batch

    account = bench_account()
    started = time.perf_counter()
    for start in range(0, len(captures), BATCH):
        capture_batch(account=account, captures=captures[start : start + BATCH], source="bench")
    return time.perf_counter() - started


def main() -> None:
    django_on_fresh_sqlite()
    captures = list(generated_captures(COUNT))
    raw_seconds = baseline(captures)
    own_seconds = own_rows(captures, archive_schema())
    ours_seconds = narvaro(captures)
    raw_rate, ours_rate = COUNT / raw_seconds, COUNT / ours_seconds
    own_rate = COUNT / own_seconds
    print(f"captures: {COUNT}, batch size {BATCH}")
    print(f"baseline sqlite3.executemany: {raw_rate:,.0f} captures/s ({raw_seconds:.2f} s)")
    print(f"narvaro capture_batch:        {ours_rate:,.0f} captures/s ({ours_seconds:.2f} s)")
    ratio = ours_rate / raw_rate
    print(f"ratio: {ratio:.2f} x baseline (target >= 0.30): {'MET' if ratio >= 0.3 else 'NOT MET'}")
    print(
        f"for reference, executemany of Narvaro's own rows (its tables and indexes, search "
        f"index included, every digest and stem computed beforehand): {own_rate:,.0f} "
        f"captures/s = {own_rate / raw_rate:.2f} x baseline"
    )


if __name__ == "__main__":
    main()
