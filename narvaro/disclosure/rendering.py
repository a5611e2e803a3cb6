"""Printouts of archived records as PDF (and PDF/A), with WeasyPrint (R24, R25, R30).

`render_items_pdf` is the one way records become a PDF: the printout of a request for
public records, the electronic copy (PDF/A), and the renderings other parts of Narvaro keep
(the snapshot before an account is closed, archival packages). Each item is reproduced
literally, grouped by thread in conversation order: every version with its text, its
attachments' alt text and digests, both timestamps (the platform's `created_at` and when
Narvaro first saw it / recorded the version), and the events (deletion, moderation).

Redaction is applied here and only here: spans of what the copy shows (a version's text, an
attachment's alt text and file name, the author's display name and handle) are replaced by a
mask naming the legal ground, and an attachment's image can be withheld whole. A version with
anything masked is printed without its digests (they would let a reader test guesses of the
masked text), and a masked author without the author's platform id and the permalink. The
archived rows are only read, never changed. Archived images (JPEG, PNG, GIF, WebP) are drawn
under their version; masking a region of an image is not supported: the whole image is
withheld instead. The files of an item moderated as child sexual abuse material (and the same
bytes wherever attached) are never drawn or loaded: the printout lists the attachment's type
and digest with a notice instead (R19, `archive.selectors.media_withheld_digests`).

The HTML is built from a Django template (autoescaped); WeasyPrint may fetch only the
archived media files of the items printed, by digest (every other URL is refused), so no
archived text can make the renderer read a file or the network. Fonts come from fontconfig
(DejaVu Sans, installed with the system packages) and are embedded, as PDF/A requires.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from narvaro.archive.models import Item, ItemEvent, ItemVersion, VersionMedia
from narvaro.archive.selectors import attachment_withheld, media_withheld_digests

# PDF/A-3b: archival PDF that may carry attachments (the E-ARK and BagIt packages keep the
# normalised JSON next to it, not inside it). Riksarkivet accepts PDF/A-1, -2 and -3.
PDF_A_VARIANT = "pdf/a-3b"
# Rows read per query while loading items: well under SQLite's bound-parameter limit.
LOAD_CHUNK = 500


@dataclass(frozen=True)
class Span:
    """Characters `start` to `end` (Python string offsets) of a version's text, masked."""

    start: int
    end: int
    ground: str = ""


@dataclass(frozen=True)
class Segment:
    """A run of text in the output: literal, or a mask standing for redacted characters."""

    text: str
    masked: bool = False
    ground: str = ""


# What a mask applies to: (field, owner id, attachment position or -1). The owner is the
# version for "text" and an attachment's "alt_text", "file_name" and "image", the item for
# "author_name" and "author_handle" (see `disclosure.models.Redaction.Field`).
MaskKey = tuple[str, int, int]
Masks = Mapping[MaskKey, Sequence[Span]]
TEXT = "text"
NO_POSITION = -1


def text_key(version_id: int) -> MaskKey:
    return (TEXT, version_id, NO_POSITION)


def masks_from_redactions(
    redactions: Mapping[int, Sequence[Span]] | None,
) -> dict[MaskKey, list[Span]]:
    """Masks of version texts only, from {version id: spans} (the older form)."""
    return {text_key(version_id): list(spans) for version_id, spans in (redactions or {}).items()}


@dataclass
class _AttachmentRow:
    attachment: VersionMedia
    alt: list[Segment]
    alt_plain: str  # the alt text as the copy may show it (the image's alt attribute)
    name: list[Segment]
    image_masked: Segment | None  # the mask shown instead of the image, when withheld
    # Moderated as child sexual abuse material: never drawn or loaded, only described.
    withheld: bool = False

    @property
    def position(self) -> int:
        return self.attachment.position

    @property
    def media(self) -> Any:
        return None if self.image_masked or self.withheld else self.attachment.media

    @property
    def missing(self) -> bool:
        return self.attachment.missing


@dataclass
class _VersionRow:
    version: ItemVersion
    segments: list[Segment]
    attachments: list[_AttachmentRow]
    disposed: bool
    # Something of this version is masked: its digests would let a reader test guesses of
    # the masked text (a personnummer has few enough candidates), so the copy leaves them out.
    masked: bool = False


