"""Platform-independent harvesting: connect, harvest on a schedule, account for every gap.

`harvest_run(connection)` runs one harvest of a connected account:

1. The connector yields batches since the stored cursor; each batch goes through the
   archive's single writer (`archive.services.capture_batch`, idempotent, so a repeat
   adds nothing) and the cursor is saved after each stored batch, so an interrupted
   harvest resumes where it stopped and never skips.
2. Recent items the archive holds are re-checked for edits and deletions.
3. On failure a capture gap is opened (or the open one extended) from the last moment
   known to be captured. A revoked or expired token flags the connection "reconnect
   needed" at once, in the audit log and by e-mail to the account's responsible staff; no
   further harvest is tried until someone reconnects. Other failures back off
   exponentially with jitter (capped), so an outage never turns into a retry storm.
4. The next successful harvest back-fills from the cursor and closes the gap: recovered,
   or lost when the window lies beyond what the platform lets us read back.

Scheduling: the worker's `channels-harvest-due` job (every minute) enqueues one
`harvest_connection` task per connection whose `next_run_at` has come, claiming it with a
conditional UPDATE so two workers never harvest the same account at once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from narvaro.archive.capture import EventInput
from narvaro.archive.models import Item, ItemEvent, ItemVersion
from narvaro.archive.services import BatchResult, capture_batch
from narvaro.channels.connectors import connector_class
from narvaro.channels.connectors.base import (
    AuthError,
    Connector,
    ConnectorError,
    HarvestBatch,
    HeldItem,
    MalformedResponse,
    Profile,
    RateLimited,
    RetryPolicy,
    Unavailable,
)
from narvaro.channels.models import Account, CaptureGap, Connection
from narvaro.channels.tokens import (
    CredentialsUnreadable,
    decrypt_credentials,
    encrypt_credentials,
)
from narvaro.core.models import AuditEvent, User
from narvaro.core.services import audit_record
from narvaro.lib.links import absolute_url

logger = logging.getLogger(__name__)

SOURCE = "harvest"
#: Longest pause between attempts after repeated failures.
MAX_BACKOFF = dt.timedelta(hours=1)
#: Items created this recently are re-checked for edits and deletions on every harvest.
RECHECK_WINDOW = dt.timedelta(days=2)
RECHECK_LIMIT = 200
#: Seconds before one platform request counts as timed out (then retried as Unavailable).
REQUEST_TIMEOUT = 10.0


def harvest_interval() -> dt.timedelta:
    """NARVARO_HARVEST_INTERVAL (settings.py reads and checks it)."""
    return dt.timedelta(seconds=max(30, int(settings.NARVARO_HARVEST_INTERVAL)))


@dataclass
class HarvestReport:
    """What one harvest did; the JSON `narvaro channels harvest` prints."""

    items: int = 0
    versions: int = 0
    deletions: int = 0
    media: int = 0
    duplicates_skipped: int = 0
    gaps: int = 0
    gaps_recovered: int = 0
    gaps_lost: int = 0
    status: str = "ok"
    error: str = ""
    retries: int = 0

    def add(self, result: BatchResult) -> None:
        self.items += result.items
        self.versions += result.versions
        self.deletions += result.deletions
        self.media += result.media
        self.duplicates_skipped += result.duplicates_skipped

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- connecting -------------------------------------------------------------------------------


def account_ref(account: Account) -> str:
    return f"{account.platform}:{account.handle}"


def build_connector(
    *,
    platform: str,
    base_url: str,
    credentials: dict[str, str],
    handle: str = "",
    policy: RetryPolicy | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> Connector:
    cls = connector_class(platform)
    return cls(
        base_url=base_url, credentials=credentials, handle=handle, policy=policy, timeout=timeout
    )


def connector_for(
    connection: Connection, *, policy: RetryPolicy | None = None, timeout: float = REQUEST_TIMEOUT
) -> Connector:
    return build_connector(
        platform=connection.account.platform,
        base_url=connection.base_url,
        credentials=decrypt_credentials(connection.credentials_encrypted),
        handle=connection.account.handle,
        policy=policy,
        timeout=timeout,
    )


@transaction.atomic
def connection_save(
    *,
    actor: User | None,
    account: Account,
    base_url: str,
    credentials: dict[str, str],
    profile: Profile,
) -> Connection:
    """Store (or replace) the account's credentials, verified beforehand by the caller.

    Reconnecting keeps the cursor and every archived record; only the secret changes. The
    secret itself is never logged: the audit event says that it changed and when.
    """
    now = timezone.now()
    connection = Connection.objects.select_for_update().filter(account=account).first()
    created = connection is None
    if connection is None:
        connection = Connection(account=account, next_run_at=now)
    before = {
        "status": connection.status,
        "base_url": connection.base_url,
        "platform_account_id": connection.platform_account_id,
    }
    connection.base_url = base_url
    connection.credentials_encrypted = encrypt_credentials(credentials)
    connection.platform_account_id = profile.platform_id
    connection.status = Connection.Status.ACTIVE
    connection.consecutive_failures = 0
    connection.last_error = ""
    connection.token_changed_at = now
    connection.next_run_at = now
    connection.full_clean()
    connection.save()
    after = {
        "status": connection.status,
        "base_url": connection.base_url,
        "platform_account_id": connection.platform_account_id,
    }
    changes: dict[str, Any] = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    changes["credentials"] = ["(stored)" if not created else None, "(replaced)"]
    audit_record(
        actor=actor,
        action=AuditEvent.Action.SECURITY,
        target=account,
        unit_id=account.unit_id,
        summary="platform token connected" if created else "platform token replaced (reconnect)",
        changes=changes,
    )
    return connection


# -- harvesting -------------------------------------------------------------------------------


def _held_items(account: Account, now: dt.datetime) -> list[HeldItem]:
    """Recent items of the account that are not yet known to be deleted, newest first."""
    deleted = ItemEvent.objects.filter(account=account, type=ItemEvent.Type.DELETED).values(
        "item_id"
    )
    items = list(
        # Items first seen by this very harvest were just read: no need to look again.
        Item.objects.filter(
            account=account, created_at__gte=now - RECHECK_WINDOW, first_seen_at__lt=now
        )
        .exclude(pk__in=deleted)
        .order_by("-created_at")
        .values_list("pk", "remote_id", "created_at")[:RECHECK_LIMIT]
    )
    latest: dict[int, str] = {}
    for item_id, payload in (
        ItemVersion.objects.filter(item_id__in=[row[0] for row in items])
        .order_by("item_id", "number")
        .values_list("item_id", "raw_payload")
    ):
        latest[item_id] = payload or ""
    return [
        HeldItem(remote_id=r, raw_payload=latest.get(pk, ""), created_at=c) for pk, r, c in items
    ]


def batch_store(
    connection: Connection, batch: HarvestBatch, report: HarvestReport, *, source: str = SOURCE
) -> None:
    """Store one batch through the archive's writer, then save its cursor (if it has one)."""
    account = connection.account
    events = list(batch.events)
    if events:
        # Only events about held items, and a deletion only once (re-checks repeat it).
        ids = {e.remote_id for e in events}
        held = dict(
            Item.objects.filter(platform=account.platform, remote_id__in=ids).values_list(
                "remote_id", "pk"
            )
        )
        captured_now = {c.remote_id for c in batch.captures}
        already_deleted = set(
            ItemEvent.objects.filter(
                item_id__in=held.values(), type=ItemEvent.Type.DELETED
            ).values_list("item__remote_id", flat=True)
        )
        kept: list[EventInput] = []
        for event in events:
            if event.remote_id not in held and event.remote_id not in captured_now:
                continue
            if event.type == ItemEvent.Type.DELETED and event.remote_id in already_deleted:
                continue
            kept.append(event)
        events = kept
    result = capture_batch(account=account, captures=batch.captures, events=events, source=source)
    report.add(result)
    if batch.cursor:
        connection.cursor = {**connection.cursor, **batch.cursor}
        Connection.objects.filter(pk=connection.pk).update(cursor=connection.cursor)


