"""The only writer of the archive: captures in, append-only rows out.

`capture_batch` stores many captures and events in one transaction with one lock on the
account's chain head. It is idempotent: an item is keyed by platform + remote id, a version
by its content digest, an event by item + type + time, so re-running an import adds nothing.
Media files are written to storage by SHA-256 before the transaction; a file left behind by
a failed transaction is simply reused by the next attempt.
"""

from __future__ import annotations

import datetime
import hashlib
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.utils import timezone

from narvaro.archive.capture import (
    CaptureInput,
    EventInput,
    MediaInput,
    attachment_fingerprint,
    content_digest,
    sha256_hex,
)
from narvaro.archive.chain import chain_digest, event_entry, version_entry
from narvaro.archive.models import (
    ChainHead,
    Direction,
    Item,
    ItemEvent,
    ItemVersion,
    Kind,
    MediaFile,
    VersionMedia,
)
from narvaro.archive.search import search_index_update
from narvaro.channels.models import Account

MEDIA_PREFIX = "archive/media"


@dataclass
class BatchResult:
    """What one batch added. Importers sum these into their report."""

    items: int = 0
    versions: int = 0
    events: int = 0
    deletions: int = 0
    media: int = 0
    media_missing: int = 0
    duplicates_skipped: int = 0
    missing_media_names: list[str] = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        self.items += other.items
        self.versions += other.versions
        self.events += other.events
        self.deletions += other.deletions
        self.media += other.media
        self.media_missing += other.media_missing
        self.duplicates_skipped += other.duplicates_skipped
        self.missing_media_names.extend(other.missing_media_names)


@dataclass(frozen=True)
class _StoredMedia:
    sha256: str
    content_type: str
    size: int
    storage_name: str


def media_storage_name(sha256: str) -> str:
    return f"{MEDIA_PREFIX}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _stored_intact(name: str, size: int) -> bool:
    """Whether a complete file is already stored under `name` (its digest-derived name).

    A process killed while writing leaves a shorter file under the final name, so the size
    tells a partial file from a whole one without reading it again on every re-import;
    any other change to a stored file is found by `narvaro verify`.
    """
    return default_storage.exists(name) and default_storage.size(name) == size


def _save_media(name: str, size: int, content: Any) -> None:
    if _stored_intact(name, size):
        return
    if default_storage.exists(name):
        default_storage.delete(name)  # a partial file left by an interrupted import
    saved = default_storage.save(name, content)
    if saved != name:  # pragma: no cover - another writer raced us; keep one copy
        default_storage.delete(saved)


def _store_bytes(data: bytes, content_type: str) -> _StoredMedia:
    digest = sha256_hex(data)
    name = media_storage_name(digest)
    _save_media(name, len(data), ContentFile(data))
    return _StoredMedia(digest, content_type, len(data), name)


def _store_media(media: MediaInput) -> _StoredMedia | None:
    if media.missing:
        return None
    content_type = media.content_type or mimetypes.guess_type(media.original_name)[0] or ""
    if media.content is not None:
        return _store_bytes(media.content, content_type)
    assert media.path is not None
    # Stream large files: hash first, then copy, never holding the whole file in memory.
    sha = hashlib.sha256()
    size = 0
    with media.path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
            size += len(chunk)
    digest = sha.hexdigest()
    name = media_storage_name(digest)
    with media.path.open("rb") as handle:
        _save_media(name, size, handle)
    return _StoredMedia(digest, content_type, size, name)


def _prepared_media(
    capture: CaptureInput,
) -> list[tuple[MediaInput, _StoredMedia | None, _StoredMedia | None]]:
    return [
        (
            media,
            _store_media(media),
            _store_bytes(media.caption, "text/vtt") if media.caption is not None else None,
        )
        for media in capture.media
    ]


