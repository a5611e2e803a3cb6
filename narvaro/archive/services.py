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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
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
    json_string,
    sha256_hex,
)
from narvaro.archive.chain import (
    chain_digest,
    event_entry,
    item_identity_json,
    item_identity_json_of,
    version_chain_digest_of,
    version_chain_tail,
)
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
from narvaro.archive.search import search_index_add, search_index_update
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


# The storage name of a file the archive knows only by its digest (`MediaInput.sha256`): it
# holds no bytes of it, so nothing is read, served, checked or deleted under this name.
NOT_HELD = ""


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
    if media.content is None and media.path is None:
        return _StoredMedia(media.sha256, content_type, media.size, NOT_HELD)
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
            _store_bytes(media.caption, "text/vtt")
            if media.caption is not None
            else _StoredMedia(media.caption_sha256, "text/vtt", media.caption_size, NOT_HELD)
            if media.caption_sha256
            else None,
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


def _datetime_forms() -> Callable[[datetime.datetime | None], tuple[str, Any]]:
    """A function giving a timestamp both as the chain writes it and as the backend stores it.

    The first form is the JSON of its UTC ISO text (`chain._json_iso`), the second what the
    backend's adapter stores. On SQLite in UTC the stored text is the ISO text with a space
    for the "T" and without the "+00:00" (exactly Django's adapter for an aware datetime; a
    test compares them), so one conversion per item serves both.
    """
    ops = connection.ops
    adapt = ops.adapt_datetimefield_value
    fast = connection.vendor == "sqlite" and connection.timezone == datetime.UTC
    utc = datetime.UTC

    def forms(value: datetime.datetime | None) -> tuple[str, Any]:
        if value is None:
            return "null", adapt(None)
        stamp = value.astimezone(utc).isoformat()
        if fast and value.tzinfo is not None:
            return json_string(stamp), f"{stamp[:10]} {stamp[11:-6]}"
        return json_string(stamp), adapt(value)

    return forms


def _datetime_adapter() -> Callable[[datetime.datetime | None], Any]:
    """The backend's adapter for datetime values, with a fast path for SQLite (see above)."""
    forms = _datetime_forms()
    return lambda value: forms(value)[1]