@dataclass
class _ItemRow:
    number: int
    item: Item
    depth: int
    parent_number: int | None
    versions: list[_VersionRow]
    events: list[ItemEvent]
    author_name: list[Segment] = field(default_factory=list)
    author_handle: list[Segment] = field(default_factory=list)
    # The author is masked: the platform's id of the author and the permalink (which often
    # holds the handle) are left out too.
    author_masked: bool = False
    # The item's and its parent's platform ids as printed (see `scrub_ids`).
    remote_id: str = ""
    parent_remote_id: str = ""


@dataclass
class _Thread:
    key: str
    items: list[_ItemRow] = field(default_factory=list)
    label: str = ""  # the key as printed: a masked author's name taken out of it


def apply_spans(text: str, spans: Sequence[Span]) -> list[Segment]:
    """`text` cut into literal and masked segments. Overlapping spans are merged.

    A span outside the text is an error (it was made for another text): nothing is
    rendered rather than something unmasked.
    """
    ordered = sorted(spans, key=lambda span: (span.start, span.end))
    for span in ordered:
        if not 0 <= span.start < span.end <= len(text):
            raise ValueError(
                f"redaction span {span.start}-{span.end} lies outside the text "
                f"({len(text)} characters)"
            )
    merged: list[Span] = []
    for span in ordered:
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            grounds = [g for g in dict.fromkeys([last.ground, span.ground]) if g]
            merged[-1] = Span(last.start, max(last.end, span.end), "; ".join(grounds))
        else:
            merged.append(span)
    segments: list[Segment] = []
    at = 0
    for span in merged:
        if span.start > at:
            segments.append(Segment(text[at : span.start]))
        segments.append(Segment("", masked=True, ground=span.ground))
        at = span.end
    if at < len(text) or not segments:
        segments.append(Segment(text[at:]))
    return segments


def segments_plain(segments: Sequence[Segment]) -> str:
    """Segments as plain text, each mask as "[masked: ground]" (no hint of its length)."""
    masked = gettext("masked")
    return "".join(
        (f"[{masked}: {s.ground}]" if s.ground else f"[{masked}]") if s.masked else s.text
        for s in segments
    )


def masked_usernames(items: Iterable[Item], masks: Masks) -> set[str]:
    """The user names in the masked parts of the items' author handles.

    Platform ids often hold the author's user name (a Mastodon status id is a URL such as
    https://social.example/users/anna/statuses/1), also in other records of the thread that
    answer it: where a handle is masked, its user name is taken out of every id printed.
    """
    names: set[str] = set()
    for item in items:
        for span in masks.get(("author_handle", item.pk, NO_POSITION), ()):
            name = item.author_handle[span.start : span.end].lstrip("@").split("@")[0]
            if len(name) >= 2:
                names.add(name)
    return names


def scrub_ids(value: str, usernames: set[str]) -> str:
    """`value` (a platform id or URL) with each of `usernames` as a whole word masked."""
    if not value or not usernames:
        return value
    names = "|".join(re.escape(name) for name in sorted(usernames, key=len, reverse=True))
    masked = gettext("masked")
    return re.sub(rf"(?<![\w.-])(?:{names})(?![\w-])", f"[{masked}]", value)


def masked_segments(masks: Masks, key: MaskKey, value: str) -> list[Segment]:
    """`value` cut into literal and masked segments by the masks of `key`."""
    return apply_spans(value, masks.get(key, ()))


def _image_mask(masks: Masks, key: MaskKey) -> Segment | None:
    spans = masks.get(key)
    if not spans:
        return None
    grounds = [g for g in dict.fromkeys(span.ground for span in spans) if g]
    return Segment("", masked=True, ground="; ".join(grounds))


def _load(items: Iterable[Item]) -> list[Item]:
    """The items again, with versions, attachments and events, in a fixed number of queries."""
    ids = list(dict.fromkeys(item.pk for item in items))
    attachments = Prefetch(
        "attachments",
        queryset=VersionMedia.objects.select_related("media", "caption").order_by("position"),
    )
    versions = Prefetch(
        "versions", queryset=ItemVersion.objects.order_by("number").prefetch_related(attachments)
    )
    events = Prefetch("events", queryset=ItemEvent.objects.order_by("seq"))
    loaded: list[Item] = []
    for start in range(0, len(ids), LOAD_CHUNK):
        loaded.extend(
            Item.objects.filter(pk__in=ids[start : start + LOAD_CHUNK])
            .select_related("account__unit")
            .prefetch_related(versions, events)
        )
    return loaded


