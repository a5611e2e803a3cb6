"""Claim: storing captures through the archive's single writer runs at ≥ 0.3 × raw sqlite3.

Figure: captures per second through `capture_batch` (items + versions with digests and the
hash chain, batches of 500, SQLite in WAL mode) against a baseline of plain
`sqlite3.executemany` inserting the same item and version rows (same columns and values,
no digests, no chain) into an equivalent schema, in the same process.

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
    ours_seconds = narvaro(captures)
    raw_rate, ours_rate = COUNT / raw_seconds, COUNT / ours_seconds
    print(f"captures: {COUNT}, batch size {BATCH}")
    print(f"baseline sqlite3.executemany: {raw_rate:,.0f} captures/s ({raw_seconds:.2f} s)")
    print(f"narvaro capture_batch:        {ours_rate:,.0f} captures/s ({ours_seconds:.2f} s)")
    ratio = ours_rate / raw_rate
    print(f"ratio: {ratio:.2f} x baseline (target >= 0.30): {'MET' if ratio >= 0.3 else 'NOT MET'}")


if __name__ == "__main__":
    main()