def _insert(
    model: type[models.Model],
    columns: list[str],
    values: Sequence[Sequence[Any]],
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert rows (their values in `columns` order) with one statement: the hot path.

    The ORM's bulk_create builds SQL per row and dominated import time (bench/); datetime
    values are prepared by `_datetime_forms`, so both engines store them as Django would.
    With `returning`, rows go in as one multi-row INSERT … RETURNING those columns (SQLite
    ≥ 3.35 and PostgreSQL), so new ids need no second query; rows are matched by the
    returned columns, never by their order. On SQLite the statement is written with the
    driver's own "?" marks: Django rewrites "%s" marks with a regular expression on every
    call, which cost more than the insert for a statement of thousands of values.
    """
    if not values:
        return []
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    names = ", ".join(ops.quote_name(column) for column in columns)
    mark = _mark()
    marks = ", ".join([mark] * len(columns))
    with connection.cursor() as cursor:
        # Table and column names come from the model, never from input.
        sql = f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608
        if not returning:
            cursor.executemany(f"{sql}({marks})", values)
            return []
        back = ", ".join(ops.quote_name(column) for column in returning)
        per_statement = max(1, 30_000 // len(columns))  # under SQLite's 32,766 parameters
        returned: list[tuple[Any, ...]] = []
        for start in range(0, len(values), per_statement):
            chunk = values[start : start + per_statement]
            cursor.execute(
                f"{sql}{', '.join([f'({marks})'] * len(chunk))} RETURNING {back}",
                [value for row in chunk for value in row],
            )
            returned.extend(cursor.fetchall())
        return returned


def _mark() -> str:
    """The parameter mark to write raw SQL with: the driver's own on SQLite (see `_insert`)."""
    return "?" if connection.vendor == "sqlite" else "%s"


def _select(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _execute(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _in_chunks(values: Iterable[Any], size: int = 900) -> Iterable[list[Any]]:
    """Values in chunks small enough for one `IN (...)` on any engine."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _stored_ids(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The ids of the items stored under these (platform, remote id) pairs."""
    ops = connection.ops
    table = ops.quote_name(Item._meta.db_table)
    mark = _mark()
    by_platform: dict[str, list[str]] = {}
    for platform, remote_id in pairs:
        by_platform.setdefault(platform, []).append(remote_id)
    found: dict[tuple[str, str], int] = {}
    for platform, remote_ids in by_platform.items():
        for chunk in _in_chunks(remote_ids):
            marks = ", ".join([mark] * len(chunk))
            for pk, remote_id in _select(
                f"SELECT id, remote_id FROM {table} "  # noqa: S608
                f"WHERE platform = {mark} AND remote_id IN ({marks})",
                [platform, *chunk],
            ):
                found[(platform, remote_id)] = pk
    return found


KINDS = set(Kind.values)
DIRECTIONS = set(Direction.values)


class _NewItem:
    """An item about to be inserted: what the batch needs of it, none of a model's set-up cost.

    `values` are its row in ITEM_COLUMNS order, `identity` its identity in the chain
    (`chain.item_identity_json`, the same text as for the stored item read back).
    """

    __slots__ = ("created_at", "identity", "pk", "platform", "remote_id", "values")

    def __init__(
        self,
        platform: str,
        remote_id: str,
        created_at: datetime.datetime | None,
        identity: str,
        values: tuple[Any, ...],
    ) -> None:
        self.pk = 0  # until inserted
        self.platform = platform
        self.remote_id = remote_id
        self.created_at = created_at
        self.identity = identity
        self.values = values


def _new_item(
    account_id: int,
    capture: CaptureInput,
    forms: Callable[[datetime.datetime | None], tuple[str, Any]],
    first_seen_json: str,
    now_db: Any,
) -> _NewItem:
    """An Item for a first capture, with its fields checked (cheaply: this runs per row)."""
    platform, remote_id = capture.platform, capture.remote_id
    kind, direction, permalink = capture.kind, capture.direction, capture.permalink
    if kind not in KINDS:
        raise ValueError(f"{platform}:{remote_id}: unknown kind {kind!r}")
    if direction not in DIRECTIONS:
        raise ValueError(f"{platform}:{remote_id}: unknown direction {direction!r}")
    if not remote_id or len(remote_id) > 200:
        raise ValueError(f"{platform}: a remote id must have 1 to 200 characters")
    if permalink and not permalink.startswith(("https://", "http://")):
        raise ValueError(f"{platform}:{remote_id}: permalink is not a web address")
    author_handle = capture.author_handle[:300]
    author_name = capture.author_name[:300]
    author_platform_id = capture.author_platform_id[:200]
    parent = capture.parent_remote_id[:200]
    thread = capture.thread_remote_id[:200]
    permalink = permalink[:1000]
    visibility = capture.visibility[:30]
    created_json, created_db = forms(capture.created_at)
    identity = item_identity_json_of(
        platform=platform,
        remote_id=remote_id,
        kind=kind,
        direction=direction,
        author_handle=author_handle,
        author_name=author_name,
        author_platform_id=author_platform_id,
        parent=parent,
        thread=thread,
        permalink=permalink,
        visibility=visibility,
        created_json=created_json,
        first_seen_json=first_seen_json,
    )
    values = (
        account_id,
        platform,
        remote_id,
        kind,
        direction,
        author_handle,
        author_name,
        author_platform_id,
        parent,
        thread,
        permalink,
        visibility,
        created_db,
        now_db,
    )
    return _NewItem(platform, remote_id, capture.created_at, identity, values)


def _media_rows(shas: set[str], stored: dict[str, _StoredMedia]) -> dict[str, MediaFile]:
    """MediaFile rows for these digests: the existing ones, and the missing ones created."""
    if not shas:
        return {}
    rows = {m.sha256: m for m in MediaFile.objects.filter(sha256__in=shas)}
    # A file known until now only by its digest, whose bytes this batch stored.
    now_held = [
        row
        for sha, row in rows.items()
        if row.storage_name == NOT_HELD and stored[sha].storage_name != NOT_HELD
    ]
    for row in now_held:
        row.storage_name = stored[row.sha256].storage_name
    MediaFile.objects.bulk_update(now_held, ["storage_name"])
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


def _locked_chain_head(account: Account) -> ChainHead:
    """The account's chain head, locked until the transaction ends (made at its first batch).

    A raw query: the ORM's `select_for_update().get_or_create()` and `save()` cost more than
    the statements themselves, once per batch. (On SQLite the transaction itself, begun
    IMMEDIATE, holds the write lock.)
    """
    mark = _mark()
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    rows = _select(
        f"SELECT id, seq, digest FROM {ChainHead._meta.db_table} "  # noqa: S608
        f"WHERE account_id = {mark}{lock}",
        [account.pk],
    )
    if not rows:
        head, _ = ChainHead.objects.select_for_update().get_or_create(account=account)
        return head
    pk, seq, digest = rows[0]
    return ChainHead(pk=pk, account_id=account.pk, seq=seq, digest=digest)


_Prepared = list[tuple[MediaInput, _StoredMedia | None, _StoredMedia | None]]


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
    prepared: list[_Prepared] = [
        _prepared_media(capture) if capture.media else [] for capture in captures
    ]
    digests = [
        _digest_of(capture, media) if media else content_digest(capture.text, capture.html, [])
        for capture, media in zip(captures, prepared, strict=True)
    ]
    result = BatchResult()
    now = timezone.now()
    account_id = account.pk
    forms = _datetime_forms()
    now_json, now_db = forms(now)
    with transaction.atomic():
        head = _locked_chain_head(account)
        # What is stored already: ids by one indexed query, full rows only for those found
        # (a re-run or an edit); a first import reads nothing more.
        keys = {(c.platform, c.remote_id) for c in captures} | {
            (e.platform, e.remote_id) for e in events
        }
        stored_ids = _stored_ids(keys)
        items: dict[tuple[str, str], Any] = {}
        if stored_ids:
            items = {
                (item.platform, item.remote_id): item
                for item in Item.objects.filter(pk__in=stored_ids.values())
            }
        known_digests: dict[int, set[str]] = {}
        next_number: dict[int, int] = {}
        mark = _mark()
        for chunk in _in_chunks(item.pk for item in items.values()):
            marks = ", ".join([mark] * len(chunk))
            for item_id, digest, number in _select(
                "SELECT item_id, content_digest, number FROM archive_itemversion "  # noqa: S608
                f"WHERE item_id IN ({marks})",
                chunk,
            ):
                known_digests.setdefault(item_id, set()).add(digest)
                next_number[item_id] = max(next_number.get(item_id, 0), number)

        # 1. Items seen for the first time, inserted together.
        new_items: dict[tuple[str, str], _NewItem] = {}
        for capture in captures:
            key = (capture.platform, capture.remote_id)
            if key in items or key in new_items:
                continue
            new_items[key] = _new_item(account_id, capture, forms, now_json, now_db)
        for pk, platform, remote_id in _insert(
            Item,
            ITEM_COLUMNS,
            [item.values for item in new_items.values()],
            returning=("id", "platform", "remote_id"),
        ):
            new_items[(platform, remote_id)].pk = pk
        items.update(new_items)
        result.items = len(new_items)
        identities = {item.pk: item.identity for item in new_items.values()}

        # 2. Versions with new content, chained in order; the texts of new items for the
        # search index. (Values written out in VERSION_COLUMNS order: this runs per row.)
        seq, previous = head.seq, head.digest
        tail = version_chain_tail(now, source)
        version_rows: list[tuple[Any, ...]] = []
        with_media: list[tuple[int, _Prepared]] = []
        texts: dict[int, list[str]] = {}
        sha256 = hashlib.sha256
        for capture, media, digest in zip(captures, prepared, digests, strict=True):
            key = (capture.platform, capture.remote_id)
            item = items[key]
            item_id = item.pk
            seen = known_digests.get(item_id)
            if seen is None:
                seen = known_digests[item_id] = set()
            elif digest in seen:
                result.duplicates_skipped += 1
                continue
            seen.add(digest)
            number = next_number.get(item_id, 0) + 1
            next_number[item_id] = number
            seq += 1
            text, raw_payload = capture.text, capture.raw_payload
            payload_digest = sha256(raw_payload.encode()).hexdigest()
            identity = identities.get(item_id)
            if identity is None:
                identity = identities[item_id] = item_identity_json(item)
            previous = version_chain_digest_of(
                previous, seq, identity, number, digest, payload_digest, tail
            )
            version_rows.append(
                (
                    account_id,
                    seq,
                    now_db,
                    previous,
                    item_id,
                    number,
                    text,
                    capture.html,
                    raw_payload,
                    digest,
                    payload_digest,
                    source,
                )
            )
            if media:
                with_media.append((seq, media))
            if key in new_items:
                found = texts.setdefault(item_id, [])
                found.append(text)
                if media:
                    found.extend(original.alt_text for original, _, _ in media)
        head.seq, head.digest = seq, previous
        ids = dict(
            _insert(
                ItemVersion,
                VERSION_COLUMNS,
                version_rows,
                returning=("seq", "id") if with_media else (),
            )
        )
        result.versions = len(version_rows)

        # 3. Attachments, with each file's row created once.
        stored_by_sha = {
            stored.sha256: stored
            for _, media in with_media
            for _, file, caption in media
            for stored in (file, caption)
            if stored is not None
        }
        media_rows = _media_rows(set(stored_by_sha), stored_by_sha)
        attachments = []
        for version_seq, media in with_media:
            for position, (original, stored, caption) in enumerate(media):
                attachments.append(
                    (
                        ids[version_seq],
                        position,
                        media_rows[stored.sha256].pk if stored else None,
                        media_rows[caption.sha256].pk if caption else None,
                        original.original_name[:1000],
                        original.alt_text,
                        stored is None,
                    )
                )
                if stored is None:
                    result.media_missing += 1
                    result.missing_media_names.append(original.original_name)
                else:
                    result.media += 1
        _insert(VersionMedia, ATTACHMENT_COLUMNS, attachments)

        # 4. Events about items the archive holds, each recorded once.
        if events:
            _store_events(account, events, items, head, now, source, result)
        _execute(
            f"UPDATE {ChainHead._meta.db_table} SET seq = {mark}, digest = {mark} "  # noqa: S608
            f"WHERE id = {mark}",
            [head.seq, head.digest, head.pk],
        )
        # The derived search index (not part of the chained archive) follows in the same
        # transaction, so a found item always exists and a stored one is always findable.
        # New items are indexed from the texts in hand; an item that gained a version is
        # recomputed from all its versions.
        new_ids = {item.pk for item in new_items.values()}
        search_index_add(
            [(item.pk, item.created_at, texts.get(item.pk, [])) for item in new_items.values()]
        )
        changed = {row[4] for row in version_rows} - new_ids
        if changed:
            search_index_update(item_ids=changed)
        if new_ids or result.events:
            _announce_after_commit(account_id, sorted(new_ids), result.events, source)
    return result


def _announce_after_commit(account_id: int, item_ids: list[int], events: int, source: str) -> None:
    """Tell the deriving apps (inbox, radar, moderation) once the batch is committed."""
    from narvaro.archive.signals import items_captured

    transaction.on_commit(
        lambda: items_captured.send(
            sender=Item, account_id=account_id, item_ids=item_ids, event_count=events, source=source
        )
    )


def _store_events(
    account: Account,
    events: list[EventInput],
    items: dict[tuple[str, str], Any],
    head: ChainHead,
    now: datetime.datetime,
    source: str,
    result: BatchResult,
) -> None:
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


def capture_store(*, account: Account, capture: CaptureInput, source: str) -> BatchResult:
    """Store one capture (a connector's single item); see `capture_batch`."""
    return capture_batch(account=account, captures=[capture], source=source)


def fixity_alert_raise(*, report: object) -> None:
    """Tell the people who answer for the archive that verification failed (R10).

    Written to the audit log and e-mailed to every active admin and registrar.
    """
    import logging

    from django.conf import settings
    from django.core.mail import send_mail
    from django.urls import reverse
    from django.utils import translation
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    from narvaro.core.models import AuditEvent, User
    from narvaro.core.services import audit_record
    from narvaro.lib.links import absolute_url

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
        # The organisation's language: the check runs in the worker, without a person's choice.
        with translation.override(settings.LANGUAGE_CODE):
            log = absolute_url(f"{reverse('core:audit_log')}?action={AuditEvent.Action.SECURITY}")
            subject = _("Narvaro: the archive failed its fixity check")
            body = "\n".join(
                [
                    ngettext(
                        "The fixity check found %(count)s problem in the archive.",
                        "The fixity check found %(count)s problems in the archive.",
                        len(problems),
                    )
                    % {"count": len(problems)},
                    # The lines are those of `narvaro verify`, which speaks English throughout.
                    _("As narvaro verify reports them (in English):"),
                    "",
                    *lines,
                    "",
                    _("Run `narvaro verify` for the full list."),
                    _("The alert is in the audit log in Narvaro: %(url)s") % {"url": log},
                ]
            )
        send_mail(subject, body, None, recipients)