def _digest_of(capture: CaptureInput, prepared: list) -> str:  # type: ignore[type-arg]
    fingerprints = [
        attachment_fingerprint(
            position=position,
            media_sha256=stored.sha256 if stored else None,
            caption_sha256=caption.sha256 if caption else None,
            alt_text=media.alt_text,
            original_name=media.original_name,
            missing=stored is None,
        )
        for position, (media, stored, caption) in enumerate(prepared)
    ]
    return content_digest(capture.text, capture.html, fingerprints)


ITEM_COLUMNS = [
    "account_id",
    "platform",
    "remote_id",
    "kind",
    "direction",
    "author_handle",
    "author_name",
    "author_platform_id",
    "parent_remote_id",
    "thread_remote_id",
    "permalink",
    "visibility",
    "created_at",
    "first_seen_at",
]
VERSION_COLUMNS = [
    "account_id",
    "seq",
    "recorded_at",
    "chain_digest",
    "item_id",
    "number",
    "text",
    "html",
    "raw_payload",
    "content_digest",
    "payload_digest",
    "source",
]
ATTACHMENT_COLUMNS = [
    "version_id",
    "position",
    "media_id",
    "caption_id",
    "original_name",
    "alt_text",
    "missing",
]


def _insert(model: type[models.Model], columns: list[str], rows: Iterable[Any]) -> None:
    """Insert rows with one executemany: the archive's hot path, measured in bench/.

    The ORM's bulk_create builds SQL per row and dominated import time; values are still
    prepared by the database backend's own adapters, so both engines store them alike.
    """
    rows = list(rows)
    if not rows:
        return
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    names = ", ".join(ops.quote_name(column) for column in columns)
    marks = ", ".join(["%s"] * len(columns))
    datetime_columns = {
        field.column
        for field in model._meta.concrete_fields
        if isinstance(field, models.DateTimeField)
    }

    def prepared(row: Any) -> list[Any]:
        values = []
        for column in columns:
            value = getattr(row, column)
            if column in datetime_columns and value is not None:
                value = ops.adapt_datetimefield_value(value)
            values.append(value)
        return values

    with connection.cursor() as cursor:
        # Table and column names come from the model, never from input.
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
        cursor.executemany(sql, [prepared(r) for r in rows])


KINDS = set(Kind.values)
DIRECTIONS = set(Direction.values)


class _Row(SimpleNamespace):
    """A row about to be inserted: plain attributes, none of a model instance's set-up cost."""


def _new_item(account: Account, capture: CaptureInput, now: datetime.datetime) -> Any:
    """An Item for a first capture, with its fields checked (cheaply: this runs per row)."""
    if capture.kind not in KINDS:
        raise ValueError(f"{capture.platform}:{capture.remote_id}: unknown kind {capture.kind!r}")
    if capture.direction not in DIRECTIONS:
        raise ValueError(
            f"{capture.platform}:{capture.remote_id}: unknown direction {capture.direction!r}"
        )
    if not capture.remote_id or len(capture.remote_id) > 200:
        raise ValueError(f"{capture.platform}: a remote id must have 1 to 200 characters")
    if capture.permalink and not capture.permalink.startswith(("https://", "http://")):
        raise ValueError(f"{capture.platform}:{capture.remote_id}: permalink is not a web address")
    return _Row(
        pk=None,
        account_id=account.pk,
        platform=capture.platform,
        remote_id=capture.remote_id,
        kind=capture.kind,
        direction=capture.direction,
        author_handle=capture.author_handle[:300],
        author_name=capture.author_name[:300],
        author_platform_id=capture.author_platform_id[:200],
        parent_remote_id=capture.parent_remote_id[:200],
        thread_remote_id=capture.thread_remote_id[:200],
        permalink=capture.permalink[:1000],
        visibility=capture.visibility[:30],
        created_at=capture.created_at,
        first_seen_at=now,
    )


def _media_rows(shas: set[str], stored: dict[str, _StoredMedia]) -> dict[str, MediaFile]:
    """MediaFile rows for these digests: the existing ones, and the missing ones created."""
    rows = {m.sha256: m for m in MediaFile.objects.filter(sha256__in=shas)}
    missing = [
        MediaFile(
            sha256=sha,
            content_type=stored[sha].content_type,
            size=stored[sha].size,
            storage_name=stored[sha].storage_name,
        )
        for sha in shas
        if sha not in rows
    ]
    for row in MediaFile.objects.bulk_create(missing):
        rows[row.sha256] = row
    return rows


