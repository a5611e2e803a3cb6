"""Claim: storing captures through the archive's single writer runs at ≥ 0.3 × raw sqlite3.

Figure: captures per second through `capture_batch` (items + versions with digests and the
hash chain, the search index, the `items_captured` signal after each commit; batches of 500,
SQLite in WAL mode) against a baseline of plain `sqlite3.executemany` inserting the same item
and version rows (same columns and values, no digests, no chain) into an equivalent schema,
in the same process.

For reference it also prints a plain executemany of Narvaro's own rows into its own tables
and indexes (search index included) with every digest and stem computed beforehand: what the
database alone costs, the ceiling for `capture_batch` (docs/performance.md).

The machine is shared, so the script runs several rounds, each on fresh databases and each
measuring the three in turn, and gives the median of the rounds' ratios, both in wall-clock
time (the claim) and in CPU time of the process (what the code itself costs, less moved by
other jobs taking turns on the cores).

Each figure is timed around the inserts only (rows for the baseline and the reference are
made before the clock starts; `capture_batch` is given the captures as importers give them).

It also prints the share of `capture_batch`'s time spent in the receivers of the
`items_captured` signal (inbox, radar and moderation each enqueue a task per batch).

Run: .venv/bin/python bench/import_throughput.py [COUNT] [--rounds N] [--batch SIZE]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import bench_account, django_on_fresh_sqlite, generated_captures

BATCH = 500


def baseline(captures: list) -> tuple[float, float]:  # type: ignore[type-arg]
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
    started, cpu = time.perf_counter(), time.process_time()
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
    return time.perf_counter() - started, time.process_time() - cpu


def own_rows(captures: list, schema: list[str]) -> tuple[float, float]:  # type: ignore[type-arg]
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
        item: tuple[Any, ...] = (
            c.platform,
            c.remote_id,
            c.kind,
            c.direction,
            c.author_handle,
            c.author_name,
        )
        item += ("", "", "", c.permalink, "", created, now)
        version = (n, now, digest, n, c.text, "", c.raw_payload, digest, digest, "bench")
        body = searchable_body([c.text])
        rows.append((item, version, (n, body), (newest_key(n, c.created_at), body)))
    started, cpu = time.perf_counter(), time.process_time()
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
    return time.perf_counter() - started, time.process_time() - cpu


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


def narvaro(captures: list, account: Any) -> tuple[float, float]:  # type: ignore[type-arg]
    from narvaro.archive.services import capture_batch

    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(captures), BATCH):
        capture_batch(account=account, captures=captures[start : start + BATCH], source="bench")
    return time.perf_counter() - started, time.process_time() - cpu


def fresh_narvaro_database(template: Path) -> None:
    """Point Django at a new copy of the migrated database (with the bench account in it)."""
    from django.db import connection

    connection.close()
    copy = Path(tempfile.mkdtemp(prefix="narvaro-bench-round-")) / "narvaro.sqlite3"
    shutil.copyfile(template, copy)
    connection.settings_dict["NAME"] = str(copy)


class ReceiverClock:
    """Times what the `items_captured` receivers (inbox, radar, moderation) take.

    `capture_batch` sends the signal after each commit; the receivers enqueue tasks. The
    signal's `send` is wrapped for the whole run, so the time is measured where it is spent,
    not by the difference of two noisy runs.
    """

    def __init__(self) -> None:
        from narvaro.archive.signals import items_captured

        self.wall = self.cpu = 0.0
        send = items_captured.send

        def timed_send(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return send(*args, **kwargs)
            finally:
                self.wall += time.perf_counter() - wall
                self.cpu += time.process_time() - cpu

        items_captured.send = timed_send  # type: ignore[method-assign]

    def reset(self) -> None:
        self.wall = self.cpu = 0.0


def main() -> None:
    global BATCH
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("count", nargs="?", type=int, default=20_000, help="captures per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each on fresh databases")
    parser.add_argument("--batch", type=int, default=BATCH, help="captures per transaction")
    args = parser.parse_args()
    BATCH, count = args.batch, args.count

    django_on_fresh_sqlite()
    from django.db import connection

    account = bench_account()
    schema = archive_schema()
    connection.close()  # leaves a complete database file to copy for each round
    template = Path(connection.settings_dict["NAME"])
    captures = list(generated_captures(count))

    print(f"captures: {count}, batch size {BATCH}, rounds: {args.rounds}")
    ratios, cpu_ratios, own_ratios, own_cpu_ratios = [], [], [], []
    shares, cpu_shares = [], []
    receivers = ReceiverClock()
    for n in range(1, args.rounds + 1):
        fresh_narvaro_database(template)
        raw, raw_cpu = baseline(captures)
        own, own_cpu = own_rows(captures, schema)
        receivers.reset()
        ours, ours_cpu = narvaro(captures, account)
        shares.append(receivers.wall / ours)
        cpu_shares.append(receivers.cpu / ours_cpu)
        ratios.append(raw / ours)
        cpu_ratios.append(raw_cpu / ours_cpu)
        own_ratios.append(raw / own)
        own_cpu_ratios.append(raw_cpu / own_cpu)
        print(
            f"round {n}: baseline {count / raw:,.0f}/s, narvaro {count / ours:,.0f}/s "
            f"= {raw / ours:.2f} x (CPU time: baseline {raw_cpu:.2f} s, narvaro "
            f"{ours_cpu:.2f} s = {raw_cpu / ours_cpu:.2f} x); own rows {count / own:,.0f}/s "
            f"= {raw / own:.2f} x; the items_captured receivers took {receivers.wall / ours:.0%} "
            f"of narvaro's time ({receivers.cpu / ours_cpu:.0%} of its CPU time)"
        )
    ratio = statistics.median(ratios)
    print(
        f"ratio (median of {args.rounds} rounds): {ratio:.2f} x baseline (target >= 0.30): "
        f"{'MET' if ratio >= 0.3 else 'NOT MET'}"
    )
    print(f"in CPU time (median): {statistics.median(cpu_ratios):.2f} x baseline")
    print(
        f"for reference, executemany of Narvaro's own rows (its tables and indexes, search "
        f"index included, every digest and stem computed beforehand): "
        f"{statistics.median(own_ratios):.2f} x baseline (median; in CPU time "
        f"{statistics.median(own_cpu_ratios):.2f} x)"
    )
    print(
        f"the items_captured receivers' share of capture_batch (median): "
        f"{statistics.median(shares):.0%} of the wall-clock time, "
        f"{statistics.median(cpu_shares):.0%} of the CPU time"
    )


if __name__ == "__main__":
    main()