def _backoff(failures: int) -> dt.timedelta:
    base = harvest_interval().total_seconds() * (2 ** min(failures, 10))
    capped = min(base, MAX_BACKOFF.total_seconds())
    return dt.timedelta(seconds=random.uniform(capped * 0.8, capped))  # noqa: S311


def _notify_reconnect(connection: Connection, error: str) -> None:
    """Tell the account's responsible staff, in the organisation's language, to reconnect.

    The link is the account's capture page: everyone who may see the account can open it, and
    it holds the reconnect button for those who may manage it.
    """
    account = connection.account
    recipients = list(
        account.responsible.filter(is_active=True).exclude(email="").values_list("email", flat=True)
    )
    if not recipients:
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Narvaro: %(account)s must be reconnected") % {"account": account_ref(account)}
        body = "\n\n".join(
            [
                _("Capture of %(account)s stopped because the platform refused its token.")
                % {"account": account},
                _(
                    "Nothing that was captured before is lost. Once the account is reconnected, "
                    "the harvest back-fills the window where the platform allows."
                ),
                _("Reconnect the account on its capture page in Narvaro: %(url)s")
                % {"url": absolute_url(reverse("channels:account_capture", args=[account.pk]))},
                _("The platform's answer: %(error)s") % {"error": error},
            ]
        )
    send_mail(subject, body, None, recipients, fail_silently=True)


