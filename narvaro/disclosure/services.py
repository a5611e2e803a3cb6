"""Writes of requests for public records: logging, compiling, deciding, redacting, releasing.

Every change and every view or export of records is written to the audit log in the same
transaction (R25, R37). Nothing here writes to the archive: a redaction is a span applied to
the disclosure copy when it is rendered (`rendering.render_items_pdf`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Max, Prefetch, Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from narvaro.archive.capture import iso
from narvaro.archive.models import Item, ItemEvent, ItemVersion, VersionMedia
from narvaro.core.audit_summaries import (
    DELIVERY_FILE_DOWNLOADED,
    DELIVERY_MADE,
    DELIVERY_RETRIED,
    DELIVERY_STALLED_FAILED,
    DELIVERY_STALLED_REQUEUED,
    REDACTION_ACCEPTED,
    REDACTION_ADDED,
    REDACTION_FIELD_ACCEPTED,
    REDACTION_FIELD_ADDED,
    REDACTION_FIELD_REJECTED,
    REDACTION_REJECTED,
    REQUEST_CLOSED,
    REQUEST_DECISION,
    REQUEST_HANDED_OVER,
    REQUEST_RECEIVED,
    REQUEST_RECORD_REMOVED,
    REQUEST_RECORDS_COMPILED,
    WORKING_COPY_PRINTED,
    audit_summary,
)
from narvaro.core.models import AuditEvent, User
from narvaro.core.services import audit_record
from narvaro.disclosure.detection import find_personal_data
from narvaro.disclosure.models import (
    Decision,
    Delivery,
    DeliveryFile,
    RecordsRequest,
    Redaction,
    RequestItem,
)
from narvaro.disclosure.rendering import (
    NO_POSITION,
    MaskKey,
    Span,
    html_to_pdf,
    masked_segments,
    masked_usernames,
    render_items_pdf,
    scrub_ids,
    segments_plain,
)
from narvaro.disclosure.selectors import sensitive_categories_of
from narvaro.lib.spreadsheet import spreadsheet_safe

logger = logging.getLogger(__name__)

REQUEST_FIELDS = [
    "received_at",
    "channel",
    "scope",
    "delivery_route",
    "delivery_address",
    "requester_name",
    "electronic_copy",
    "handler",
]


@transaction.atomic
def request_create(
    *, actor: User, request: HttpRequest | None = None, **fields: Any
) -> RecordsRequest:
    """Log a request for public records. Only the scope, channel and delivery are required."""
    unknown = set(fields) - set(REQUEST_FIELDS)
    if unknown:
        raise ValueError(f"request_create cannot set {sorted(unknown)}")
    fields.setdefault("handler", actor)
    records_request = RecordsRequest(**fields)
    records_request.full_clean()
    records_request.save()
    # The requester's name is personal data: the log says whether one was given, not which.
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=records_request,
        summary=audit_summary(REQUEST_RECEIVED, received_at=iso(records_request.received_at)),
        changes={
            "channel": records_request.channel,
            "anonymous": not records_request.requester_name,
        },
        request=request,
    )
    return records_request


@transaction.atomic
def request_close(
    *, actor: User, records_request: RecordsRequest, request: HttpRequest | None = None
) -> RecordsRequest:
    """Close a request once nothing in it waits for a decision or a delivery."""
    waiting = records_request.items.exclude(delivery__status=Delivery.Status.READY).count()
    if waiting:
        raise ValidationError(
            _("%(count)s records have not been decided and delivered yet.") % {"count": waiting}
        )
    records_request.status = RecordsRequest.Status.CLOSED
    records_request.closed_at = timezone.now()
    records_request.full_clean()
    records_request.save(update_fields=["status", "closed_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        target=records_request,
        summary=audit_summary(REQUEST_CLOSED),
        request=request,
    )
    return records_request


@transaction.atomic
def request_reassign(
    *,
    actor: User,
    records_request: RecordsRequest,
    handler: User,
    request: HttpRequest | None = None,
) -> RecordsRequest:
    """Hand the request to another registrar or admin (holiday cover: someone always holds it)."""
    _require_open(records_request)
    if not (handler.is_active and (handler.is_registrar or handler.is_org_admin)):
        raise ValidationError(
            {"handler": _("Only an active registrar or admin can hold a request.")}
        )
    before = str(records_request.handler)
    records_request.handler = handler
    records_request.full_clean()
    records_request.save(update_fields=["handler", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=records_request,
        summary=audit_summary(REQUEST_HANDED_OVER),
        changes={"handler": [before, str(handler)]},
        request=request,
    )
    return records_request


def maskable_values(item: Item) -> list[tuple[str, ItemVersion | None, int | None, str]]:
    """Everything of `item` the disclosure copy shows that may hold personal data.

    (field, version, attachment position, value): the author's display name and handle,
    then per version its text and each attachment's alt text and file name. The versions and
    their attachments must be prefetched.
    """
    values: list[tuple[str, ItemVersion | None, int | None, str]] = [
        (Redaction.Field.AUTHOR_NAME, None, None, item.author_name),
        (Redaction.Field.AUTHOR_HANDLE, None, None, item.author_handle),
    ]
    for version in item.versions.all():
        values.append((Redaction.Field.TEXT, version, None, version.text or ""))
        for attachment in version.attachments.all():
            position = attachment.position
            values.append((Redaction.Field.ALT_TEXT, version, position, attachment.alt_text))
            values.append((Redaction.Field.FILE_NAME, version, position, attachment.original_name))
    return values


def _suggestions(request_item: RequestItem, item: Item) -> list[Redaction]:
    """Suggested masks for the personal data found in anything of `item` the copy shows."""
    return [
        Redaction(
            request_item=request_item,
            field=field,
            version=version,
            position=position,
            start=finding.start,
            end=finding.end,
            kind=finding.kind,
        )
        for field, version, position, value in maskable_values(item)
        for finding in find_personal_data(value or "")
    ]


def _require_open(records_request: RecordsRequest) -> None:
    if records_request.status != RecordsRequest.Status.OPEN:
        raise ValidationError(_("This request is closed."))


@transaction.atomic
def request_items_add(
    *,
    actor: User,
    records_request: RecordsRequest,
    items: Iterable[Item],
    search: str = "",
    request: HttpRequest | None = None,
) -> int:
    """Compile `items` into the request (those already in it are skipped); return how many.

    Each new record gets suggested redactions for the personal data found in its versions.
    `search` is the words of the search that found them: the sensitive-data categories it
    names are kept on each new record, so the request page can prompt an assessment (R26).
    """
    _require_open(records_request)
    present = set(records_request.items.values_list("item_id", flat=True))
    new_ids = [item.pk for item in items if item.pk not in present]
    new_ids = list(dict.fromkeys(new_ids))
    if not new_ids:
        return 0
    searched = sensitive_categories_of(search)
    RequestItem.objects.bulk_create(
        [
            RequestItem(request=records_request, item_id=pk, search_categories=searched)
            for pk in new_ids
        ]
    )
    added = RequestItem.objects.filter(request=records_request, item_id__in=new_ids)
    versions = Prefetch(
        "item__versions",
        queryset=ItemVersion.objects.only("id", "item_id", "number", "text").order_by("number"),
    )
    attachments = Prefetch(
        "item__versions__attachments",
        queryset=VersionMedia.objects.only(
            "id", "version_id", "position", "alt_text", "original_name"
        ),
    )
    suggestions: list[Redaction] = []
    for request_item in added.select_related("item").prefetch_related(versions, attachments):
        suggestions.extend(_suggestions(request_item, request_item.item))
    Redaction.objects.bulk_create(suggestions)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=records_request,
        summary=audit_summary(REQUEST_RECORDS_COMPILED, count=len(new_ids)),
        changes={
            "added": new_ids,
            "suggested_redactions": len(suggestions),
            "search_categories": searched,
        },
        request=request,
    )
    return len(new_ids)


@transaction.atomic
def request_item_remove(
    *, actor: User, request_item: RequestItem, request: HttpRequest | None = None
) -> None:
    """Take a record out of a request, unless it has already been delivered."""
    _require_open(request_item.request)
    if request_item.delivery_id:
        raise ValidationError(_("This record has been delivered and stays in the request."))
    request_item.redactions.all().delete()
    request_item.delete()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=request_item.request,
        summary=audit_summary(REQUEST_RECORD_REMOVED),
        changes={"removed": request_item.item_id},
        request=request,
    )


@transaction.atomic
def request_item_decide(
    *,
    actor: User,
    request_item: RequestItem,
    decision: str,
    legal_ground: str = "",
    request: HttpRequest | None = None,
) -> RequestItem:
    """Decide on one record: release, release in part or withhold (R25).

    Withholding and releasing in part need a legal ground; a record with masked text can
    only be released in part.
    """
    _require_open(request_item.request)
    if request_item.delivery_id:
        raise ValidationError(_("This record has been delivered; its decision stands."))
    legal_ground = legal_ground.strip()
    if decision in {Decision.PARTLY, Decision.WITHHOLD} and not legal_ground:
        raise ValidationError({"legal_ground": _("Give the legal ground for the decision.")})
    masked = request_item.redactions.filter(status=Redaction.Status.ACCEPTED).exists()
    if decision == Decision.RELEASE and masked:
        raise ValidationError(
            {"decision": _("Text is masked in this record: choose release in part.")}
        )
    request_item.decision = decision
    request_item.legal_ground = "" if decision == Decision.RELEASE else legal_ground
    request_item.decided_by = actor if decision else None
    request_item.decided_at = timezone.now() if decision else None
    request_item.full_clean()
    request_item.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=request_item.request,
        summary=audit_summary(
            REQUEST_DECISION, item=request_item.item_id, decision=decision or "undecided"
        ),
        changes={
            "item": request_item.item_id,
            "decision": decision,
            "legal_ground": request_item.legal_ground,
        },
        request=request,
    )
    return request_item


# The audit summary of a reviewed or added mask: of a version's text (as before), or of
# another field of the record.
_REDACTION_MESSAGES = {
    "accepted": (REDACTION_ACCEPTED, REDACTION_FIELD_ACCEPTED),
    "rejected": (REDACTION_REJECTED, REDACTION_FIELD_REJECTED),
    "added": (REDACTION_ADDED, REDACTION_FIELD_ADDED),
}


def _log_redaction(
    actor: User, redaction: Redaction, what: str, request: HttpRequest | None
) -> None:
    text_message, field_message = _REDACTION_MESSAGES[what]
    if redaction.field == Redaction.Field.TEXT:
        summary = audit_summary(
            text_message,
            version_id=redaction.version_id,
            start=redaction.start,
            end=redaction.end,
        )
    else:
        summary = audit_summary(
            field_message,
            redaction_field=redaction.field,
            item=redaction.request_item.item_id,
            start=redaction.start,
            end=redaction.end,
        )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=redaction.request_item.request,
        summary=summary,
        changes={
            "item": redaction.request_item.item_id,
            "field": redaction.field,
            "version": redaction.version_id,
            "position": redaction.position,
            "span": [redaction.start, redaction.end],
            "kind": redaction.kind,
            "status": redaction.status,
            "legal_ground": redaction.legal_ground,
        },
        request=request,
    )


@transaction.atomic
def redaction_review(
    *,
    actor: User,
    redaction: Redaction,
    accept: bool,
    legal_ground: str = "",
    request: HttpRequest | None = None,
) -> Redaction:
    """Accept (mask, with its legal ground) or reject (keep readable) one span (R25)."""
    _require_open(redaction.request_item.request)
    if redaction.request_item.delivery_id:
        raise ValidationError(_("This record has been delivered; its masking stands."))
    legal_ground = legal_ground.strip()
    if accept and not legal_ground:
        raise ValidationError({"legal_ground": _("Give the legal ground for masking.")})
    redaction.status = Redaction.Status.ACCEPTED if accept else Redaction.Status.REJECTED
    redaction.legal_ground = legal_ground if accept else ""
    redaction.reviewed_by = actor
    redaction.reviewed_at = timezone.now()
    redaction.full_clean()
    redaction.save()
    _log_redaction(actor, redaction, "accepted" if accept else "rejected", request)
    return redaction


@transaction.atomic
def redaction_add(
    *,
    actor: User,
    request_item: RequestItem,
    version: ItemVersion | None = None,
    text: str = "",
    legal_ground: str,
    field: str = Redaction.Field.TEXT,
    position: int | None = None,
    request: HttpRequest | None = None,
) -> list[Redaction]:
    """Mask every occurrence of `text` in one field the copy shows, with its legal ground.

    `field` is a version's text (the default), an attachment's alt text or file name
    (`version` and the attachment's `position`), the attachment's whole image (no `text`),
    or the author's display name or handle (no version).
    """
    _require_open(request_item.request)
    if request_item.delivery_id:
        raise ValidationError(_("This record has been delivered; its masking stands."))
    if field in Redaction.ITEM_FIELDS:
        version, position = None, None
    elif version is None or version.item_id != request_item.item_id:
        raise ValidationError(_("That version belongs to another record."))
    if field not in Redaction.ATTACHMENT_FIELDS:
        position = None
    legal_ground = legal_ground.strip()
    if not legal_ground:
        raise ValidationError({"legal_ground": _("Give the legal ground for masking.")})
    source = _field_value(request_item.item, field, version, position)
    if field == Redaction.Field.IMAGE:
        text, source = "*", "*"  # the whole image: one span standing for it
    if not text or text not in source:
        raise ValidationError({"text": _("That text does not occur there.")})
    made: list[Redaction] = []
    at = source.find(text)
    while at != -1:
        redaction, _created = Redaction.objects.update_or_create(
            request_item=request_item,
            field=field,
            version=version,
            position=position,
            start=at,
            end=at + len(text),
            defaults={
                "kind": Redaction.Kind.MANUAL,
                "status": Redaction.Status.ACCEPTED,
                "legal_ground": legal_ground,
                "reviewed_by": actor,
                "reviewed_at": timezone.now(),
            },
        )
        _log_redaction(actor, redaction, "added", request)
        made.append(redaction)
        at = source.find(text, at + len(text))
    return made


def _field_value(item: Item, field: str, version: ItemVersion | None, position: int | None) -> str:
    """The archived value a mask of `field` applies to (of the record, a version, an attachment)."""
    if field == Redaction.Field.AUTHOR_NAME:
        return item.author_name
    if field == Redaction.Field.AUTHOR_HANDLE:
        return item.author_handle
    assert version is not None
    if field == Redaction.Field.TEXT:
        return version.text or ""
    if position is None:
        raise ValidationError(_("That attachment is not in this version."))
    attachment = VersionMedia.objects.filter(version=version, position=position).first()
    if attachment is None:
        raise ValidationError(_("That attachment is not in this version."))
    if field == Redaction.Field.ALT_TEXT:
        return attachment.alt_text
    if field == Redaction.Field.FILE_NAME:
        return attachment.original_name
    if field == Redaction.Field.IMAGE:
        if attachment.media_id is None:
            raise ValidationError(_("The archive holds no image for that attachment."))
        return "*"
    raise ValidationError(_("That cannot be masked."))


def request_view_log(
    *,
    actor: User,
    records_request: RecordsRequest,
    message: str,
    request: HttpRequest | None = None,
    **values: Any,
) -> None:
    """Log that `actor` looked at a request's records (R37); `message` from audit_summaries."""
    audit_record(
        actor=actor,
        action=AuditEvent.Action.VIEW,
        target=records_request,
        summary=audit_summary(message, **values),
        request=request,
    )


def delivery_file_open_log(
    *, actor: User, delivery_file: DeliveryFile, request: HttpRequest | None = None
) -> None:
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        target=delivery_file.delivery.request,
        summary=audit_summary(
            DELIVERY_FILE_DOWNLOADED,
            number=delivery_file.delivery.number,
            file_kind=delivery_file.kind,
        ),
        changes={"sha256": delivery_file.sha256},
        request=request,
    )