def capture_batch(
    *,
    account: Account,
    captures: Iterable[CaptureInput] = (),
    events: Iterable[EventInput] = (),
    source: str,
) -> BatchResult:
    """Store captures (then events) for `account` in one transaction; return what was new.

    Events name their item by platform + remote id; an event for an item that was never
    captured is refused, since the archive records what happened to what it holds.
    Rows are written with bulk inserts; the chain is computed in order in Python while the
    account's chain head is locked, so concurrent writers cannot interleave.
    """
    captures = list(captures)
    events = list(events)
    # Files first, outside the transaction (content-addressed, so safe to repeat).
    prepared = [(capture, _prepared_media(capture)) for capture in captures]
    digests = [_digest_of(capture, media) for capture, media in prepared]
    result = BatchResult()
    now = timezone.now()
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(account=account)
        remote_ids = {c.remote_id for c in captures} | {e.remote_id for e in events}
        platforms = {c.platform for c in captures} | {e.platform for e in events}
        items: dict[tuple[str, str], Any] = {
            (item.platform, item.remote_id): item
            for item in Item.objects.filter(platform__in=platforms, remote_id__in=remote_ids)
        }
        known_digests: dict[int, set[str]] = {}
        next_number: dict[int, int] = {}
        for item_id, digest, number in ItemVersion.objects.filter(
            item__in=[item.pk for item in items.values()]
        ).values_list("item_id", "content_digest", "number"):
            known_digests.setdefault(item_id, set()).add(digest)
            next_number[item_id] = max(next_number.get(item_id, 0), number)

        # 1. Items seen for the first time, inserted together.
        new_items: dict[tuple[str, str], Any] = {}
        for capture in captures:
            key = (capture.platform, capture.remote_id)
            if key in items or key in new_items:
                continue
            new_items[key] = _new_item(account, capture, now)
        _insert(Item, ITEM_COLUMNS, new_items.values())
        if new_items:
            # Read the ids back in one query (inserted with executemany, which returns none).
            for pk, platform, remote_id in Item.objects.filter(
                platform__in={k[0] for k in new_items}, remote_id__in={k[1] for k in new_items}
            ).values_list("pk", "platform", "remote_id"):
                if (platform, remote_id) in new_items:
                    new_items[(platform, remote_id)].pk = pk
        items.update(new_items)
        result.items = len(new_items)

        # 2. Versions with new content, chained in order.
        versions: list[
            tuple[Any, list[tuple[MediaInput, _StoredMedia | None, _StoredMedia | None]]]
        ] = []
        for (capture, media), digest in zip(prepared, digests, strict=True):
            item = items[(capture.platform, capture.remote_id)]
            seen = known_digests.setdefault(item.pk, set())
            if digest in seen:
                result.duplicates_skipped += 1
                continue
            seen.add(digest)
            number = next_number.get(item.pk, 0) + 1
            next_number[item.pk] = number
            head.seq += 1
            version = _Row(
                pk=None,
                account_id=account.pk,
                item_id=item.pk,
                number=number,
                seq=head.seq,
                recorded_at=now,
                text=capture.text,
                html=capture.html,
                raw_payload=capture.raw_payload,
                content_digest=digest,
                payload_digest=sha256_hex(capture.raw_payload.encode()),
                source=source,
            )
            version.chain_digest = chain_digest(head.digest, head.seq, version_entry(item, version))
            head.digest = version.chain_digest
            versions.append((version, media))
        _insert(ItemVersion, VERSION_COLUMNS, [version for version, _ in versions])
        if any(media for _, media in versions):
            ids = dict(
                ItemVersion.objects.filter(
                    account=account, seq__in=[v.seq for v, media in versions if media]
                ).values_list("seq", "pk")
            )
            for version, media in versions:
                if media:
                    version.pk = ids[version.seq]
        result.versions = len(versions)

        # 3. Attachments, with each file's row created once.
        stored_by_sha = {
            stored.sha256: stored
            for _, media in versions
            for _, file, caption in media
            for stored in (file, caption)
            if stored is not None
        }
        media_rows = _media_rows(set(stored_by_sha), stored_by_sha)
        attachments = []
        for version, media in versions:
            for position, (original, stored, caption) in enumerate(media):
                attachments.append(
                    _Row(
                        version_id=version.pk,
                        position=position,
                        media_id=media_rows[stored.sha256].pk if stored else None,
                        caption_id=media_rows[caption.sha256].pk if caption else None,
                        original_name=original.original_name[:1000],
                        alt_text=original.alt_text,
                        missing=stored is None,
                    )
                )
                if stored is None:
                    result.media_missing += 1
                    result.missing_media_names.append(original.original_name)
                else:
                    result.media += 1
        _insert(VersionMedia, ATTACHMENT_COLUMNS, attachments)

        # 4. Events about items the archive holds, each recorded once.
        existing_events = set(
            ItemEvent.objects.filter(item__in=[item.pk for item in items.values()]).values_list(
                "item_id", "type", "occurred_at"
            )
        )
        new_events = []
        for event in events:
            target = items.get((event.platform, event.remote_id))
            if target is None:
                raise ValueError(
                    f"event {event.type!r} for {event.platform}:{event.remote_id}, "
                    "which the archive does not hold"
                )
            occurrence = (target.pk, event.type, event.occurred_at)
            if occurrence in existing_events:
                result.duplicates_skipped += 1
                continue
            existing_events.add(occurrence)
            head.seq += 1
            row = ItemEvent(
                account=account,
                item_id=target.pk,
                type=event.type,
                occurred_at=event.occurred_at,
                details=event.details,
                seq=head.seq,
                recorded_at=now,
                source=source,
            )
            row.chain_digest = chain_digest(head.digest, head.seq, event_entry(target, row))
            head.digest = row.chain_digest
            new_events.append(row)
            if row.type == ItemEvent.Type.DELETED:
                result.deletions += 1
        ItemEvent.objects.bulk_create(new_events)
        result.events = len(new_events)
        head.save()
        # The derived search index (not part of the chained archive) follows in the same
        # transaction, so a found item always exists and a stored one is always findable.
        search_index_update(item_ids={version.item_id for version, _ in versions})
    return result