def _record_failure(
    connection: Connection, exc: Exception, started: dt.datetime, report: HarvestReport
) -> None:
    account = connection.account
    reason = exc.reason if isinstance(exc, ConnectorError) else CaptureGap.Reason.ERROR
    if reason not in CaptureGap.Reason.values:
        reason = CaptureGap.Reason.ERROR
    detail = f"{type(exc).__name__}: {exc}"[:500]
    with transaction.atomic():
        gap = (
            CaptureGap.objects.select_for_update()
            .filter(account=account, status=CaptureGap.Status.OPEN)
            .first()
        )
        if gap is None:
            start = connection.last_success_at or connection.created_at
            gap = CaptureGap.objects.create(
                account=account, start=start, reason=reason, detail=detail
            )
            audit_record(
                actor=None,
                action=AuditEvent.Action.UPDATE,
                target=account,
                unit_id=account.unit_id,
                summary=f"capture gap opened: {reason}",
                changes={"gap": [None, gap.pk], "detail": [None, detail]},
            )
        else:
            gap.failures += 1
            if reason == CaptureGap.Reason.AUTH:
                gap.reason = reason
            gap.detail = detail
            gap.save(update_fields=["failures", "reason", "detail"])
        connection.consecutive_failures += 1
        connection.last_error = detail
        if isinstance(exc, AuthError):
            connection.status = Connection.Status.RECONNECT
            connection.next_run_at = None
            audit_record(
                actor=None,
                action=AuditEvent.Action.SECURITY,
                target=account,
                unit_id=account.unit_id,
                summary="platform token refused: reconnect needed",
                changes={"status": [Connection.Status.ACTIVE, Connection.Status.RECONNECT]},
            )
        else:
            wait = _backoff(connection.consecutive_failures)
            if isinstance(exc, RateLimited):
                wait = max(wait, dt.timedelta(seconds=exc.retry_after))
            connection.next_run_at = started + min(wait, MAX_BACKOFF)
        connection.save(
            update_fields=[
                "consecutive_failures",
                "last_error",
                "status",
                "next_run_at",
                "last_attempt_at",
                "updated_at",
            ]
        )
    if isinstance(exc, AuthError):
        _notify_reconnect(connection, detail)
    report.status = "reconnect_needed" if isinstance(exc, AuthError) else "failed"
    report.error = detail


def _record_success(
    connection: Connection, connector: Connector, started: dt.datetime, report: HarvestReport
) -> None:
    account = connection.account
    with transaction.atomic():
        for gap in CaptureGap.objects.select_for_update().filter(
            account=account, status=CaptureGap.Status.OPEN
        ):
            gap.end = started
            gap.closed_at = timezone.now()
            reach = connector.reach_back
            if reach is not None and gap.start < started - reach:
                gap.status = CaptureGap.Status.LOST
                gap.detail = (gap.detail + f"; the platform reads back only {reach}")[:500]
                report.gaps_lost += 1
            else:
                gap.status = CaptureGap.Status.RECOVERED
                report.gaps_recovered += 1
            gap.save(update_fields=["end", "closed_at", "status", "detail"])
            audit_record(
                actor=None,
                action=AuditEvent.Action.UPDATE,
                target=account,
                unit_id=account.unit_id,
                summary=f"capture gap {gap.status}",
                changes={"gap": [gap.pk, gap.pk], "status": ["open", gap.status]},
            )
        connection.last_success_at = started
        connection.consecutive_failures = 0
        connection.last_error = ""
        connection.next_run_at = started + harvest_interval()
        connection.save(
            update_fields=[
                "last_success_at",
                "consecutive_failures",
                "last_error",
                "next_run_at",
                "last_attempt_at",
                "updated_at",
            ]
        )