# --- Deliveries ----------------------------------------------------------------------------


def mask_key(redaction: Redaction) -> MaskKey:
    """Where a redaction applies in the rendering (see `rendering.MaskKey`)."""
    if redaction.field in Redaction.ITEM_FIELDS:
        return (redaction.field, redaction.request_item.item_id, NO_POSITION)
    assert redaction.version_id is not None
    position = NO_POSITION if redaction.position is None else redaction.position
    return (redaction.field, redaction.version_id, position)


def _spans(request_items: Iterable[RequestItem]) -> dict[MaskKey, list[Span]]:
    """The accepted masks of the records, by what they apply to."""
    spans: dict[MaskKey, list[Span]] = {}
    accepted = Redaction.objects.filter(
        request_item__in=list(request_items), status=Redaction.Status.ACCEPTED
    ).select_related("request_item")
    for redaction in accepted:
        spans.setdefault(mask_key(redaction), []).append(
            Span(redaction.start, redaction.end, redaction.legal_ground)
        )
    return spans


def _masked(spans: dict[MaskKey, list[Span]], key: MaskKey, value: str) -> str:
    """`value` as the electronic copy shows it: each masked span as "[masked: ground]"."""
    return segments_plain(masked_segments(spans, key, value or ""))


def _electronic_version(version: ItemVersion, spans: dict[MaskKey, list[Span]]) -> dict[str, Any]:
    masked_here = {
        key for key in spans if key[1] == version.pk and key[0] not in Redaction.ITEM_FIELDS
    }
    attachments = []
    for a in version.attachments.all():
        position = a.position
        image_masked = (Redaction.Field.IMAGE, version.pk, position) in masked_here
        shown = a.media is not None and not image_masked
        attachments.append(
            {
                "name": _masked(
                    spans, (Redaction.Field.FILE_NAME, version.pk, position), a.original_name
                ),
                "content_type": a.media.content_type if shown and a.media else "",
                "sha256": a.media.sha256 if shown and a.media else "",
                "image_masked": image_masked,
                "alt_text": _masked(
                    spans, (Redaction.Field.ALT_TEXT, version.pk, position), a.alt_text
                ),
                "missing": a.missing,
            }
        )
    return {
        "number": version.number,
        "recorded_at": iso(version.recorded_at),
        "text": None
        if version.text is None
        else _masked(spans, (Redaction.Field.TEXT, version.pk, NO_POSITION), version.text),
        "masked": bool(masked_here),
        # Left out when anything of the version is masked: a digest would let a reader test
        # guesses of the masked text (as in the printout).
        "content_digest": None if masked_here else version.content_digest,
        "attachments": attachments,
    }


