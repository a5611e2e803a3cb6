"""Business time: how much of the organisation's opening hours lies between two moments.

Response targets (R14) are measured in business time: a question that arrives on Friday at
16:00 with a target of one working day (8 h 30 min) is due on Monday at 16:00, not on
Saturday. This module does that arithmetic. It is pure: a `BusinessCalendar` is built from
plain values (the weekly opening hours, the dated exceptions and the public holidays) and
never touches the database, so one calendar, loaded once with
`narvaro.organisation.selectors.business_calendar_load()`, serves thousands of
conversations.

How it works. Each local date of the organisation's time zone has a list of open intervals,
kept as UTC microseconds since the epoch (integers, so sums are exact and daylight saving
time needs no special case: an interval's length is the real time that passed). A running
total of business microseconds per day ("position") turns every question into a subtraction
or a binary search:

* duration(a, b) = position(b) − position(a);
* deadline(a, t) = the first moment whose position is position(a) + t;
* overdue_cutoff(now, t) = the arrival time before which everything is past its deadline,
  so an overdue list becomes one indexed `received_at < cutoff` filter per unit.

The days are computed lazily and cached, forward and backward, in a thread-safe way.
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_WEEK",
    "BusinessCalendar",
    "DayRule",
    "business_deadline",
    "business_duration",
    "swedish_holidays",
    "working_day_length",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# A target further away than this many days of searching is a calendar without opening hours.
SEARCH_LIMIT_DAYS = 3 * 366
CHUNK_DAYS = 64

Interval = tuple[time, time]

# Monday–Friday 08:00–16:30, the default when an organisation has set no opening hours.
DEFAULT_WEEK: dict[int, tuple[Interval, ...]] = {
    weekday: ((time(8, 0), time(16, 30)),) for weekday in range(5)
}


@dataclass(frozen=True)
class DayRule:
    """An exception for one date: closed all day, or open only between `opens` and `closes`.

    With hours, the weekday's normal intervals are clipped to [opens, closes] (a lunch break
    stays a break); on a day with no normal hours (a Saturday, a public holiday) the day is
    open from `opens` to `closes`. A rule replaces any public holiday on its date, so an
    organisation can open on a day the holiday list would close.
    """

    closed: bool
    opens: time | None = None
    closes: time | None = None


def swedish_holidays(
    *, language: str | None = None, years: Iterable[int] = ()
) -> Mapping[date, str]:
    """Swedish public holidays plus midsommarafton, julafton and nyårsafton.

    The three eves are not public holidays in law but are treated as such by employers
    (the `holidays` package calls them de facto holidays); public offices are closed.
    The mapping fills in years on lookup, so it covers any date asked about.
    """
    import holidays

    return holidays.country_holidays(
        "SE",
        years=list(years),
        categories=("public", "de_facto"),
        include_sundays=False,
        language=language,
    )


def _to_us(moment: datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("business time needs aware datetimes (with a time zone)")
    return (moment - EPOCH) // MICROSECOND


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _end_seconds(t: time) -> int:
    """A closing time in seconds after midnight; 00:00 closes at the end of the day."""
    return 24 * 3600 if t == time(0) else _seconds(t)


def _merge(intervals: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted, non-overlapping, non-empty intervals."""
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