def capture_store(*, account: Account, capture: CaptureInput, source: str) -> BatchResult:
    """Store one capture (a connector's single item); see `capture_batch`."""
    return capture_batch(account=account, captures=[capture], source=source)


def fixity_alert_raise(*, report: object) -> None:
    """Tell the people who answer for the archive that verification failed (R10).

    Written to the audit log and e-mailed to every active admin and registrar.
    """
    import logging

    from django.core.mail import send_mail

    from narvaro.core.models import AuditEvent, User
    from narvaro.core.services import audit_record

    problems = getattr(report, "problems", [])
    lines = [f"- {p.reference}: {p.detail}" for p in problems[:50]]
    summary = f"fixity check failed: {len(problems)} problem(s)"
    logging.getLogger("narvaro.archive").error("%s\n%s", summary, "\n".join(lines))
    audit_record(
        actor=None,
        action=AuditEvent.Action.SECURITY,
        summary=summary,
        changes={"problems": [p.as_dict() for p in problems[:50]]},
    )
    recipients = list(
        User.objects.filter(
            is_active=True, org_role__in=[User.OrgRole.ADMIN, User.OrgRole.REGISTRAR]
        )
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if recipients:
        send_mail(
            "Narvaro: the archive failed its fixity check",
            "narvaro verify found these problems:\n\n"
            + "\n".join(lines)
            + "\n\nRun `narvaro verify` for the full list.",
            None,
            recipients,
        )
