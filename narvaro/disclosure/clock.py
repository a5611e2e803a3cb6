"""The request clock (R23): which days count, and when day 1 and day 3 of a request end.

TF 2 kap. 15–16 §§ ask that a request is handled at once, or promptly (skyndsamt); the
Parliamentary Ombudsman expects a decision the same day, accepts a delay of a day or a few
when the review needs it, and has criticised three days. None of them fixes a number of days
or says how to count them, so Narvaro counts the days on which the authority works, as
Swedish law counts any period that ends on a day off: lag (1930:173) om beräkning av
lagstadgad tid moves a last day that falls on a Saturday, a Sunday, a public holiday,
midsommarafton, julafton or nyårsafton to the next weekday. So those days do not count,
and every other weekday does, also a day the organisation itself keeps closed (a klämdag)
or works with fewer people (the summer): the Ombudsman requires requests to be handled
then too (JO 4209-2009). See ADR 0016.

Day 1 is the day of receipt when that is a working day, else the next working day; day N
ends at local midnight after the N-th working day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache

from django.utils import timezone


@cache
def _days_off() -> Mapping[dt.date, str]:
    """Swedish public holidays and the three eves; years are filled in on lookup."""
    from narvaro.organisation.business_time import swedish_holidays

    return swedish_holidays()


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday, except a public holiday, midsommarafton, julafton and nyårsafton."""
    return day.weekday() < 5 and day not in _days_off()


def working_day(start: dt.date, n: int) -> dt.date:
    """The n-th working day (n ≥ 1) counting `start` itself when it is one."""
    if n < 1:
        raise ValueError("days of a request are counted from 1")
    day = start
    counted = 0
    while True:
        if is_working_day(day):
            counted += 1
            if counted == n:
                return day
        day += dt.timedelta(days=1)


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def day_end(received_at: dt.datetime, n: int) -> dt.datetime:
    """When day `n` of a request received at `received_at` ends (local midnight)."""
    received_on = timezone.localdate(received_at)
    return _midnight(working_day(received_on, n) + dt.timedelta(days=1))


def overdue_cutoff(today: dt.date, n: int) -> dt.datetime:
    """A request received before this moment is past the end of its day `n` on `today`.

    Past the end of day n on `today` means its n-th working day lies before today, which
    holds exactly for receipt dates up to the n-th working day counted back from yesterday.
    """
    day = today
    counted = 0
    while counted < n:
        day -= dt.timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return _midnight(day + dt.timedelta(days=1))
