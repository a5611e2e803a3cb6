"""Claim: response-target figures for thousands of conversations cost milliseconds, not queries.

Figure: the time to compute, for N conversations received at random moments over a year,
(a) the business time from arrival to an answer (`BusinessCalendar.duration`), (b) the
deadline under a one-working-day target (`deadline`) and (c) the overdue cut-off for every
unit (`overdue_cutoff`, one per unit, which turns the overdue list into one `received_at <
cutoff` filter), all with one calendar loaded once (`business_calendar_load`: one query).
Baseline, same data, same run: the plain wall-clock difference `answered - received` (what the
figures would cost if business hours were ignored), and a straightforward day-by-day
reference implementation of `duration` (walk each local date, add the overlap with its
opening hours) that answers the same numbers.

Run: .venv/bin/python bench/business_time.py [N]   (default 10,000)
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_fresh_sqlite

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
TZ = ZoneInfo("Europe/Stockholm")


def reference_duration(calendar, start: dt.datetime, end: dt.datetime) -> dt.timedelta:  # type: ignore[no-untyped-def]
    """Day by day: for each local date, the overlap of [start, end) with its open intervals."""
    total = dt.timedelta(0)
    day = start.astimezone(TZ).date()
    last = end.astimezone(TZ).date()
    while day <= last:
        for opens, closes in calendar.intervals_on(day):
            overlap = min(end, closes) - max(start, opens)
            if overlap > dt.timedelta(0):
                total += overlap
        day += dt.timedelta(days=1)
    return total


def main() -> None:
    django_on_fresh_sqlite()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from narvaro.organisation.selectors import business_calendar_load

    rng = random.Random(14)
    year = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    received = [year + dt.timedelta(seconds=rng.randrange(365 * 86400)) for _ in range(N)]
    answered = [r + dt.timedelta(seconds=rng.randrange(1, 10 * 86400)) for r in received]
    target = dt.timedelta(hours=8, minutes=30)

    # Importing the `holidays` package is a one-off cost per process; time it apart.
    started = time.perf_counter()
    import holidays  # noqa: F401

    imported = time.perf_counter() - started
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        calendar = business_calendar_load()
        load = time.perf_counter() - started
    # The first question fills the calendar's cache of days; time it apart.
    started = time.perf_counter()
    calendar.duration(received[0], answered[0])
    warm = time.perf_counter() - started

    started = time.perf_counter()
    durations = [calendar.duration(r, a) for r, a in zip(received, answered, strict=True)]
    t_duration = time.perf_counter() - started
    started = time.perf_counter()
    [calendar.deadline(r, target) for r in received]
    t_deadline = time.perf_counter() - started
    now = dt.datetime(2026, 11, 26, 10, tzinfo=TZ)
    started = time.perf_counter()
    for _ in range(300):  # one cut-off per unit of a large organisation
        calendar.overdue_cutoff(now, target)
    t_cutoff = time.perf_counter() - started

    started = time.perf_counter()
    [a - r for r, a in zip(received, answered, strict=True)]
    t_wall = time.perf_counter() - started
    sample = min(N, 2000)
    started = time.perf_counter()
    reference = [reference_duration(calendar, received[i], answered[i]) for i in range(sample)]
    t_reference = (time.perf_counter() - started) * N / sample
    assert reference == durations[:sample], "the reference disagrees with the calendar"

    print(f"conversations: {N:,}")
    print(
        f"calendar load: {len(queries.captured_queries)} query, {load * 1000:.1f} ms "
        f"(first question, filling the day cache: {warm * 1000:.1f} ms; importing the "
        f"holidays package once per process: {imported * 1000:.0f} ms)"
    )
    print(
        f"duration:  {t_duration * 1000:8.1f} ms  ({t_duration / N * 1e6:.1f} µs each)   "
        f"baseline wall-clock difference {t_wall * 1000:.1f} ms; "
        f"day-by-day reference {t_reference * 1000:.1f} ms (same answers)"
    )
    print(f"deadline:  {t_deadline * 1000:8.1f} ms  ({t_deadline / N * 1e6:.1f} µs each)")
    print(f"overdue cut-off for 300 units: {t_cutoff * 1000:.1f} ms")


if __name__ == "__main__":
    main()
