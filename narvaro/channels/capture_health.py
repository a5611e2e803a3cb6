"""Capture health and the completeness report of a connected account (for the registrar).

A period is complete where a harvest covered it: gap windows that are still open or were
lost are uncovered; recovered windows count as covered, since the back-fill reached them.
Time before the account was connected is reported separately: live capture had not begun
(an export import may cover it).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from narvaro.archive.models import Item, ItemEvent
from narvaro.channels.models import Account, CaptureGap, Connection, PlatformAction
from narvaro.lib.spreadsheet import spreadsheet_safe


@dataclass(frozen=True)
class GapRow:
    gap: CaptureGap
    start: dt.datetime  # clipped to the period
    end: dt.datetime

    @property
    def seconds(self) -> float:
        return max(0.0, (self.end - self.start).total_seconds())


@dataclass
class CompletenessReport:
    account: Account
    start: dt.datetime
    end: dt.datetime
    connected_at: dt.datetime | None
    rows: list[GapRow] = field(default_factory=list)
    items_by_kind: dict[str, int] = field(default_factory=dict)
    deletions: int = 0

    @property
    def period_seconds(self) -> float:
        return max(0.0, (self.end - self.start).total_seconds())

    @property
    def before_connection_seconds(self) -> float:
        if self.connected_at is None:
            return self.period_seconds
        cut = min(max(self.connected_at, self.start), self.end)
        return (cut - self.start).total_seconds()

    def seconds_with(self, status: str) -> float:
        return sum(row.seconds for row in self.rows if row.gap.status == status)

    @property
    def uncovered_seconds(self) -> float:
        return self.seconds_with(CaptureGap.Status.OPEN) + self.seconds_with(CaptureGap.Status.LOST)

    @property
    def covered_percent(self) -> float:
        """Share of the period since the connection that the harvest covered."""
        live = self.period_seconds - self.before_connection_seconds
        if live <= 0:
            return 0.0
        return round(100.0 * max(0.0, live - self.uncovered_seconds) / live, 2)

    @property
    def items(self) -> int:
        return sum(self.items_by_kind.values())


def capture_health(account: Account) -> dict[str, object]:
    """What the capture page shows: the connection, its lag, its gaps and recent actions."""
    connection = Connection.objects.filter(account=account).first()
    now = timezone.now()
    lag = None
    if connection is not None and connection.last_success_at is not None:
        lag = now - connection.last_success_at
    return {
        "connection": connection,
        "lag": lag,
        "gaps": list(CaptureGap.objects.filter(account=account).order_by("-start")[:100]),
        "actions": list(
            PlatformAction.objects.filter(account=account)
            .select_related("actor")
            .order_by("-created_at")[:20]
        ),
    }


def completeness_report(
    account: Account, start: dt.datetime, end: dt.datetime
) -> CompletenessReport:
    connection = Connection.objects.filter(account=account).first()
    report = CompletenessReport(
        account=account,
        start=start,
        end=end,
        connected_at=connection.created_at if connection is not None else None,
    )
    now = timezone.now()
    gaps = (
        CaptureGap.objects.filter(account=account, start__lt=end)
        .filter(Q(end__isnull=True) | Q(end__gt=start))
        .order_by("start")
    )
    for gap in gaps:
        gap_end = gap.end or now
        report.rows.append(GapRow(gap=gap, start=max(gap.start, start), end=min(gap_end, end)))
    report.items_by_kind = dict(
        Item.objects.filter(account=account, created_at__gte=start, created_at__lt=end)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    report.deletions = ItemEvent.objects.filter(
        account=account,
        type=ItemEvent.Type.DELETED,
        occurred_at__gte=start,
        occurred_at__lt=end,
    ).count()
    return report


CSV_COLUMNS = [
    "account",
    "period_start",
    "period_end",
    "window_start",
    "window_end",
    "reason",
    "status",
    "failed_attempts",
    "detail",
]


def completeness_csv(report: CompletenessReport) -> str:
    """One row per gap window (clipped to the period); a summary row when there is none."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    ref = f"{report.account.platform}:{report.account.handle}"
    for row in report.rows:
        writer.writerow(
            spreadsheet_safe(value)
            for value in [
                ref,
                report.start.isoformat(),
                report.end.isoformat(),
                row.start.isoformat(),
                row.end.isoformat() if row.gap.end is not None else "",
                row.gap.reason,
                row.gap.status,
                row.gap.failures,
                row.gap.detail,
            ]
        )
    if not report.rows:
        writer.writerow(
            spreadsheet_safe(value)
            for value in [
                ref,
                report.start.isoformat(),
                report.end.isoformat(),
                "",
                "",
                "",
                "complete" if report.connected_at else "not_connected",
                0,
                _("No capture gaps in this period."),
            ]
        )
    return buffer.getvalue()