def _electronic_rows(items: list[Item], spans: dict[MaskKey, list[Span]]) -> list[dict[str, Any]]:
    """The released records as plain data, masks applied, for the JSON and CSV copies."""
    attachments = Prefetch(
        "attachments", queryset=VersionMedia.objects.select_related("media").order_by("position")
    )
    loaded = list(
        Item.objects.filter(pk__in=[item.pk for item in items])
        .select_related("account")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=ItemVersion.objects.order_by("number").prefetch_related(attachments),
            ),
            Prefetch("events", queryset=ItemEvent.objects.order_by("seq")),
        )
        .order_by("created_at", "id")
    )
    usernames = masked_usernames(loaded, spans)
    rows = []
    for item in loaded:
        name_key = (Redaction.Field.AUTHOR_NAME, item.pk, NO_POSITION)
        handle_key = (Redaction.Field.AUTHOR_HANDLE, item.pk, NO_POSITION)
        author_masked = bool(spans.get(name_key) or spans.get(handle_key))
        rows.append(
            {
                "platform": item.platform,
                # A masked author's user name is taken out of the ids (see scrub_ids).
                "remote_id": scrub_ids(item.remote_id, usernames),
                "account": f"{item.account.platform}:{item.account.handle}",
                "kind": item.kind,
                "direction": item.direction,
                "author_handle": _masked(spans, handle_key, item.author_handle),
                "author_name": _masked(spans, name_key, item.author_name),
                "created_at": iso(item.created_at),
                "first_seen_at": iso(item.first_seen_at),
                "in_reply_to": scrub_ids(item.parent_remote_id, usernames),
                "thread": scrub_ids(item.thread_remote_id, usernames),
                # The permalink often holds the handle: left out with a masked author.
                "permalink": None if author_masked and item.permalink else item.permalink,
                "versions": [_electronic_version(v, spans) for v in item.versions.all()],
                "events": [
                    {
                        "type": event.type,
                        "occurred_at": iso(event.occurred_at),
                        "recorded_at": iso(event.recorded_at),
                    }
                    for event in item.events.all()
                ],
            }
        )
    return rows