def harvest_run(
    connection: Connection,
    *,
    policy: RetryPolicy | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> HarvestReport:
    """Run one harvest of `connection` now; never raises for platform failures."""
    report = HarvestReport()
    started = timezone.now()
    connection.last_attempt_at = started
    if connection.status == Connection.Status.RECONNECT:
        report.status = "reconnect_needed"
        report.error = connection.last_error or "reconnect needed"
        report.gaps = CaptureGap.objects.filter(
            account=connection.account, status=CaptureGap.Status.OPEN
        ).count()
        return report
    policy = policy or RetryPolicy()
    connector: Connector | None = None
    try:
        try:
            connector = connector_for(connection, policy=policy, timeout=timeout)
        except CredentialsUnreadable as exc:
            raise AuthError(str(exc)) from exc
        for batch in connector.harvest(dict(connection.cursor)):
            batch_store(connection, batch, report)
        held = _held_items(connection.account, started)
        if held:
            for batch in connector.recheck(held):
                batch_store(connection, batch, report)
    except (AuthError, RateLimited, Unavailable, MalformedResponse, ConnectorError) as exc:
        logger.warning("harvest of %s failed: %s", account_ref(connection.account), exc)
        _record_failure(connection, exc, started, report)
    except Exception as exc:
        # A bug or a database error: the window is still not captured, so it is recorded
        # (reason "error") and retried with backoff like an outage, never skipped silently.
        logger.exception("harvest of %s crashed", account_ref(connection.account))
        _record_failure(connection, exc, started, report)
    else:
        assert connector is not None
        _record_success(connection, connector, started, report)
    report.retries = policy.retries
    report.gaps = CaptureGap.objects.filter(
        account=connection.account, status=CaptureGap.Status.OPEN
    ).count()
    return report


def harvest_due(now: dt.datetime | None = None) -> list[int]:
    """Claim every connection whose harvest is due and enqueue one task for each."""
    from narvaro.channels.tasks import harvest_connection

    now = now or timezone.now()
    claimed: list[int] = []
    due = Connection.objects.filter(status=Connection.Status.ACTIVE, next_run_at__lte=now)
    for pk, next_run in due.values_list("pk", "next_run_at"):
        # Push the next run forward first; only the worker whose UPDATE matched enqueues.
        lease = now + harvest_interval()
        if Connection.objects.filter(pk=pk, next_run_at=next_run).update(next_run_at=lease):
            harvest_connection.enqueue(pk)
            claimed.append(pk)
    return claimed


def harvest_claim(connection: Connection, now: dt.datetime | None = None) -> bool:
    """Claim an active connection for a harvest now, as `harvest_due` does for due ones.

    False when the connection is not active or another process moved its `next_run_at`
    in between (a worker claimed it and is harvesting).
    """
    now = now or timezone.now()
    current = (
        Connection.objects.filter(pk=connection.pk, status=Connection.Status.ACTIVE)
        .values_list("next_run_at", flat=True)
        .first()
    )
    if current is None:
        return False
    lease = now + harvest_interval()
    return bool(
        Connection.objects.filter(
            pk=connection.pk, status=Connection.Status.ACTIVE, next_run_at=current
        ).update(next_run_at=lease)
    )


def report_json(report: HarvestReport) -> str:
    return json.dumps(report.as_dict(), sort_keys=True)


__all__ = [
    "HarvestReport",
    "batch_store",
    "build_connector",
    "connection_save",
    "connector_for",
    "harvest_claim",
    "harvest_due",
    "harvest_run",
]
