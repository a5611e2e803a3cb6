"""Is the inbound traffic of an account (or a unit) improbably high right now?

For each account, the history of the last weeks (NARVARO_RADAR_HISTORY_WEEKS) gives, per hour
of the week in local time (Monday 08-09, Saturday 22-23 ...), how many inbound items usually
arrive and which share of them is critique. The window just ended (NARVARO_RADAR_WINDOW_MINUTES)
is compared with that:

- **volume**: the observed count against a Poisson distribution with the expected count λ
  (the sum, over the hours the window covers, of that hour's usual rate);
  p = P(X ≥ observed);
- **critique share**: the observed critical items among the observed items against a binomial
  distribution with the usual critique share of those hours; p = P(X ≥ critical).

A test fires when p < NARVARO_RADAR_SENSITIVITY and the count reaches the minimum
(NARVARO_RADAR_MIN_COUNT items, NARVARO_RADAR_MIN_CRITIQUE critical items), so three replies to
a quiet account are not news.

An hour of the week seen only a few times is a noisy estimate; it is shrunk towards the
account's overall hourly rate (a prior worth one week), and an hour's critique share towards the
account's overall share (a prior worth 20 items). An account with less than a day of history
has no expectation and raises nothing.

One database query aggregates the history of all accounts by hour of the week; one reads the
window. A unit is evaluated on the sum of its accounts' counts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Min, Q
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils import timezone
from scipy import stats

from narvaro.radar.models import Category, Classification

HOURS_OF_WEEK = 168
RATE_PRIOR_WEEKS = 1.0
SHARE_PRIOR_ITEMS = 20.0
MIN_HISTORY = dt.timedelta(days=1)


def hour_of_week(moment: dt.datetime) -> int:
    local = timezone.localtime(moment)
    return local.weekday() * 24 + local.hour


@dataclass
class History:
    """An account's (or a unit's) items per hour of the week over its history."""

    counts: list[float] = field(default_factory=lambda: [0.0] * HOURS_OF_WEEK)
    critique: list[float] = field(default_factory=lambda: [0.0] * HOURS_OF_WEEK)
    first: dt.datetime | None = None

    def add(self, other: History) -> None:
        for hour in range(HOURS_OF_WEEK):
            self.counts[hour] += other.counts[hour]
            self.critique[hour] += other.critique[hour]
        if other.first is not None and (self.first is None or other.first < self.first):
            self.first = other.first


@dataclass(frozen=True)
class Expectation:
    expected: float  # items expected in the window
    share: float  # critique share expected


def expectation(history: History, start: dt.datetime, end: dt.datetime) -> Expectation | None:
    """What the window [start, end) should hold, from `history` (which ends at `start`)."""
    if history.first is None:
        return None
    earliest = start - dt.timedelta(weeks=settings.NARVARO_RADAR_HISTORY_WEEKS)
    span = start - max(history.first, earliest)
    if span < MIN_HISTORY:
        return None
    weeks = span / dt.timedelta(weeks=1)
    total = sum(history.counts)
    overall_rate = total / (span / dt.timedelta(hours=1))
    overall_share = (sum(history.critique) + 1) / (total + 2)
    expected = 0.0
    critique_expected = 0.0
    # Walk the window hour slot by hour slot (a 60-minute window covers at most two).
    cursor = start
    while cursor < end:
        local = timezone.localtime(cursor)
        slot_end = min(
            end, (local.replace(minute=0, second=0, microsecond=0)) + dt.timedelta(hours=1)
        )
        fraction = (slot_end - cursor) / dt.timedelta(hours=1)
        hour = hour_of_week(cursor)
        rate = (history.counts[hour] + RATE_PRIOR_WEEKS * overall_rate) / (weeks + RATE_PRIOR_WEEKS)
        share = (history.critique[hour] + SHARE_PRIOR_ITEMS * overall_share) / (
            history.counts[hour] + SHARE_PRIOR_ITEMS
        )
        expected += fraction * rate
        critique_expected += fraction * rate * share
        cursor = slot_end
    share = critique_expected / expected if expected > 0 else overall_share
    return Expectation(expected=max(expected, 1e-6), share=min(max(share, 1e-6), 1 - 1e-6))


@dataclass
class Reading:
    """One scope's window against its expectation, with the verdict of both tests."""

    account_id: int | None
    unit_id: int
    item_ids: list[int]
    critique_ids: list[int]
    expected: float
    share: float
    volume_p: float
    critique_p: float
    volume_spike: bool
    critique_spike: bool

    @property
    def observed(self) -> int:
        return len(self.item_ids)

    @property
    def spike(self) -> bool:
        return self.volume_spike or self.critique_spike


