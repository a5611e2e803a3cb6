"""Claim: the records search page counts its results in bounded time, however many match.

Figure: the time the search page's pager takes to count the results of a search
(`CappedPaginator`, at most 10,000 + 1 matches counted), against a baseline measured on the
same data in the same run: the full `count()` of every match that Django's `Paginator` did
before. Both count the queryset `record_search_for_user` returns (the one selector behind the
page), for one-word and two-word searches whose words occur in a large share of the items.

Run: .venv/bin/python bench/search_count.py [RECORDS]   (default 200,000)

With NARVARO_BENCH_HOME=DIR the archive is generated in DIR once and measured again by a
later run. With NARVARO_BENCH_DATABASE_URL=postgres://... the archive is generated in (and
measured on) that PostgreSQL database instead of SQLite.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import WORDS, bench_account, generated_captures

RECORDS = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
BATCH = 2000
ROUNDS = 3
CAP = 10_000


def setup_django() -> str:
    home = os.environ.get("NARVARO_BENCH_HOME") or tempfile.mkdtemp(prefix="narvaro-bench-")
    os.makedirs(home, exist_ok=True)
    os.environ["NARVARO_HOME"] = home
    url = os.environ.get("NARVARO_BENCH_DATABASE_URL")
    if url:
        os.environ["NARVARO_DATABASE_URL"] = url
    else:
        os.environ.pop("NARVARO_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "narvaro.config.settings")
    os.environ.setdefault("NARVARO_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url or home


def main() -> None:
    where = setup_django()
    from django.db import connection

    from narvaro.archive.models import Item
    from narvaro.archive.selectors import record_search_for_user
    from narvaro.archive.services import capture_batch
    from narvaro.core.models import User
    from narvaro.core.services import user_create
    from narvaro.lib.paging import CappedPaginator

    admin = User.objects.filter(username="bench-admin").first()
    if admin is None or Item.objects.count() != RECORDS:
        if Item.objects.exists():
            sys.exit(f"{where} holds another archive; name an empty folder or database")
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
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
    print(f"{connection.vendor}: {RECORDS:,} records; load average {os.getloadavg()[0]:.1f}")

    searches = [*WORDS[:6], "biblioteket helgen", "kommunen tack"]
    full_ms: list[float] = []
    capped_ms: list[float] = []
    for q in searches:
        for _ in range(ROUNDS):
            items = record_search_for_user(admin, q=q)
            t0 = time.perf_counter()
            total = items.count()
            full_ms.append((time.perf_counter() - t0) * 1000)
            paginator = CappedPaginator(record_search_for_user(admin, q=q), 50, cap=CAP)
            t0 = time.perf_counter()
            shown = paginator.count
            capped_ms.append((time.perf_counter() - t0) * 1000)
            if shown != min(total, CAP) or paginator.capped != (total > CAP):
                sys.exit(f"{q!r}: capped count {shown} disagrees with the full count {total}")
        print(f"  {q!r}: {total:,} matches")
    for label, values in [
        ("baseline full count():    ", full_ms),
        (f"capped count (cap {CAP:,}):", capped_ms),
    ]:
        print(
            f"{label} median {statistics.median(values):7.1f} ms, "
            f"max {max(values):7.1f} ms  ({len(values)} counts)"
        )


if __name__ == "__main__":
    main()