def _when(item: Item) -> tuple[dt.datetime, int]:
    return (item.created_at or item.first_seen_at, item.pk)


def _withheld_digests(items: list[Item]) -> set[str]:
    """The files of `items` that are never drawn (see the module docstring)."""
    return media_withheld_digests(
        media.sha256
        for item in items
        for version in item.versions.all()
        for attachment in version.attachments.all()
        for media in (attachment.media, attachment.caption)
        if media is not None
    )


def _threads(items: list[Item], masks: Masks) -> list[_Thread]:
    """Items grouped by platform thread, threads and items in time order, numbered 1.."""
    threads: dict[str, _Thread] = {}
    withheld = _withheld_digests(items)
    usernames = masked_usernames(items, masks)
    for item in sorted(items, key=_when):
        key = f"{item.platform}:{item.thread_remote_id or item.remote_id}"
        name_key, handle_key = ("author_name", item.pk, NO_POSITION), (
            "author_handle", item.pk, NO_POSITION,
        )  # fmt: skip
        try:
            author_name = masked_segments(masks, name_key, item.author_name)
            author_handle = masked_segments(masks, handle_key, item.author_handle)
        except ValueError as exc:
            raise ValueError(f"{item} author: {exc}") from exc
        threads.setdefault(key, _Thread(key)).items.append(
            _ItemRow(
                0,
                item,
                0,
                None,
                _versions(item, masks, withheld),
                list(item.events.all()),
                author_name=author_name,
                author_handle=author_handle,
                author_masked=bool(masks.get(name_key) or masks.get(handle_key)),
                remote_id=scrub_ids(item.remote_id, usernames),
                parent_remote_id=scrub_ids(item.parent_remote_id, usernames),
            )
        )
    for thread in threads.values():
        thread.label = scrub_ids(thread.key, usernames)
    number = 0
    numbers: dict[tuple[str, str], int] = {}
    depths: dict[tuple[str, str], int] = {}
    for thread in threads.values():
        for row in thread.items:
            number += 1
            row.number = number
            own = (row.item.platform, row.item.remote_id)
            parent = (row.item.platform, row.item.parent_remote_id)
            numbers[own] = number
            # A reply sits one level below the item it answers when that item is included.
            row.parent_number = numbers.get(parent) if row.item.parent_remote_id else None
            row.depth = min(depths[parent] + 1, 6) if parent in depths else 0
            depths[own] = row.depth
    return list(threads.values())


def _attachment_row(
    masks: Masks, version: ItemVersion, attachment: VersionMedia, withheld: set[str]
) -> _AttachmentRow:
    position = attachment.position
    alt = masked_segments(masks, ("alt_text", version.pk, position), attachment.alt_text)
    return _AttachmentRow(
        attachment=attachment,
        alt=alt,
        alt_plain=segments_plain(alt),
        name=masked_segments(masks, ("file_name", version.pk, position), attachment.original_name),
        image_masked=_image_mask(masks, ("image", version.pk, position)),
        withheld=attachment_withheld(attachment, withheld),
    )


def version_masked(masks: Masks, version_id: int) -> bool:
    """Whether anything of the version (text, an alt text, a file name, an image) is masked."""
    return any(
        spans and owner == version_id and kind != "author_name" and kind != "author_handle"
        for (kind, owner, _position), spans in masks.items()
    )


def _versions(item: Item, masks: Masks, withheld: set[str]) -> list[_VersionRow]:
    rows: list[_VersionRow] = []
    masked_versions = {
        owner
        for (kind, owner, _position), spans in masks.items()
        if spans and kind not in {"author_name", "author_handle"}
    }
    for version in item.versions.all():
        text = version.text
        try:
            segments = masked_segments(masks, text_key(version.pk), text or "")
            attachments = [
                _attachment_row(masks, version, attachment, withheld)
                for attachment in version.attachments.all()
            ]
        except ValueError as exc:
            raise ValueError(f"{item} version {version.number}: {exc}") from exc
        rows.append(
            _VersionRow(
                version=version,
                segments=segments,
                attachments=attachments,
                disposed=text is None,
                masked=version.pk in masked_versions,
            )
        )
    return rows


