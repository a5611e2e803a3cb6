"""Claim: archive search answers in p95 ≤ 50 ms at 1 M records on SQLite.

Figure: p50 and p95 latency of `record_search_for_user` (the one selector behind the search
page, the register and `narvaro records search`) fetching the first page of 50 results,
newest first, for a mix of one-word, two-word and filtered queries, against a baseline of a
bare FTS5 query (`SELECT rowid ... MATCH ... LIMIT 50`) for the same stemmed words on the
same data, in the same process.

Run: .venv/bin/python bench/search_latency.py [RECORDS]   (1,000,000 takes several minutes)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import WORDS, bench_account, django_on_fresh_sqlite, generated_captures

RECORDS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
BATCH = 2000
ROUNDS = 5
BARE_QUERY = "SELECT rowid FROM archive_search_fts WHERE archive_search_fts MATCH %s LIMIT 50"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    django_on_fresh_sqlite()
    from django.db import connection

    from narvaro.archive.search import stem_words
    from narvaro.archive.selectors import record_search_for_user
    from narvaro.archive.services import capture_batch
    from narvaro.core.services import user_create

    account = bench_account()
    admin = user_create(actor=None, username="bench-admin", org_role="admin", password="x")
    started = time.perf_counter()
    pending = []
    for capture in generated_captures(RECORDS):
        pending.append(capture)
        if len(pending) == BATCH:
            capture_batch(account=account, captures=pending, source="bench")
            pending = []
    if pending:
        capture_batch(account=account, captures=pending, source="bench")
    print(f"generated {RECORDS:,} records in {time.perf_counter() - started:,.0f} s")

    queries: list[dict[str, object]] = []
    for word in WORDS:
        queries.append({"q": word})
    for first, second in zip(WORDS, reversed(WORDS), strict=True):
        queries.append({"q": f"{first} {second}"})
    for word in WORDS[:6]:
        queries.append({"q": word, "direction": "drawn_up", "kind": "post"})

    ours: list[float] = []
    bare: list[float] = []
    for _ in range(ROUNDS):
        for query in queries:
            t0 = time.perf_counter()
            list(record_search_for_user(admin, **query)[:50])  # type: ignore[arg-type]
            ours.append((time.perf_counter() - t0) * 1000)
            expression = " ".join(f'"{stem}"' for stem in stem_words(str(query["q"])))
            t0 = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(BARE_QUERY, [expression])
                cursor.fetchall()
            bare.append((time.perf_counter() - t0) * 1000)

    print(f"queries: {len(queries)} x {ROUNDS} rounds")
    bare_p50, bare_p95 = statistics.median(bare), percentile(bare, 0.95)
    print(f"baseline bare FTS5:      p50 {bare_p50:6.1f} ms, p95 {bare_p95:6.1f} ms")
    p95 = percentile(ours, 0.95)
    print(f"narvaro record search:   p50 {statistics.median(ours):6.1f} ms, p95 {p95:6.1f} ms")
    print(f"target p95 <= 50 ms: {'MET' if p95 <= 50 else 'NOT MET'}")


if __name__ == "__main__":
    main()