def _csv(rows: list[dict[str, Any]]) -> bytes:
    """One line per version: the record's fields, then the version's."""
    out = io.StringIO()
    columns = [
        "platform", "remote_id", "account", "kind", "direction", "author_handle",
        "author_name", "created_at", "first_seen_at", "in_reply_to", "thread", "permalink",
        "version", "recorded_at", "text", "masked", "content_digest", "alt_texts", "events",
    ]  # fmt: skip
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        events = "; ".join(f"{e['type']} {e['occurred_at'] or ''}".strip() for e in row["events"])
        for version in row["versions"]:
            values = [row[c] for c in columns[:12]] + [
                version["number"],
                version["recorded_at"],
                version["text"] or "",
                "yes" if version["masked"] else "no",
                version["content_digest"],
                " | ".join(a["alt_text"] for a in version["attachments"] if a["alt_text"]),
                events,
            ]
            writer.writerow([spreadsheet_safe(str(v or "")) for v in values])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _decision_pdf(
    records_request: RecordsRequest,
    delivery: Delivery,
    decided: list[RequestItem],
    spans: dict[MaskKey, list[Span]],
) -> bytes:
    withheld = [ri for ri in decided if ri.decision == Decision.WITHHOLD]
    partly = [ri for ri in decided if ri.decision == Decision.PARTLY]
    grounds_masked: dict[str, int] = {}
    for ri in partly:
        for key in _keys_of(ri, spans):
            for span in spans[key]:
                grounds_masked[span.ground] = grounds_masked.get(span.ground, 0) + 1
    html = render_to_string(
        "disclosure/pdf/decision.html",
        {
            "records_request": records_request,
            "delivery": delivery,
            "withheld": withheld,
            "partly": partly,
            "released": sum(1 for ri in decided if ri.decision == Decision.RELEASE),
            "grounds_masked": sorted(grounds_masked.items()),
            "organisation": settings.ORGANISATION_NAME or _("the authority"),
            "language": delivery.language,
        },
    )
    return html_to_pdf(html, pdf_a=True)


