"""The archive format: Narvaro's records as JSON Lines, streamed account by account (R32).

`write_records` walks each account's chain in order (versions and events merged by `seq`,
in chunks, as `narvaro verify` does), so memory stays flat however large the archive is.
Every field of every item, version and event is written; each version's raw payload is also
written verbatim to its own file, and each media file is copied once, named by its SHA-256.
The files of an item moderated as child sexual abuse material are never copied (R19): their
attachments and media.jsonl lines keep the digest, type and size, with no file and a
`withheld` note (`archive.selectors.media_withheld_digests`).
While walking, the chain and the digests are recomputed, so every package carries a
verification report of what it holds. docs/archive-format.md describes the format; the JSON
Schemas in `narvaro/packages/schema/` define it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.core.files.storage import default_storage
from django.db.models import Q
from django.utils import timezone

from narvaro.archive.capture import (
    attachment_fingerprint,
    content_digest,
    iso,
    sha256_hex,
)
from narvaro.archive.chain import GENESIS, chain_digest, event_entry, version_entry
from narvaro.archive.models import ChainHead, Item, ItemEvent, ItemVersion, MediaFile, VersionMedia
from narvaro.archive.selectors import (
    MEDIA_WITHHELD_NOTE,
    attachment_withheld,
    chain_entries,
    media_withheld_digests,
)
from narvaro.channels.models import Account
from narvaro.packages.models import RestoredChainEntry

FORMAT_NAME = "narvaro-archive"
FORMAT_VERSION = "1.0"
SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
# Record file → the schema its lines follow.
RECORD_FILES = {
    "accounts.jsonl": "account.schema.json",
    "items.jsonl": "item.schema.json",
    "versions.jsonl": "version.schema.json",
    "events.jsonl": "event.schema.json",
    "media.jsonl": "media.schema.json",
}


def account_key(account: Any) -> str:
    """How the package names an account: PLATFORM:HANDLE, as on the command line."""
    return f"{account.platform}:{account.handle}"


@dataclass(frozen=True)
class Scope:
    """What a package holds: some accounts, optionally only items from a period (local days)."""

    account_ids: tuple[int, ...]
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "accounts": list(self.account_ids),
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
        }


@dataclass
class WriteResult:
    """What was written, and what the recomputed digests found."""

    accounts: int = 0
    items: int = 0
    versions: int = 0
    events: int = 0
    media: int = 0
    media_bytes: int = 0
    # Files listed by their digest but not copied (see the module docstring).
    media_withheld: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    heads: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Chain entries of the written items, in chain order, for the PREMIS event log.
    entry_log: Path | None = None

    @property
    def intact(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "items": self.items,
            "versions": self.versions,
            "events": self.events,
            "media": self.media,
            "media_bytes": self.media_bytes,
            "media_withheld": self.media_withheld,
            "intact": self.intact,
            "problems": self.problems,
        }


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def _period_filter(scope: Scope) -> Q:
    """Items dated in the period: `created_at`, or `first_seen_at` when the platform gave none."""
    condition = Q()
    if scope.date_from:
        start = _day_start(scope.date_from)
        condition &= Q(created_at__gte=start) | Q(created_at__isnull=True, first_seen_at__gte=start)
    if scope.date_to:
        end = _day_start(scope.date_to + dt.timedelta(days=1))
        condition &= Q(created_at__lt=end) | Q(created_at__isnull=True, first_seen_at__lt=end)
    return condition


def entry_count(scope: Scope) -> int:
    """Chain entries the export walks (the progress bar's total)."""
    return (
        ItemVersion.objects.filter(account_id__in=scope.account_ids).count()
        + ItemEvent.objects.filter(account_id__in=scope.account_ids).count()
    )


def item_record(item: Item, key: str) -> dict[str, Any]:
    return {
        "id": item.pk,
        "account": key,
        "platform": item.platform,
        "remote_id": item.remote_id,
        "kind": item.kind,
        "direction": item.direction,
        "author_handle": item.author_handle,
        "author_name": item.author_name,
        "author_platform_id": item.author_platform_id,
        "parent_remote_id": item.parent_remote_id,
        "thread_remote_id": item.thread_remote_id,
        "permalink": item.permalink,
        "visibility": item.visibility,
        "created_at": iso(item.created_at),
        "first_seen_at": iso(item.first_seen_at),
    }


def account_record(account: Account, head: ChainHead | None) -> dict[str, Any]:
    return {
        "key": account_key(account),
        "platform": account.platform,
        "handle": account.handle,
        "display_name": account.display_name,
        "profile_url": account.profile_url,
        "kind": account.kind,
        "state": account.state,
        "unit": {"slug": account.unit.slug, "name": account.unit.name},
        "opened_on": account.opened_on.isoformat() if account.opened_on else None,
        "closed_on": account.closed_on.isoformat() if account.closed_on else None,
        "retention_decision_ref": account.retention_decision_ref,
        "dpia_ref": account.dpia_ref,
        "chain": {
            "seq": head.seq if head else 0,
            "digest": head.digest if head else GENESIS,
        },
    }


def account_folder(key: str) -> str:
    """A file-system-safe folder name for an account key (platform_handle)."""
    return re.sub(r"[^A-Za-z0-9.@-]", "_", key)


def payload_file_name(key_dir: str, version: ItemVersion, seq: int) -> str:
    """`payloads/<account>/<seq>.json` (or `.txt` when the payload is not JSON text)."""
    raw = (version.raw_payload or "").lstrip()
    suffix = ".json" if raw[:1] in ("{", "[") else ".txt"
    return f"payloads/{key_dir}/{seq:010d}{suffix}"


def _disposed_version_ids(account_id: int) -> set[int]:
    return {
        int(version_id)
        for version_id in ItemEvent.objects.filter(
            account_id=account_id, type=ItemEvent.Type.DISPOSED
        ).values_list("details__version_id", flat=True)
        if version_id is not None
    }


def _fingerprints(rows: list[VersionMedia]) -> list[dict[str, Any]]:
    return [
        attachment_fingerprint(
            position=row.position,
            media_sha256=row.media.sha256 if row.media else None,
            caption_sha256=row.caption.sha256 if row.caption else None,
            alt_text=row.alt_text,
            original_name=row.original_name,
            missing=row.missing,
        )
        for row in rows
    ]


def _dump(handle: IO[str], record: dict[str, Any]) -> None:
    handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


class _Writer:
    """Writes one package's data folder; holds only the open files and the digests seen."""

    def __init__(self, root: Path, entry_log: Path, progress: Callable[[int], None] | None) -> None:
        self.root = root
        self.progress = progress
        self.result = WriteResult()
        self.media_written: set[str] = set()
        # One query for the whole package: withheld files are few, and a file is withheld
        # wherever its bytes are attached, whichever account or item comes first.
        self.withheld = media_withheld_digests()
        self.restored: dict[int, RestoredChainEntry] = {}
        (root / "records").mkdir(parents=True, exist_ok=True)
        (root / "media").mkdir(exist_ok=True)
        (root / "payloads").mkdir(exist_ok=True)
        (root / "fixity").mkdir(exist_ok=True)
        self.files = {
            name: (root / "records" / name).open("w", encoding="utf-8") for name in RECORD_FILES
        }
        self.result.entry_log = entry_log
        self.entry_log = entry_log.open("w", encoding="utf-8")

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()
        self.entry_log.close()

    def media(self, row: MediaFile | None) -> str | None:
        """The file's path in the package, copied the first time; None when not copied."""
        if row is None:
            return None
        if row.sha256 in self.withheld:
            self._withheld(row)
            return None
        name = f"media/{row.sha256[:2]}/{row.sha256}"
        if row.sha256 in self.media_written:
            return name
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with default_storage.open(row.storage_name, "rb") as source, target.open("wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
        self.media_written.add(row.sha256)
        self.result.media += 1
        self.result.media_bytes += row.size
        self._media_line(row, file=name)
        return name

    def _withheld(self, row: MediaFile) -> None:
        """List a withheld file once in media.jsonl: its digest, type and size, no file."""
        if row.sha256 in self.media_written:
            return
        self.media_written.add(row.sha256)
        self.result.media_withheld += 1
        self._media_line(row, file=None, withheld=MEDIA_WITHHELD_NOTE)

    def _media_line(self, row: MediaFile, *, file: str | None, **extra: str) -> None:
        """A file's line in media.jsonl: digest, type, size, first seen, where it is."""
        line = {
            "sha256": row.sha256,
            "content_type": row.content_type,
            "size": row.size,
            "first_seen_at": iso(row.first_seen_at),
            "file": file,
        }
        _dump(self.files["media.jsonl"], {**line, **extra})

    def attachment(self, row: VersionMedia) -> dict[str, Any]:
        withheld = attachment_withheld(row, self.withheld)
        return {
            "position": row.position,
            "media_sha256": row.media.sha256 if row.media else None,
            "caption_sha256": row.caption.sha256 if row.caption else None,
            "content_type": row.media.content_type if row.media else "",
            "original_name": row.original_name,
            "alt_text": row.alt_text,
            "missing": row.missing,
            "media_file": self.media(row.media),
            "caption_file": self.media(row.caption),
            "withheld": MEDIA_WITHHELD_NOTE if withheld else None,
        }

    def problem(self, key: str, reference: str, detail: str) -> None:
        self.result.problems.append({"account": key, "reference": reference, "detail": detail})

    def account(self, account: Account, scope: Scope) -> None:
        key = account_key(account)
        key_dir = account_folder(key)
        head = ChainHead.objects.filter(account=account).first()
        # An account restored from a package: its entries' original chain values (restore.py).
        self.restored = {row.seq: row for row in RestoredChainEntry.objects.filter(account=account)}
        first_seen = self._restored_first_seen(account)
        record = account_record(account, head)
        if head is not None and head.seq in self.restored:
            original = self.restored[head.seq]
            record["chain"] = {"seq": original.original_seq, "digest": original.chain_digest}
        _dump(self.files["accounts.jsonl"], record)
        self.result.accounts += 1
        items = Item.objects.filter(account=account)
        partial = bool(scope.date_from or scope.date_to)
        selected: set[int] = set()
        for item in items.filter(_period_filter(scope)).order_by("pk").iterator(chunk_size=2000):
            if item.pk in first_seen:
                item.first_seen_at = first_seen[item.pk]
            _dump(self.files["items.jsonl"], item_record(item, key))
            self.result.items += 1
            if partial:
                selected.add(item.pk)
        disposed = _disposed_version_ids(account.pk)
        previous, expected, entries = GENESIS, 1, 0
        for entry in chain_entries(account.pk):
            entries += 1
            item = entry.item
            if entry.seq != expected:
                self.problem(key, f"seq {expected}", f"entry missing (next found: {entry.seq})")
                expected = entry.seq
            is_version = isinstance(entry, ItemVersion)
            described = (
                version_entry(item, entry) if is_version else event_entry(item, entry)  # type: ignore[arg-type]
            )
            if chain_digest(previous, entry.seq, described) != entry.chain_digest:
                self.problem(key, f"seq {entry.seq}", "chain digest does not match")
            if not partial or item.pk in selected:
                if isinstance(entry, ItemVersion):
                    self.version(entry, key, key_dir, previous, entry.pk in disposed)
                else:
                    self.event(entry, key, previous)
            previous, expected = entry.chain_digest, expected + 1
            if self.progress:
                self.progress(1)
        if head is not None and (head.seq != expected - 1 or head.digest != previous):
            self.problem(key, "head", f"chain ends at {expected - 1}, head says {head.seq}")
        self.result.heads[key] = {
            "seq": head.seq if head else 0,
            "digest": head.digest if head else GENESIS,
            "entries": entries,
        }

    def _restored_first_seen(self, account: Account) -> dict[int, dt.datetime]:
        seqs = {
            seq: row.item_first_seen_at
            for seq, row in self.restored.items()
            if row.item_first_seen_at is not None
        }
        return {
            item_id: seqs[seq]
            for seq, item_id in ItemVersion.objects.filter(
                account=account, seq__in=list(seqs)
            ).values_list("seq", "item_id")
        }

    def _original(self, record: dict[str, Any], seq: int) -> dict[str, Any]:
        """The entry as the exporting archive had it, for an entry restored from a package."""
        row = self.restored.get(seq)
        if row is None:
            return record
        record.update(
            seq=row.original_seq,
            recorded_at=iso(row.recorded_at),
            chain_digest=row.chain_digest,
            previous_chain_digest=row.previous_chain_digest,
        )
        if "actor_name" in record:
            record["actor_name"] = row.actor_name
        return record

    def version(
        self, version: ItemVersion, key: str, key_dir: str, previous: str, disposed: bool
    ) -> None:
        rows: list[VersionMedia] = version._attachments  # type: ignore[attr-defined]
        reference = f"{version.item} version {version.number}"
        payload_file = None
        if version.raw_payload is not None:
            restored = self.restored.get(version.seq)
            seq = restored.original_seq if restored else version.seq
            payload_file = payload_file_name(key_dir, version, seq)
            target = self.root / payload_file
            target.parent.mkdir(parents=True, exist_ok=True)
            # Verbatim: the exact characters the platform sent, UTF-8, no newline translation.
            target.write_bytes(version.raw_payload.encode())
            if sha256_hex(version.raw_payload.encode()) != version.payload_digest:
                self.problem(key, reference, "raw payload does not match its digest")
        if not disposed and version.text is not None:
            recomputed = content_digest(version.text, version.html or "", _fingerprints(rows))
            if recomputed != version.content_digest:
                self.problem(key, reference, "text, HTML or attachments do not match the digest")
        record = {
            "id": version.pk,
            "item_id": version.item_id,
            "account": key,
            "seq": version.seq,
            "recorded_at": iso(version.recorded_at),
            "chain_digest": version.chain_digest,
            "previous_chain_digest": previous,
            "number": version.number,
            "text": version.text,
            "html": version.html,
            "raw_payload": version.raw_payload,
            "content_digest": version.content_digest,
            "payload_digest": version.payload_digest,
            "source": version.source,
            "disposed": disposed,
            "payload_file": payload_file,
            "attachments": [self.attachment(row) for row in rows],
        }
        _dump(self.files["versions.jsonl"], self._original(record, version.seq))
        self._log(version, "version", key)
        self.result.versions += 1

    def event(self, event: ItemEvent, key: str, previous: str) -> None:
        record = {
            "id": event.pk,
            "item_id": event.item_id,
            "account": key,
            "seq": event.seq,
            "recorded_at": iso(event.recorded_at),
            "chain_digest": event.chain_digest,
            "previous_chain_digest": previous,
            "type": event.type,
            "occurred_at": iso(event.occurred_at),
            "details": event.details,
            "actor_name": event.actor_name,
            "source": event.source,
        }
        _dump(self.files["events.jsonl"], self._original(record, event.seq))
        self._log(event, event.type, key)
        self.result.events += 1

    def _log(self, entry: ItemVersion | ItemEvent, entry_type: str, key: str) -> None:
        number = entry.number if isinstance(entry, ItemVersion) else None
        _dump(
            self.entry_log,
            {
                "account": key,
                "seq": entry.seq,
                "type": entry_type,
                "number": number,
                "item": str(entry.item),
                "recorded_at": iso(entry.recorded_at),
                "occurred_at": iso(getattr(entry, "occurred_at", None)),
                "actor": getattr(entry, "actor_name", ""),
                "source": entry.source,
                "chain_digest": entry.chain_digest,
            },
        )


def write_records(
    root: Path, scope: Scope, *, work: Path, progress: Callable[[int], None] | None = None
) -> WriteResult:
    """Write the records, payloads, media, schemas and fixity report of `scope` under `root`.

    `work` is a scratch folder outside the package for the chain-order entry log.
    """
    writer = _Writer(root, work / "entries.jsonl", progress)
    try:
        for account in (
            Account.objects.filter(pk__in=scope.account_ids).select_related("unit").order_by("pk")
        ):
            writer.account(account, scope)
    finally:
        writer.close()
    schema_dir = root / "schema"
    schema_dir.mkdir(exist_ok=True)
    for schema in sorted(SCHEMA_DIR.glob("*.schema.json")):
        shutil.copyfile(schema, schema_dir / schema.name)
    result = writer.result
    (root / "fixity" / "chain-heads.json").write_text(
        json.dumps(result.heads, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    )
    (root / "fixity" / "verification.json").write_text(
        json.dumps(
            {"verified_at": iso(timezone.now()), "scope": scope.describe(), **result.as_dict()},
            ensure_ascii=False,
            indent=2,
            sort_keys=True,
        )
        + "\n"
    )
    return result