def test(
    item_ids: list[int], critique_ids: list[int], exp: Expectation
) -> tuple[float, float, bool, bool]:
    """The two tests: (volume p, critique p, volume spike, critique spike)."""
    observed, critical = len(item_ids), len(critique_ids)
    volume_p = float(stats.poisson.sf(observed - 1, exp.expected)) if observed else 1.0
    critique_p = float(stats.binom.sf(critical - 1, observed, exp.share)) if critical else 1.0
    sensitivity = settings.NARVARO_RADAR_SENSITIVITY
    return (
        volume_p,
        critique_p,
        observed >= settings.NARVARO_RADAR_MIN_COUNT and volume_p < sensitivity,
        critical >= settings.NARVARO_RADAR_MIN_CRITIQUE and critique_p < sensitivity,
    )


def _histories(account_ids: set[int], start: dt.datetime) -> dict[int, History]:
    earliest = start - dt.timedelta(weeks=settings.NARVARO_RADAR_HISTORY_WEEKS)
    tz = timezone.get_current_timezone()
    rows = (
        Classification.objects.filter(account_id__in=account_ids, at__gte=earliest, at__lt=start)
        .annotate(day=ExtractIsoWeekDay("at", tzinfo=tz), hour=ExtractHour("at", tzinfo=tz))
        .values("account_id", "day", "hour")
        .annotate(
            n=Count("id"),
            c=Count("id", filter=Q(category=Category.CRITIQUE)),
            first=Min("at"),
        )
    )
    histories: dict[int, History] = defaultdict(History)
    for row in rows:
        history = histories[row["account_id"]]
        slot = (row["day"] - 1) * 24 + row["hour"]
        history.counts[slot] += row["n"]
        history.critique[slot] += row["c"]
        if history.first is None or row["first"] < history.first:
            history.first = row["first"]
    return histories


def readings(now: dt.datetime, account_units: dict[int, int]) -> list[Reading]:
    """Every account's and unit's window ending `now`, tested against its history.

    `account_units` maps each account id to its unit id. Only scopes with enough items in the
    window to ever fire are tested (and only their history is read).
    """
    start = now - dt.timedelta(minutes=settings.NARVARO_RADAR_WINDOW_MINUTES)
    window = Classification.objects.filter(at__gte=start, at__lt=now).values_list(
        "account_id", "item_id", "category"
    )
    items: dict[int, list[int]] = defaultdict(list)
    critique: dict[int, list[int]] = defaultdict(list)
    for account_id, item_id, category in window.order_by("at", "item_id"):
        items[account_id].append(item_id)
        if category == Category.CRITIQUE:
            critique[account_id].append(item_id)
    least = min(settings.NARVARO_RADAR_MIN_COUNT, settings.NARVARO_RADAR_MIN_CRITIQUE)
    units: dict[int, list[int]] = defaultdict(list)
    for account_id, unit_id in account_units.items():
        units[unit_id].append(account_id)
    unit_totals = {unit: sum(len(items[a]) for a in accounts) for unit, accounts in units.items()}
    busy_units = {
        u for u, accounts in units.items() if len(accounts) > 1 and unit_totals[u] >= least
    }
    candidates = {a for a in items if len(items[a]) >= least} | {
        a for unit in busy_units for a in units[unit]
    }
    if not candidates:
        return []
    histories = _histories(candidates, start)
    found: list[Reading] = []

    def read(account_id: int | None, unit_id: int, history: History, accounts: list[int]) -> None:
        exp = expectation(history, start, now)
        if exp is None:
            return
        item_ids = sorted(i for a in accounts for i in items[a])
        critique_ids = sorted(i for a in accounts for i in critique[a])
        volume_p, critique_p, volume, critical = test(item_ids, critique_ids, exp)
        found.append(
            Reading(account_id, unit_id, item_ids, critique_ids, exp.expected, exp.share,
                    volume_p, critique_p, volume, critical)
        )  # fmt: skip

    for account_id in sorted(candidates):
        if account_id in account_units and len(items[account_id]) >= least:
            read(account_id, account_units[account_id], histories[account_id], [account_id])
    # A unit with several accounts: a rise spread over them that none shows alone.
    for unit_id in sorted(busy_units):
        accounts = units[unit_id]
        combined = History()
        for account_id in accounts:
            combined.add(histories[account_id])
        read(None, unit_id, combined, accounts)
    return found