class BusinessCalendar:
    """The organisation's opening hours as a measure of time. Build once, ask many times.

    `weekly` maps a weekday (Monday = 0) to its open intervals in local wall-clock time; a
    closing time of 00:00 means midnight at the end of the day. `days` holds the dated
    exceptions and `holidays` the dates closed as holidays (ignored where `days` has a
    rule). Every method takes and returns aware datetimes; results are in `tz`.
    """

    def __init__(
        self,
        *,
        weekly: Mapping[int, Sequence[Interval]] | None = None,
        days: Mapping[date, DayRule] | None = None,
        holidays: Mapping[date, str] | Callable[[date], bool] | None = None,
        tz: tzinfo | str = "Europe/Stockholm",
    ) -> None:
        self.tz: tzinfo = ZoneInfo(tz) if isinstance(tz, str) else tz
        week = DEFAULT_WEEK if weekly is None else weekly
        self.weekly: dict[int, tuple[tuple[int, int], ...]] = {
            weekday: _merge(
                (_seconds(opens), _end_seconds(closes)) for opens, closes in week.get(weekday, ())
            )
            for weekday in range(7)
        }
        self.days: dict[date, DayRule] = dict(days or {})
        if holidays is None:
            self._is_holiday: Callable[[date], bool] = lambda day: False
        elif callable(holidays):
            self._is_holiday = holidays
        else:
            self._is_holiday = holidays.__contains__
        self._lock = threading.Lock()
        # The cached days: (ordinal of the first date, business µs before each date, with
        # one more entry at the end, open intervals per date). Positions are absolute: they
        # keep their meaning when the cache grows in either direction, and the tuple is
        # replaced whole, so a reader always sees one consistent state.
        self._state: tuple[int, list[int], list[tuple[tuple[int, int], ...]]] = (0, [0], [])

    def __repr__(self) -> str:
        return f"BusinessCalendar(weekly={self.weekly!r}, days={self.days!r}, tz={self.tz!r})"

    # -- Days ---------------------------------------------------------------------------

    def wall_intervals(self, day: date) -> tuple[tuple[int, int], ...]:
        """The open intervals on `day` as seconds after local midnight."""
        rule = self.days.get(day)
        normal = self.weekly[day.weekday()]
        if rule is None:
            return () if self._is_holiday(day) else normal
        if rule.closed:
            return ()
        opens = 0 if rule.opens is None else _seconds(rule.opens)
        closes = 24 * 3600 if rule.closes is None else _end_seconds(rule.closes)
        if not normal:
            return _merge([(opens, closes)]) if rule.opens is not None else ()
        return _merge((max(start, opens), min(end, closes)) for start, end in normal)

    def _day_intervals(self, day: date) -> tuple[tuple[int, int], ...]:
        """The open intervals on `day` in UTC microseconds: every instant at which a clock on
        the wall shows a time inside one of the day's intervals.

        Around a daylight saving change the day is cut where the offset changes; within each
        piece the wall clock runs evenly, so an interval maps to real time by subtracting
        that piece's offset. Wall times that do not exist (the spring gap) count for nothing,
        and wall times that occur twice (the autumn fold) count twice, as they are lived.
        """
        wall = self.wall_intervals(day)
        if not wall:
            return ()
        midnight = (day - EPOCH.date()).days * 86400  # the local midnight, as wall seconds
        result = []
        for first, last, offset in self._offset_pieces(midnight):
            for start, end in wall:
                real_start = max(first, midnight + start - offset)
                real_end = min(last, midnight + end - offset)
                if real_start < real_end:
                    result.append((real_start * 1_000_000, real_end * 1_000_000))
        return _merge(result)

    def _offset(self, seconds: int) -> int:
        offset = (EPOCH + timedelta(seconds=seconds)).astimezone(self.tz).utcoffset()
        return 0 if offset is None else int(offset.total_seconds())

    def _offset_pieces(self, midnight: int) -> list[tuple[int, int, int]]:
        """(first, last, offset) pieces of real time, in epoch seconds, that cover every
        instant of the local day starting at wall time `midnight`; one offset per piece.

        Assumes at most one change of offset within about two days, which holds for every
        time zone in use.
        """
        first, last = midnight - 16 * 3600, midnight + 40 * 3600
        before, after = self._offset(first), self._offset(last)
        if before == after:
            return [(first, last, before)]
        low, high = first, last  # the offset is `before` at low and not at high
        while high - low > 1:
            middle = (low + high) // 2
            if self._offset(middle) == before:
                low = middle
            else:
                high = middle
        return [(first, high, before), (high, last, after)]

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open intervals on a local date, as aware datetimes in the calendar's zone."""
        return [
            (self._from_us(start), self._from_us(end)) for start, end in self._day_intervals(day)
        ]

    def is_open(self, moment: datetime) -> bool:
        us = _to_us(moment)
        index, _cum, intervals = self._day(self._local_date(moment))
        return any(start <= us < end for start, end in intervals[index])

    def is_holiday(self, day: date) -> bool:
        return self._is_holiday(day)

    # -- The running total --------------------------------------------------------------

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def _from_us(self, us: int) -> datetime:
        return (EPOCH + timedelta(microseconds=us)).astimezone(self.tz)

    def _day(self, day: date) -> tuple[int, list[int], list[tuple[tuple[int, int], ...]]]:
        """(index, running totals, intervals) of a cached `day`, growing the cache to it."""
        ordinal = day.toordinal()
        origin, cum, intervals = self._state
        if not intervals or not origin <= ordinal < origin + len(intervals):
            with self._lock:
                self._grow(ordinal)
            origin, cum, intervals = self._state
        return ordinal - origin, cum, intervals

    def _grow(self, ordinal: int) -> None:
        origin, cum, intervals = self._state
        if not intervals:
            origin, cum, intervals = ordinal, [0], []
        last = origin + len(intervals) - 1
        if ordinal > last:
            cum, intervals = list(cum), list(intervals)
            for o in range(last + 1, ordinal + CHUNK_DAYS + 1):
                day = self._day_intervals(date.fromordinal(o))
                intervals.append(day)
                cum.append(cum[-1] + sum(end - start for start, end in day))
        elif ordinal < origin:
            first = ordinal - CHUNK_DAYS
            before = [self._day_intervals(date.fromordinal(o)) for o in range(first, origin)]
            totals = [cum[0]]
            for day in reversed(before):
                totals.append(totals[-1] - sum(end - start for start, end in day))
            cum = totals[:0:-1] + cum
            intervals = before + intervals
            origin = first
        self._state = (origin, cum, intervals)

    def _position(self, moment: datetime) -> int:
        """The running total of business µs at `moment` (an absolute scale)."""
        us = _to_us(moment)
        index, cum, intervals = self._day(self._local_date(moment))
        position = cum[index]
        for start, end in intervals[index]:
            if us <= start:
                break
            position += min(us, end) - start
        return position

    def _covering(self, position: int) -> tuple[list[int], list[tuple[tuple[int, int], ...]]]:
        """A cache state whose running totals hold `position` strictly inside them."""
        for _ in range(SEARCH_LIMIT_DAYS // CHUNK_DAYS + 2):
            origin, cum, intervals = self._state
            if cum[0] < position:
                break
            self._day(date.fromordinal(origin - 1))
        else:
            raise ValueError("the calendar has no business time this far back")
        for _ in range(SEARCH_LIMIT_DAYS // CHUNK_DAYS + 2):
            origin, cum, intervals = self._state
            if cum[-1] > position:
                return cum, intervals
            self._day(date.fromordinal(origin + len(intervals)))
        raise ValueError("the calendar has no business time ahead (no opening hours?)")

    def _first_at(self, position: int) -> int:
        """The first moment (µs) at which the running total reaches `position`."""
        cum, intervals = self._covering(position)
        index = bisect.bisect_left(cum, position) - 1
        remaining = position - cum[index]
        for start, end in intervals[index]:
            if remaining <= end - start:
                return start + remaining
            remaining -= end - start
        raise AssertionError("running total out of step with the intervals")

    def _last_at(self, position: int) -> int:
        """The last moment (µs) at which the running total is still `position`."""
        cum, intervals = self._covering(position)
        index = bisect.bisect_right(cum, position) - 1
        remaining = position - cum[index]
        for start, end in intervals[index]:
            if remaining < end - start:
                return start + remaining
            remaining -= end - start
        raise AssertionError("running total out of step with the intervals")

    # -- Questions ----------------------------------------------------------------------

    def duration(self, start: datetime, end: datetime) -> timedelta:
        """The business time between two moments (negative when `end` is before `start`)."""
        return timedelta(microseconds=self._position(end) - self._position(start))

    def deadline(self, start: datetime, target: timedelta) -> datetime:
        """The moment at which `target` of business time has passed since `start`.

        Something that arrives out of hours starts counting at the next opening. The
        deadline is the earliest such moment: a target that runs out exactly at closing
        time is due at closing, not at the next opening. A zero target is due at `start`.
        """
        target_us = target // MICROSECOND
        if target_us < 0:
            raise ValueError("a target cannot be negative")
        if target_us == 0:
            return start.astimezone(self.tz)
        return self._from_us(self._first_at(self._position(start) + target_us))

    def overdue_cutoff(self, now: datetime, target: timedelta) -> datetime:
        """The arrival time before which everything is past its deadline at `now`.

        For every arrival time `r`: `deadline(r, target) < now` exactly when `r < cutoff`.
        The overdue list can then filter `received_at < cutoff` in the database.
        """
        target_us = target // MICROSECOND
        if target_us < 0:
            raise ValueError("a target cannot be negative")
        if target_us == 0:
            return now.astimezone(self.tz)
        now_position = self._position(now)
        level = now_position - target_us
        if self._first_at(now_position) < _to_us(now):
            # Out of hours: a deadline reached at the last closing has passed as well.
            return self._from_us(self._last_at(level) + 1)
        return self._from_us(self._first_at(level))

    def is_overdue(
        self, received: datetime, target: timedelta, *, now: datetime | None = None
    ) -> bool:
        """Whether something received at `received` is past its deadline (at `now`, default
        the current time)."""
        now = datetime.now(UTC) if now is None else now
        return self.deadline(received, target) < now

    def working_day_length(self) -> timedelta:
        """The business time of one normal working day.

        The most common length among the weekdays that are open at all (the longest when
        two are equally common): 8 h 30 min for Monday–Friday 08:00–16:30. A week with no
        opening hours has a working day of zero.
        """
        lengths = [
            sum(end - start for start, end in self.weekly[weekday])
            for weekday in range(7)
            if self.weekly[weekday]
        ]
        if not lengths:
            return timedelta(0)
        counts = Counter(lengths)
        best = max(counts.items(), key=lambda item: (item[1], item[0]))[0]
        return timedelta(seconds=best)


def _calendar(calendar: BusinessCalendar | None) -> BusinessCalendar:
    if calendar is not None:
        return calendar
    from narvaro.organisation.selectors import business_calendar_load

    return business_calendar_load()


def business_duration(
    start: datetime, end: datetime, *, calendar: BusinessCalendar | None = None
) -> timedelta:
    """Business time between two aware datetimes. Pass `calendar` when asking many times
    (without it the organisation's calendar is loaded from the database on each call)."""
    return _calendar(calendar).duration(start, end)


def business_deadline(
    start: datetime, target: timedelta, *, calendar: BusinessCalendar | None = None
) -> datetime:
    """The moment `target` of business time has elapsed after `start` (see `duration`)."""
    return _calendar(calendar).deadline(start, target)


def working_day_length(*, calendar: BusinessCalendar | None = None) -> timedelta:
    """The business time of one normal working day of the organisation."""
    return _calendar(calendar).working_day_length()
