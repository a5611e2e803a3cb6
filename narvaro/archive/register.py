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
from django.utils.translation import gettext_lazy as _

from narvaro.archive.models import Item, VersionMedia
from narvaro.core.audit_summaries import (
    ATTACHMENT_VIEWED,
    RECORD_VIEWED,
    RECORDS_EXPORTED,
    audit_summary,
)
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
# The CSV's headings, in the language of the person exporting.
REGISTER_HEADINGS = {
    "platform": _("Platform"),
    "remote_id": _("Platform id"),
    "account": _("Account"),
    "unit": _("Unit"),
    "kind": _("Kind"),
    "direction": _("Direction"),
    "author": _("Author"),
    "author_name": _("Author name"),
    "created_at": _("Created on the platform"),
    "first_seen_at": _("First seen by Narvaro"),
    "thread": _("Thread"),
    "versions": _("Versions"),
    "deleted": _("Deleted on the platform"),
    "permalink": _("Permalink"),
    "text": _("Text (latest version)"),
    "record_url": _("Record page"),
}


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
        summary=audit_summary(RECORD_VIEWED, item=item),
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
        summary=audit_summary(
            ATTACHMENT_VIEWED, position=attachment.position + 1, version=attachment.version
        ),
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

    `fmt="json"` only logs (the command line writes its own JSON); CSV also builds the file,
    its headings in the active language.
    """
    content = b""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([str(REGISTER_HEADINGS[column]) for column in REGISTER_COLUMNS])
        for row in rows:
            writer.writerow([spreadsheet_safe(row.get(column, "")) for column in REGISTER_COLUMNS])
        # A byte-order mark lets spreadsheet programs open the file as UTF-8 (å, ä, ö).
        content = ("\ufeff" + buffer.getvalue()).encode()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        summary=audit_summary(RECORDS_EXPORTED, format=fmt, via=via, count=len(rows)),
        changes={"filters": _filters_for_log(filters), "items": len(rows), "via": via},
        request=request,
    )
    return content