# Images in a printout are named `narvaro-media:<sha256>`; nothing else may be fetched.
MEDIA_SCHEME = "narvaro-media:"
# Attachments drawn in the printout (others are listed with their digest and alt text).
DRAWN_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def html_to_pdf(html: str, *, pdf_a: bool, media: Mapping[str, str] | None = None) -> bytes:
    """PDF bytes of a self-contained HTML document; PDF/A-3b when `pdf_a`.

    `media` maps the SHA-256 of an archived file to its storage name: the only resources the
    document may load, as `narvaro-media:<sha256>`.
    """
    # Imported here: loading Pango and HarfBuzz costs a second that most commands never need.
    from django.core.files.storage import default_storage
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    allowed = dict(media or {})

    class ArchiveFetcher(URLFetcher):  # type: ignore[misc]
        """Serves archived media by digest; every other URL (file, http, data) is refused."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            sha = url.removeprefix(MEDIA_SCHEME) if url.startswith(MEDIA_SCHEME) else ""
            if sha not in allowed:
                raise ValueError(f"a records printout fetches nothing (asked for {url[:100]!r})")
            with default_storage.open(allowed[sha], "rb") as handle:
                return URLFetcherResponse(url, body=handle.read())

    # Not fail_on_errors: a stored file that is no image the renderer can read (or missing
    # from storage) is left out, with its alt text and digest still printed.
    document = HTML(string=html, url_fetcher=ArchiveFetcher(), base_url=None)
    options: dict[str, Any] = {"pdf_variant": PDF_A_VARIANT} if pdf_a else {}
    pdf = document.write_pdf(**options)
    assert pdf is not None
    return bytes(pdf)


def items_html(
    *,
    items: Iterable[Item],
    redactions: Mapping[int, Sequence[Span]] | None = None,
    masks: Masks | None = None,
    title: str,
    language: str = "sv",
    preamble: Sequence[str] = (),
    generated_at: dt.datetime | None = None,
) -> tuple[str, dict[str, str]]:
    """The printout's HTML and the archived media it may load (see `render_items_pdf`)."""
    loaded = _load(items)
    all_masks: Masks = {**masks_from_redactions(redactions), **(masks or {})}
    with translation.override(language):
        threads = _threads(loaded, all_masks)
    # Only images shown may be loaded: a withheld image is neither drawn nor fetched.
    media = {
        row.media.sha256: row.media.storage_name
        for thread in threads
        for item_row in thread.items
        for version_row in item_row.versions
        for row in version_row.attachments
        if row.media is not None and row.media.content_type in DRAWN_TYPES
    }
    with translation.override(language):
        html = render_to_string(
            "disclosure/pdf/items.html",
            {
                "title": title,
                "language": language,
                "preamble": list(preamble),
                "generated_at": generated_at or timezone.now(),
                "threads": threads,
                "item_count": len(loaded),
                "time_zone": timezone.get_current_timezone_name(),
                "drawn": media,
                "media_scheme": MEDIA_SCHEME,
            },
        )
    return html, media


def render_items_pdf(
    *,
    items: Iterable[Item],
    pdf_a: bool = False,
    redactions: Mapping[int, Sequence[Span]] | None = None,
    masks: Masks | None = None,
    title: str,
    language: str = "sv",
    preamble: Sequence[str] = (),
    generated_at: dt.datetime | None = None,
) -> bytes:
    """A printout of `items`: every version literally, with thread context and events.

    `redactions` maps an `ItemVersion` id to the spans of its text to mask in this output;
    `masks` maps any field the printout shows (see `MaskKey`) to its spans.
    `preamble` holds paragraphs printed under the title (e.g. the request reference).
    `language` ("sv" or "en") sets the labels and the document language.
    """
    html, media = items_html(
        items=items, redactions=redactions, masks=masks, title=title, language=language,
        preamble=preamble, generated_at=generated_at,
    )  # fmt: skip
    return html_to_pdf(html, pdf_a=pdf_a, media=media)
