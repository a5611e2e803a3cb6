"""The records register (R12): search, the "held in order" export and the record page."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from narvaro.archive.forms import RecordFilterForm
from narvaro.archive.models import Item, VersionMedia
from narvaro.archive.register import (
    record_media_view_log,
    record_register_export,
    record_view_log,
)
from narvaro.archive.selectors import (
    RecordView,
    VersionView,
    get_attachment_for_user,
    get_item_for_user,
    record_register_rows,
    record_search_for_user,
    record_view_for_user,
)
from narvaro.lib.htmx import render_page
from narvaro.lib.paging import paginate_capped, querystring_without_page
from narvaro.lib.types import AuthedRequest
from narvaro.radar.selectors import withhold_restricted


@login_required
@require_GET
def record_list(request: AuthedRequest) -> HttpResponse:
    """Search the archive: the items of the units the person can see, newest first."""
    form = RecordFilterForm(request.GET or None, user=request.user)
    items = record_search_for_user(request.user, **form.filters())
    # A common word matches half the archive: count at most the cap, not every match.
    page = paginate_capped(request, items)
    page.object_list = list(page.object_list)
    withhold_restricted(request.user, page.object_list)  # a personnummer's text (R33)
    context = {"form": form, "page": page, "querystring": querystring_without_page(request)}
    return render_page(
        request, "archive/record_list.html", "archive/partials/record_rows.html", context
    )


@login_required
@require_GET
def record_export(request: AuthedRequest) -> HttpResponse:
    """Every item the search finds as the "held in order" register (CSV), logged (R12, R37)."""
    form = RecordFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    rows = record_register_rows(record_search_for_user(request.user, **filters))
    for row in rows:
        row["record_url"] = request.build_absolute_uri(row["record_url"])
    content = record_register_export(
        actor=request.user, rows=rows, filters=filters, request=request
    )
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="records-register-{stamp}.csv"'
    return response


# Types a browser may show inline; anything else is offered as a download.
INLINE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "audio/mpeg")
# Caption files (WebVTT) are shown as text on the record page up to this size.
CAPTION_TEXT_LIMIT = 64 * 1024


@dataclass(frozen=True)
class AttachmentShown:
    """How the record page shows one attachment: as an image, a link to play, or a file."""

    attachment: VersionMedia
    shown_as: str  # "image", "video", "audio", "file" or "missing"
    url: str = ""
    caption_text: str = ""


def _caption_text(attachment: VersionMedia) -> str:
    """The caption file's text, as stored (cut at CAPTION_TEXT_LIMIT); "" if unreadable."""
    if attachment.caption is None:
        return ""
    try:
        with default_storage.open(attachment.caption.storage_name, "rb") as handle:
            data = handle.read(CAPTION_TEXT_LIMIT + 1)
    except OSError:
        return ""
    text = data[:CAPTION_TEXT_LIMIT].decode("utf-8", errors="replace")
    return text + ("\n…" if len(data) > CAPTION_TEXT_LIMIT else "")


def _shown(item: Item, view: VersionView, attachment: VersionMedia) -> AttachmentShown:
    media = attachment.media
    if attachment.missing or media is None:
        return AttachmentShown(attachment, "missing")
    url = reverse("archive:record_media", args=[item.pk, view.version.number, attachment.position])
    kind = media.content_type.partition("/")[0]
    if kind == "image" and media.content_type not in INLINE_TYPES:
        kind = "file"  # served as a download: an <img> could not show it
    if kind not in ("image", "video", "audio"):
        kind = "file"
    return AttachmentShown(attachment, kind, url, _caption_text(attachment))


def _versions_shown(
    item: Item, record: RecordView
) -> list[tuple[VersionView, list[AttachmentShown]]]:
    return [
        (view, [_shown(item, view, attachment) for attachment in view.attachments])
        for view in record.versions
    ]


@login_required
@require_GET
def record_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """One record: its thread, versions with their differences, events and digests (logged)."""
    item = get_item_for_user(request.user, pk)
    record = record_view_for_user(request.user, item)
    record_view_log(actor=request.user, item=item, request=request)
    context = {"record": record, "item": item, "versions": _versions_shown(item, record)}
    return render(request, "archive/record_detail.html", context)


@login_required
@require_GET
def record_media(request: AuthedRequest, pk: int, number: int, position: int) -> FileResponse:
    """An archived attachment, exactly as stored (logged, R37)."""
    attachment = get_attachment_for_user(request.user, pk, number, position)
    media = attachment.media
    assert media is not None
    record_media_view_log(
        actor=request.user, item=attachment.version.item, attachment=attachment, request=request
    )
    inline = media.content_type in INLINE_TYPES
    response = FileResponse(
        default_storage.open(media.storage_name, "rb"),
        content_type=media.content_type if inline else "application/octet-stream",
        as_attachment=not inline,
        filename=(attachment.original_name.rsplit("/", 1)[-1] or media.sha256)[:200],
    )
    # An archived file is evidence, not part of Narvaro's pages: it may run nothing.
    response["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"
    )
    response["Cache-Control"] = "private, no-store"
    return response
