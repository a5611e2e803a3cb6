"""Business time: durations, deadlines and the overdue cut-off, in Europe/Stockholm.

The fixed cases walk across a weekend, Swedish holidays (midsommar, Christmas) and both
daylight saving changes; the property tests compare the arithmetic with a minute-by-minute
count on random opening hours and exceptions.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from narvaro.organisation.business_time import (
    BusinessCalendar,
    DayRule,
    business_deadline,
    business_duration,
    swedish_holidays,
    working_day_length,
)

TZ = ZoneInfo("Europe/Stockholm")
DAY = dt.timedelta(hours=8, minutes=30)  # one working day of the default week
CAL = BusinessCalendar(holidays=swedish_holidays())


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)  # type: ignore[misc]


def hours(h: float) -> dt.timedelta:
    return dt.timedelta(hours=h)


# -- The default week: Monday–Friday 08:00–16:30 ------------------------------------------


def test_one_working_day_is_eight_and_a_half_hours() -> None:
    assert CAL.working_day_length() == DAY
    assert working_day_length(calendar=CAL) == DAY


def test_within_one_day_only_the_open_part_counts() -> None:
    # Tuesday 2026-11-24.
    assert CAL.duration(at(2026, 11, 24, 9), at(2026, 11, 24, 11, 15)) == hours(2.25)
    assert CAL.duration(at(2026, 11, 24, 6), at(2026, 11, 24, 9)) == hours(1)
    assert CAL.duration(at(2026, 11, 24, 16), at(2026, 11, 24, 22)) == hours(0.5)
    assert CAL.duration(at(2026, 11, 24, 18), at(2026, 11, 24, 23)) == dt.timedelta(0)


def test_a_friday_afternoon_question_is_due_on_monday_afternoon() -> None:
    friday = at(2026, 11, 20, 16)
    assert CAL.deadline(friday, DAY) == at(2026, 11, 23, 16)
    assert CAL.duration(friday, at(2026, 11, 23, 16)) == DAY
    # The weekend itself counts for nothing.
    assert CAL.duration(at(2026, 11, 21, 10), at(2026, 11, 22, 23)) == dt.timedelta(0)


def test_something_arriving_out_of_hours_starts_counting_at_the_next_opening() -> None:
    saturday = at(2026, 11, 21, 11)
    assert CAL.deadline(saturday, DAY) == at(2026, 11, 23, 16, 30)
    assert CAL.deadline(at(2026, 11, 23, 5), hours(1)) == at(2026, 11, 23, 9)
    assert CAL.deadline(at(2026, 11, 23, 20), hours(1)) == at(2026, 11, 24, 9)


def test_a_target_that_runs_out_at_closing_time_is_due_at_closing_not_next_morning() -> None:
    assert CAL.deadline(at(2026, 11, 24, 8), DAY) == at(2026, 11, 24, 16, 30)
    assert CAL.deadline(at(2026, 11, 24, 8), dt.timedelta(0)) == at(2026, 11, 24, 8)


def test_midsommar_eve_and_day_are_closed() -> None:
    # Thursday 2026-06-18 15:00: 1.5 h that day, midsommarafton (Friday) closed, the weekend,
    # then 7 h on Monday 22 June.
    thursday = at(2026, 6, 18, 15)
    assert CAL.deadline(thursday, DAY) == at(2026, 6, 22, 15)
    assert CAL.duration(at(2026, 6, 19, 9), at(2026, 6, 19, 15)) == dt.timedelta(0)
    assert CAL.is_holiday(dt.date(2026, 6, 19))


def test_christmas_closes_from_christmas_eve_to_boxing_day() -> None:
    # Wednesday 23 December 2026 at 12:00; 24 (julafton), 25 (juldagen), 26 (annandag jul)
    # and the Sunday are closed, so the day's remaining 4.5 h run on Monday 28th.
    assert CAL.deadline(at(2026, 12, 23, 12), DAY) == at(2026, 12, 28, 12)
    assert CAL.duration(at(2026, 12, 23, 16, 30), at(2026, 12, 28, 8)) == dt.timedelta(0)


def test_the_spring_dst_change_does_not_shorten_a_working_day() -> None:
    # Clocks go forward on Sunday 2026-03-29 at 02:00; the night is an hour shorter but the
    # working days around it are not.
    friday = at(2026, 3, 27, 12)
    monday = at(2026, 3, 30, 12)
    assert CAL.deadline(friday, DAY) == monday
    assert CAL.duration(friday, monday) == DAY
    # (Subtracting in UTC: Python subtracts two times of the same zone by the wall clock.)
    assert monday.astimezone(dt.UTC) - friday == dt.timedelta(days=3, hours=-1)


def test_the_autumn_dst_change_does_not_lengthen_a_working_day() -> None:
    # Clocks go back on Sunday 2026-10-25 at 03:00.
    friday = at(2026, 10, 23, 12)
    assert CAL.deadline(friday, DAY) == at(2026, 10, 26, 12)
    assert CAL.duration(friday, at(2026, 10, 26, 12)) == DAY


def test_hours_across_a_dst_change_are_real_hours() -> None:
    # Open around the clock on Sundays: the spring Sunday has 23 hours, the autumn one 25.
    always = BusinessCalendar(weekly={6: [(dt.time(0), dt.time(0))]})
    assert always.duration(at(2026, 3, 29, 0), at(2026, 3, 30, 0)) == hours(23)
    assert always.duration(at(2026, 10, 25, 0), at(2026, 10, 26, 0)) == hours(25)
    assert always.deadline(at(2026, 3, 29, 1), hours(2)) == at(2026, 3, 29, 4)
    assert always.working_day_length() == hours(24)


def test_opening_hours_inside_the_spring_gap_count_only_the_time_that_exists() -> None:
    # On 2026-03-29 the clocks jump from 02:00 to 03:00: 01:30–02:30 is open for 30 minutes
    # (01:30–02:00), 02:15–04:00 for 60 (03:00–04:00).
    night = BusinessCalendar(weekly={6: [(dt.time(1, 30), dt.time(2, 30))]})
    assert night.duration(at(2026, 3, 29, 0), at(2026, 3, 30, 0)) == hours(0.5)
    early = BusinessCalendar(weekly={6: [(dt.time(2, 15), dt.time(4))]})
    assert early.duration(at(2026, 3, 29, 0), at(2026, 3, 30, 0)) == hours(1)
    assert early.deadline(at(2026, 3, 29, 0), hours(0.5)) == at(2026, 3, 29, 3, 30)


def test_opening_hours_across_the_autumn_fold_count_the_repeated_hour_as_lived() -> None:
    # On 2026-10-25 the clocks go back from 03:00 to 02:00: the wall shows 02:30–03:00 twice,
    # so 02:30–04:00 is open for 2 hours (02:30–03:00 summer time, then 02:30–04:00 winter
    # time) and 01:00–04:00 for 4.
    fold = BusinessCalendar(weekly={6: [(dt.time(2, 30), dt.time(4))]})
    assert fold.duration(at(2026, 10, 25, 0), at(2026, 10, 26, 0)) == hours(2)
    wide = BusinessCalendar(weekly={6: [(dt.time(1), dt.time(4))]})
    assert wide.duration(at(2026, 10, 25, 0), at(2026, 10, 26, 0)) == hours(4)


def test_answers_are_the_same_whatever_zone_the_moments_are_given_in() -> None:
    friday_utc = at(2026, 11, 20, 16).astimezone(dt.UTC)
    assert CAL.deadline(friday_utc, DAY) == at(2026, 11, 23, 16)
    assert CAL.deadline(friday_utc, DAY).tzinfo == TZ
    assert CAL.duration(friday_utc, at(2026, 11, 23, 16).astimezone(dt.UTC)) == DAY


def test_naive_datetimes_and_negative_targets_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        CAL.duration(dt.datetime(2026, 1, 1), at(2026, 1, 2))
    with pytest.raises(ValueError, match="negative"):
        CAL.deadline(at(2026, 1, 2), hours(-1))


def test_the_duration_backwards_is_negative() -> None:
    assert CAL.duration(at(2026, 11, 24, 12), at(2026, 11, 24, 10)) == hours(-2)


def test_a_calendar_without_opening_hours_says_so() -> None:
    closed = BusinessCalendar(weekly={})
    assert closed.working_day_length() == dt.timedelta(0)
    assert closed.duration(at(2026, 1, 1), at(2026, 2, 1)) == dt.timedelta(0)
    with pytest.raises(ValueError, match="no business time"):
        closed.deadline(at(2026, 1, 1), hours(1))


# -- Several intervals a day, and exceptions ----------------------------------------------


LUNCH = BusinessCalendar(
    weekly={d: [(dt.time(8), dt.time(12)), (dt.time(13), dt.time(16, 30))] for d in range(5)},
    days={
        dt.date(2026, 11, 26): DayRule(closed=False, closes=dt.time(13)),
        dt.date(2026, 11, 27): DayRule(closed=True),
        dt.date(2026, 11, 28): DayRule(closed=False, opens=dt.time(10), closes=dt.time(14)),
        dt.date(2026, 12, 25): DayRule(closed=False, opens=dt.time(10), closes=dt.time(12)),
    },
    holidays=swedish_holidays(),
)


def test_a_lunch_break_is_not_business_time() -> None:
    assert LUNCH.working_day_length() == hours(7.5)
    assert LUNCH.duration(at(2026, 11, 24, 11), at(2026, 11, 24, 14)) == hours(2)
    assert LUNCH.deadline(at(2026, 11, 24, 11), hours(2)) == at(2026, 11, 24, 14)
    assert LUNCH.deadline(at(2026, 11, 24, 11), hours(1)) == at(2026, 11, 24, 12)


def test_a_reduced_day_keeps_its_break_and_closes_early() -> None:
    # Thursday 26th closes at 13:00: 08–12 only (the 13:00 closing leaves no afternoon).
    assert LUNCH.duration(at(2026, 11, 26, 0), at(2026, 11, 27, 0)) == hours(4)


def test_a_closed_day_and_an_opened_weekend_day() -> None:
    # Friday 27th (a klämdag) is closed; Saturday 28th is open 10–14 by exception.
    assert LUNCH.duration(at(2026, 11, 27, 0), at(2026, 11, 28, 0)) == dt.timedelta(0)
    assert LUNCH.duration(at(2026, 11, 28, 0), at(2026, 11, 29, 0)) == hours(4)


def test_a_rule_on_a_holiday_replaces_the_holiday() -> None:
    assert LUNCH.duration(at(2026, 12, 25, 0), at(2026, 12, 26, 0)) == hours(2)
    assert LUNCH.duration(at(2026, 12, 24, 0), at(2026, 12, 25, 0)) == dt.timedelta(0)


# -- The overdue list ---------------------------------------------------------------------


def test_the_overdue_cutoff_on_a_monday_afternoon() -> None:
    # At Monday 16:00 everything received before Friday 16:00 is overdue.
    assert CAL.overdue_cutoff(at(2026, 11, 23, 16), DAY) == at(2026, 11, 20, 16)


def test_the_overdue_cutoff_after_closing_reaches_the_opening() -> None:
    # At Monday 17:00, a question from Monday 08:00 (or from the weekend) is due at 16:30.
    cutoff = CAL.overdue_cutoff(at(2026, 11, 23, 17), DAY)
    assert cutoff == at(2026, 11, 23, 8) + dt.timedelta(microseconds=1)
    assert CAL.is_overdue(at(2026, 11, 23, 8), DAY, now=at(2026, 11, 23, 17))
    assert not CAL.is_overdue(cutoff, DAY, now=at(2026, 11, 23, 17))


@time_machine.travel(at(2026, 6, 22, 15, 0, 1), tick=False)
def test_with_a_frozen_clock_a_question_from_before_midsommar_becomes_overdue() -> None:
    thursday = at(2026, 6, 18, 15)
    assert CAL.is_overdue(thursday, DAY)
    assert not CAL.is_overdue(at(2026, 6, 18, 15, 1), DAY)


@time_machine.travel(at(2026, 3, 30, 11, 59), tick=False)
def test_with_a_frozen_clock_across_the_spring_change_it_is_not_yet_overdue() -> None:
    assert not CAL.is_overdue(at(2026, 3, 27, 12), DAY)
    assert CAL.is_overdue(at(2026, 3, 27, 11, 58), DAY)


def test_the_module_functions_use_a_given_calendar() -> None:
    friday = at(2026, 11, 20, 16)
    assert business_deadline(friday, DAY, calendar=CAL) == at(2026, 11, 23, 16)
    assert business_duration(friday, at(2026, 11, 23, 16), calendar=CAL) == DAY


# -- Properties against a minute-by-minute count ------------------------------------------

MINUTE = dt.timedelta(minutes=1)
BASE = dt.datetime(2026, 3, 20, tzinfo=dt.UTC)  # spans the spring DST change and Easter
AUTUMN = dt.datetime(2026, 10, 15, tzinfo=dt.UTC)  # spans the autumn DST change


def wall_times() -> st.SearchStrategy[dt.time]:
    return st.builds(
        dt.time, st.integers(min_value=0, max_value=23), st.sampled_from([0, 15, 30, 45])
    )


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    weekly: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for weekday in range(7):
        pairs = draw(st.lists(st.tuples(wall_times(), wall_times()), max_size=3))
        weekly[weekday] = [
            (min(a, b), max(a, b)) if max(a, b) != a or a == b else (b, a)
            for a, b in pairs
            if a != b
        ] or ([(dt.time(22), dt.time(0))] if draw(st.booleans()) else [])
    weekly[0] = weekly[0] or [(dt.time(8), dt.time(16, 30))]  # never closed every day
    days: dict[dt.date, DayRule] = {}
    for offset in draw(st.sets(st.integers(min_value=0, max_value=40), max_size=6)):
        base = draw(st.sampled_from([dt.date(2026, 3, 20), dt.date(2026, 10, 15)]))
        day = base + dt.timedelta(days=offset)
        if draw(st.booleans()):
            days[day] = DayRule(closed=True)
        else:
            a, b = sorted([draw(wall_times()), draw(wall_times())])
            days[day] = DayRule(closed=False, opens=draw(st.sampled_from([None, a])), closes=b)
    return BusinessCalendar(weekly=weekly, days=days, holidays=swedish_holidays())


def moments() -> st.SearchStrategy[dt.datetime]:
    minutes = st.integers(min_value=0, max_value=20 * 24 * 60)
    return st.one_of(
        minutes.map(lambda m: BASE + m * MINUTE), minutes.map(lambda m: AUTUMN + m * MINUTE)
    )


def open_minutes(calendar: BusinessCalendar, start: dt.datetime, end: dt.datetime) -> int:
    """Count the minutes in [start, end) whose local wall-clock time falls in an interval."""
    count = 0
    moment = start
    while moment < end:
        local = moment.astimezone(TZ)
        seconds = local.hour * 3600 + local.minute * 60
        if any(a <= seconds < b for a, b in calendar.wall_intervals(local.date())):
            count += 1
        moment += MINUTE
    return count


PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(calendars(), moments(), moments())
def test_the_duration_matches_a_minute_count(
    calendar: BusinessCalendar, a: dt.datetime, b: dt.datetime
) -> None:
    a, b = min(a, b), max(a, b)
    if b - a > dt.timedelta(days=6):
        b = a + dt.timedelta(days=6)
    assert calendar.duration(a, b) == open_minutes(calendar, a, b) * MINUTE


@PROPERTY
@given(calendars(), moments(), st.integers(min_value=1, max_value=3 * 24 * 60))
def test_the_deadline_matches_a_minute_walk(
    calendar: BusinessCalendar, start: dt.datetime, target_minutes: int
) -> None:
    deadline = calendar.deadline(start, target_minutes * MINUTE)
    # The deadline is the end of the minute in which the count reaches the target.
    assert open_minutes(calendar, start, deadline) == target_minutes
    assert calendar.is_open(deadline - MINUTE)


@PROPERTY
@given(
    calendars(),
    moments(),
    st.integers(min_value=0, max_value=10**8),
    st.integers(min_value=0, max_value=5 * 10**11),
)
def test_deadline_and_duration_are_inverse(
    calendar: BusinessCalendar, start: dt.datetime, jitter: int, target_us: int
) -> None:
    start += dt.timedelta(microseconds=jitter)
    target = dt.timedelta(microseconds=target_us)
    deadline = calendar.deadline(start, target)
    assert deadline >= start
    assert calendar.duration(start, deadline) == target
    # And it is the earliest such moment.
    if target:
        assert calendar.duration(start, deadline - dt.timedelta(microseconds=1)) < target


@PROPERTY
@given(calendars(), moments(), moments(), moments())
def test_durations_add_up_and_never_exceed_the_clock(
    calendar: BusinessCalendar, a: dt.datetime, b: dt.datetime, c: dt.datetime
) -> None:
    a, b, c = sorted([a, b, c])
    assert calendar.duration(a, b) + calendar.duration(b, c) == calendar.duration(a, c)
    assert dt.timedelta(0) <= calendar.duration(a, b) <= b - a


@PROPERTY
@given(
    calendars(),
    moments(),
    moments(),
    st.integers(min_value=0, max_value=60 * 10**6),
    st.sampled_from([0, 1, 15, 60, 8 * 60 + 30, 3 * 24 * 60]),
)
def test_the_overdue_cutoff_separates_overdue_from_not(
    calendar: BusinessCalendar,
    received: dt.datetime,
    now: dt.datetime,
    jitter: int,
    target_minutes: int,
) -> None:
    target = target_minutes * MINUTE
    cutoff = calendar.overdue_cutoff(now, target)
    for r in (
        received,
        received + dt.timedelta(microseconds=jitter),
        cutoff,
        cutoff - dt.timedelta(microseconds=1),
    ):
        assert (calendar.deadline(r, target) < now) == (r < cutoff)


@PROPERTY
@given(calendars(), moments(), moments(), st.integers(min_value=1, max_value=2 * 24 * 60))
def test_a_later_arrival_is_never_due_earlier(
    calendar: BusinessCalendar, a: dt.datetime, b: dt.datetime, target_minutes: int
) -> None:
    a, b = min(a, b), max(a, b)
    target = target_minutes * MINUTE
    assert calendar.deadline(a, target) <= calendar.deadline(b, target)


def test_a_fresh_calendar_answers_far_back_and_far_ahead_consistently() -> None:
    calendar = BusinessCalendar(holidays=swedish_holidays())
    late, early = at(2030, 1, 7, 9), at(2020, 1, 7, 9)
    first = calendar.duration(early, late)
    assert first == BusinessCalendar(holidays=swedish_holidays()).duration(early, late)
    # The cache grew both ways; asking again (and in the other order) gives the same.
    assert calendar.duration(late, early) == -first
    assert calendar.deadline(early, first) == late