def _keys_of(request_item: RequestItem, spans: dict[MaskKey, list[Span]]) -> list[MaskKey]:
    """The masks of one record (its versions' fields and its author's)."""
    versions = {v.pk for v in request_item.item.versions.all()}
    return [
        key
        for key in spans
        if (key[0] in Redaction.ITEM_FIELDS and key[1] == request_item.item_id)
        or (key[0] not in Redaction.ITEM_FIELDS and key[1] in versions)
    ]


def _store(delivery: Delivery, kind: str, content: bytes, content_type: str) -> DeliveryFile:
    ext = {"csv": "csv", "json": "json"}.get(kind, "pdf")
    name = f"disclosure/request-{delivery.request_id}/{delivery.number}/{kind}.{ext}"
    stored = default_storage.save(name, ContentFile(content))
    return DeliveryFile.objects.create(
        delivery=delivery,
        kind=kind,
        storage_name=stored,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


# A file of a delivery, rendered but not stored yet: (kind, content, content type).
_Rendered = tuple[str, bytes, str]


def _render_files(
    delivery: Delivery,
    decided: list[RequestItem],
    released: list[Item],
    spans: dict[MaskKey, list[Span]],
) -> list[_Rendered]:
    """Render the delivery's files in memory; nothing is stored until all of them are made."""
    records_request = delivery.request
    title = _("Request %(number)s, delivery %(stage)s") % {
        "number": records_request.pk,
        "stage": delivery.number,
    }
    pdf = "application/pdf"
    made: list[_Rendered] = []
    if released:
        printout = render_items_pdf(
            items=released, masks=spans, title=title, language=delivery.language
        )
        made.append((DeliveryFile.Kind.PRINTOUT, printout, pdf))
        if records_request.electronic_copy:
            pdf_a = render_items_pdf(
                items=released, masks=spans, title=title, language=delivery.language,
                pdf_a=True,
            )  # fmt: skip
            rows = _electronic_rows(released, spans)
            document = {"request": records_request.pk, "delivery": delivery.number, "records": rows}
            data = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
            made.append((DeliveryFile.Kind.PDF_A, pdf_a, pdf))
            made.append((DeliveryFile.Kind.CSV, _csv(rows), "text/csv"))
            made.append((DeliveryFile.Kind.JSON, data, "application/json"))
    if any(ri.decision in {Decision.WITHHOLD, Decision.PARTLY} for ri in decided):
        made.append(
            (
                DeliveryFile.Kind.DECISION,
                _decision_pdf(records_request, delivery, decided, spans),
                pdf,
            )
        )
    return made


def _enqueue_render(delivery: Delivery) -> None:
    from narvaro.disclosure.tasks import delivery_render as delivery_render_task

    delivery_id = delivery.pk
    transaction.on_commit(lambda: delivery_render_task.enqueue(delivery_id))


@transaction.atomic
def delivery_create(
    *,
    actor: User,
    records_request: RecordsRequest,
    language: str = "sv",
    request: HttpRequest | None = None,
) -> Delivery:
    """Release every decided record not yet delivered, as the next stage (R23–R25).

    Checks the stage and records it as `queued`, its records reserved for it; a background
    task (`delivery_render`) then makes the printout of the released records with their
    masks, the electronic copy (PDF/A, CSV, JSON) when the request asks for one, and, when
    anything is withheld or masked, the decision document with the grounds and how to appeal.
    Refused while a record in the stage still has unreviewed redaction suggestions.
    """
    _require_open(records_request)
    decided = list(
        records_request.items.filter(delivery__isnull=True)
        .exclude(decision=Decision.PENDING)
        .select_related("item")
        .prefetch_related("item__versions")
        .order_by("item__created_at", "item_id")
    )
    if not decided:
        raise ValidationError(_("No decided records wait for delivery."))
    unreviewed = Redaction.objects.filter(
        request_item__in=decided, status=Redaction.Status.SUGGESTED
    ).exclude(request_item__decision=Decision.WITHHOLD)
    if unreviewed.exists():
        raise ValidationError(
            _("Review the suggested maskings first (%(count)s left).")
            % {"count": unreviewed.count()}
        )
    spans = _spans(decided)
    partly_unmasked = [
        ri for ri in decided if ri.decision == Decision.PARTLY and not _keys_of(ri, spans)
    ]
    if partly_unmasked:
        raise ValidationError(
            _("Records released in part need at least one masked passage (record %(id)s).")
            % {"id": partly_unmasked[0].item_id}
        )
    number = (records_request.deliveries.aggregate(n=Max("number"))["n"] or 0) + 1
    delivery = Delivery.objects.create(
        request=records_request, number=number, created_by=actor, language=language
    )
    RequestItem.objects.filter(pk__in=[ri.pk for ri in decided]).update(delivery=delivery)
    _enqueue_render(delivery)
    return delivery


def delivery_render(*, delivery_id: int) -> Delivery:
    """Make and store a queued delivery's files (the task's work), then mark it ready.

    Claimed with a conditional UPDATE, so a stage is rendered once however many workers run.
    Every file is rendered in memory first and stored only when all are made; the rows, the
    `ready` status and the export in the audit log are written in one transaction. A failure
    marks the stage `failed` with the error and leaves no file behind.
    """
    started = timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.QUEUED).update(
        status=Delivery.Status.RENDERING,
        error="",
        render_started_at=started,
        render_attempts=F("render_attempts") + 1,
    )
    delivery = Delivery.objects.select_related("request", "created_by").get(pk=delivery_id)
    if not claimed:
        return delivery
    # Still this run's stage (not re-queued as stalled and taken by another run meanwhile).
    ours = Delivery.objects.filter(
        pk=delivery_id, status=Delivery.Status.RENDERING, render_started_at=started
    )
    stored: list[str] = []
    try:
        decided = list(
            delivery.items.select_related("item")
            .prefetch_related("item__versions")
            .order_by("item__created_at", "item_id")
        )
        spans = _spans(decided)
        released = [ri.item for ri in decided if ri.decision != Decision.WITHHOLD]
        with translation.override(delivery.language):
            made = _render_files(delivery, decided, released, spans)
        with transaction.atomic():
            if not ours.select_for_update().exists():
                return delivery  # another run owns the stage now; store nothing
            files = []
            for kind, content, content_type in made:
                delivery_file = _store(delivery, kind, content, content_type)
                stored.append(delivery_file.storage_name)
                files.append(delivery_file)
            delivery.status = Delivery.Status.READY
            delivery.rendered_at = timezone.now()
            delivery.save(update_fields=["status", "rendered_at"])
            audit_record(
                actor=delivery.created_by,
                action=AuditEvent.Action.EXPORT,
                target=delivery.request,
                summary=audit_summary(
                    DELIVERY_MADE,
                    number=delivery.number,
                    released=len(released),
                    withheld=len(decided) - len(released),
                ),
                changes={
                    "items": [ri.item_id for ri in decided],
                    "files": {f.kind: f.sha256 for f in files},
                },
            )
    except Exception as exc:  # shown on the request page; the log has the traceback
        logger.exception("delivery %s of request %s failed", delivery.number, delivery.request_id)
        for name in stored:
            default_storage.delete(name)
        ours.update(status=Delivery.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        delivery.refresh_from_db()
    return delivery


@transaction.atomic
def delivery_retry(
    *, actor: User, delivery: Delivery, request: HttpRequest | None = None
) -> Delivery:
    """Queue a failed delivery again, with the same records (logged).

    A stage left `rendering` for longer than `Delivery.STALE_AFTER` lost its worker (e.g. a
    restart) and may be retried too; a running render is never started twice.
    """
    _require_open(delivery.request)
    stale = Q(
        status=Delivery.Status.RENDERING,
        render_started_at__lt=timezone.now() - Delivery.STALE_AFTER,
    )
    requeued = (
        Delivery.objects.filter(pk=delivery.pk)
        .filter(Q(status=Delivery.Status.FAILED) | stale)
        .update(status=Delivery.Status.QUEUED, error="", render_attempts=0)
    )
    if not requeued:
        raise ValidationError(_("Only a failed delivery can be made again."))
    delivery.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        target=delivery.request,
        summary=audit_summary(DELIVERY_RETRIED, number=delivery.number),
        request=request,
    )
    _enqueue_render(delivery)
    return delivery


