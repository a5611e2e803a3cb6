"""Services of the "held in order" register: logged reads and exports of the archive (R12, R37).

Reading the archive changes nothing in it, but every record page view and every export is
written to the audit log (R10, R37), so these are services like any other write.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from narvaro.archive.models import Item, VersionMedia
from narvaro.core.models import AuditEvent, User
from narvaro.core.services import audit_record
from narvaro.lib.spreadsheet import spreadsheet_safe

REGISTER_COLUMNS = [
    "platform",
    "remote_id",
    "account",
    "unit",
    "kind",
    "direction",
    "author",
    "author_name",
    "created_at",
    "first_seen_at",
    "thread",
    "versions",
    "deleted",
    "permalink",
    "text",
    "record_url",
]


def _filters_for_log(filters: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value if isinstance(value, bool | int | str) else str(value)
        for key, value in filters.items()
        if value not in (None, "")
    }


def record_view_log(*, actor: User, item: Item, request: HttpRequest | None = None) -> None:
    """Log that `actor` opened the record of `item` (R37)."""
    audit_record(
        actor=actor,
        action=AuditEvent.Action.VIEW,
        target=item,
        unit_id=item.account.unit_id,
        summary=f"record {item} viewed",
        request=request,
    )


def record_media_view_log(
    *, actor: User, item: Item, attachment: VersionMedia, request: HttpRequest | None = None
) -> None:
    """Log that `actor` opened an attachment of `item` (R37)."""
    audit_record(
        actor=actor,
        action=AuditEvent.Action.VIEW,
        target=item,
        unit_id=item.account.unit_id,
        summary=f"attachment {attachment.position + 1} of {attachment.version} viewed",
        request=request,
    )


@transaction.atomic
def record_register_export(
    *,
    actor: User | None,
    rows: list[dict[str, Any]],
    filters: dict[str, Any],
    fmt: str = "csv",
    via: str = "web",
    request: HttpRequest | None = None,
) -> bytes:
    """The register rows as CSV (formulas neutralised), logged with filters and row count.

    `fmt="json"` only logs (the command line writes its own JSON); CSV also builds the file.
    """
    content = b""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=REGISTER_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: spreadsheet_safe(value) for key, value in row.items()})
        # A byte-order mark lets spreadsheet programs open the file as UTF-8 (å, ä, ö).
        content = ("\ufeff" + buffer.getvalue()).encode()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        summary=f"records register exported as {fmt} via {via} ({len(rows)} items)",
        changes={"filters": _filters_for_log(filters), "items": len(rows), "via": via},
        request=request,
    )
    return content