def deliveries_recover_stalled() -> list[Delivery]:
    """Recover stages whose worker died mid-render (the scheduled job, every few minutes).

    A stage still `rendering` `Delivery.STALE_AFTER` after its render started lost its
    worker: nothing else would ever finish it. It is queued again, up to
    `Delivery.MAX_RENDER_ATTEMPTS` renders in all; after that it is marked `failed` with the
    reason, so the request page offers a registrar the retry (a render that stops its worker
    each time would otherwise run for ever). Each step is conditional on the stage still
    being the stalled one read, so a render finishing at that moment is never undone, and is
    written to the audit log. Returns the stages changed.
    """
    stale_before = timezone.now() - Delivery.STALE_AFTER
    changed: list[Delivery] = []
    stalled = Delivery.objects.filter(
        status=Delivery.Status.RENDERING, render_started_at__lt=stale_before
    ).select_related("request")
    for delivery in stalled:
        same = Delivery.objects.filter(
            pk=delivery.pk,
            status=Delivery.Status.RENDERING,
            render_started_at=delivery.render_started_at,
        )
        attempts = delivery.render_attempts
        with transaction.atomic():
            if attempts < Delivery.MAX_RENDER_ATTEMPTS:
                if not same.update(status=Delivery.Status.QUEUED, error=""):
                    continue
                summary = audit_summary(
                    DELIVERY_STALLED_REQUEUED, number=delivery.number, attempt=attempts + 1
                )
                _enqueue_render(delivery)
            else:
                minutes = int(Delivery.STALE_AFTER.total_seconds() // 60)
                with translation.override(delivery.language):
                    error = _(
                        "The files were still being made %(minutes)s minutes after rendering "
                        "started, %(count)s times: the worker stopped each time. Make the "
                        "delivery again, or withhold a record that cannot be printed."
                    ) % {"minutes": minutes, "count": attempts}
                if not same.update(status=Delivery.Status.FAILED, error=error):
                    continue
                summary = audit_summary(
                    DELIVERY_STALLED_FAILED, number=delivery.number, attempt=attempts
                )
                logger.error(
                    "delivery %s of request %s stalled %s times; marked failed",
                    delivery.number, delivery.request_id, attempts,
                )  # fmt: skip
            audit_record(
                actor=None,
                action=AuditEvent.Action.TRANSITION,
                target=delivery.request,
                summary=summary,
                changes={"delivery": delivery.number, "render_attempts": attempts},
            )
        delivery.refresh_from_db()
        changed.append(delivery)
    return changed


def request_printout(
    *,
    actor: User | None,
    records_request: RecordsRequest,
    pdf_a: bool = False,
    language: str = "sv",
    via: str = "web",
) -> bytes:
    """A printout of every record of the request not withheld, masks applied (logged, R37).

    A working copy for review or for the file (e.g. `narvaro disclosure render`); what is
    actually released is made by `delivery_create`.
    """
    request_items = list(
        records_request.items.exclude(decision=Decision.WITHHOLD).select_related("item")
    )
    with translation.override(language):
        title = _("Request %(number)s, working copy") % {"number": records_request.pk}
        pdf = render_items_pdf(
            items=[ri.item for ri in request_items],
            masks=_spans(request_items),
            title=title,
            language=language,
            pdf_a=pdf_a,
        )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        target=records_request,
        summary=audit_summary(WORKING_COPY_PRINTED, via=via),
        changes={"items": [ri.item_id for ri in request_items], "pdf_a": pdf_a},
    )
    return pdf
