"""Restoring a BagIt package into an empty archive, through the archive's capture service (R32).

Like an importer (`channels/importers/base.py`), it works in two passes:

1. `validate()` checks the bag (`bagit`: every file against its manifest), every record
   against its JSON Schema, every content and payload digest, and recomputes each account's
   original hash chain from the records, ending at the chain head the package names. It
   raises `PackageError` naming the file and line at the first problem; nothing is written.
   A file the package withheld (child sexual abuse material is copied nowhere, `records.py`)
   must be listed in media.jsonl with its size; its attachment is restored with its digest
   and no bytes (`archive.services.NOT_HELD`), so every content digest stays as it was.
2. `restore()` replays the chain in order through `archive.services.capture_batch`, in runs
   of versions or events with the same source, so every item, version number, digest and
   sequence number comes out as it was. The capture service stamps its own `recorded_at`
   (and an item's `first_seen_at`), so the restored chain has new chain digests; the
   original values of every entry are kept verbatim in `RestoredChainEntry` beside it, and
   a later export writes those, so a package restored and exported again has the records
   it had (docs/archive-format.md, "Restoring a package").
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import bagit
import jsonschema
from django.db import transaction

from narvaro.archive.capture import (
    CaptureInput,
    EventInput,
    MediaInput,
    attachment_fingerprint,
    content_digest,
    sha256_hex,
)
from narvaro.archive.chain import GENESIS, chain_digest, event_entry, version_entry
from narvaro.archive.models import ChainHead, Item
from narvaro.archive.services import BatchResult, capture_batch
from narvaro.channels.models import Account
from narvaro.channels.services import account_create
from narvaro.core.audit_summaries import PACKAGE_RESTORED, audit_summary
from narvaro.core.models import AuditEvent
from narvaro.core.services import audit_record
from narvaro.organisation.models import Unit
from narvaro.organisation.services import unit_create
from narvaro.packages.models import RestoredChainEntry
from narvaro.packages.records import RECORD_FILES, SCHEMA_DIR

RUN_SIZE = 500


class PackageError(Exception):
    """A package that cannot be restored: names the file and the line."""

    def __init__(self, file: str, position: str, message: str) -> None:
        self.file, self.position, self.message = file, position, message
        super().__init__(f"{file}: {position}: {message}")


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


@dataclass
class RestoreResult:
    accounts_created: list[str] = field(default_factory=list)
    entries: int = 0
    batch: BatchResult = field(default_factory=BatchResult)


class PackageRestorer:
    """Reads one exported bag (a folder, or a zip of one) and restores it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._temp: str | None = None
        self.root = path
        self.accounts: list[dict[str, Any]] = []
        self.items: dict[int, dict[str, Any]] = {}
        # media.jsonl lines of the files the package lists without copying them, by digest.
        self.withheld: dict[str, dict[str, Any]] = {}
        self.entries = 0

    def close(self) -> None:
        if self._temp:
            shutil.rmtree(self._temp, ignore_errors=True)

    # -- pass 1 -----------------------------------------------------------------------

    def _open(self) -> None:
        if self.path.is_file() and zipfile.is_zipfile(self.path):
            self._temp = tempfile.mkdtemp(prefix="narvaro-restore-")
            with zipfile.ZipFile(self.path) as archive:
                archive.extractall(self._temp)
            folders = [p for p in Path(self._temp).iterdir() if p.is_dir()]
            if len(folders) != 1:
                raise PackageError(str(self.path), "zip", "holds more than one top folder")
            self.root = folders[0]
        if not (self.root / "bagit.txt").is_file():
            raise PackageError(str(self.path), "bagit.txt", "not a BagIt bag")

    def _records(self, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
        path = self.root / "data" / "records" / name
        schema = json.loads((SCHEMA_DIR / RECORD_FILES[name]).read_text())
        validator = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.FormatChecker()
        )
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                where = f"line {number}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise PackageError(f"records/{name}", where, f"not JSON: {exc}") from exc
                error = jsonschema.exceptions.best_match(validator.iter_errors(record))
                if error is not None:
                    field_name = ".".join(str(p) for p in error.absolute_path) or "record"
                    raise PackageError(f"records/{name}", where, f"{field_name}: {error.message}")
                yield number, record

    def _chain(self) -> Iterator[tuple[str, int, dict[str, Any]]]:
        """(file, line, record) of every version and event, by account then chain order."""
        order = {account["key"]: index for index, account in enumerate(self.accounts)}

        def tagged(name: str) -> Iterator[tuple[int, int, str, int, dict[str, Any]]]:
            for number, record in self._records(name):
                if record["account"] not in order:
                    raise PackageError(f"records/{name}", f"line {number}", "unknown account")
                yield order[record["account"]], record["seq"], name, number, record

        merged = heapq.merge(
            tagged("versions.jsonl"), tagged("events.jsonl"), key=lambda t: (t[0], t[1])
        )
        for _, _, name, number, record in merged:
            yield name, number, record

    def validate(self) -> int:
        """Check everything; return the number of chain entries. Writes nothing."""
        self._open()
        try:
            bagit.Bag(str(self.root)).validate(processes=1)
        except bagit.BagError as exc:
            raise PackageError(str(self.path), "bag", str(exc)) from exc
        self.accounts = [record for _, record in self._records("accounts.jsonl")]
        for number, record in self._records("media.jsonl"):
            if record["file"] is None:
                if not record.get("withheld"):
                    raise PackageError(
                        "records/media.jsonl", f"line {number}", "file: null but not withheld"
                    )
                self.withheld[record["sha256"]] = record
        for number, record in self._records("items.jsonl"):
            self.items[record["id"]] = record
            where = f"line {number}"
            if Item.objects.filter(
                platform=record["platform"], remote_id=record["remote_id"]
            ).exists():
                raise PackageError(
                    "records/items.jsonl",
                    where,
                    f"{record['platform']}:{record['remote_id']} is already in this archive; "
                    "a package is restored only into an empty archive",
                )
        for account in self.accounts:
            existing = Account.objects.filter(
                platform=account["platform"], handle=account["handle"]
            ).first()
            if existing is not None and ChainHead.objects.filter(account=existing).exists():
                raise PackageError(
                    "records/accounts.jsonl",
                    account["key"],
                    "this account already has archived records here",
                )
        previous: dict[str, str] = {}
        last_seq: dict[str, int] = {}
        self.entries = 0
        for name, number, record in self._chain():
            self._check_entry(name, number, record, previous, last_seq)
            self.entries += 1
        for account in self.accounts:
            key = account["key"]
            head = account["chain"]
            if last_seq.get(key, 0) == head["seq"] and previous.get(key, GENESIS) != head["digest"]:
                raise PackageError(
                    "records/accounts.jsonl", key, "the chain does not end at the head named"
                )
        return self.entries

    def _check_entry(
        self,
        name: str,
        number: int,
        record: dict[str, Any],
        previous: dict[str, str],
        last_seq: dict[str, int],
    ) -> None:
        where, file = f"line {number}", f"records/{name}"
        key = record["account"]
        item_record = self.items.get(record["item_id"])
        if item_record is None:
            raise PackageError(file, where, f"item {record['item_id']} is not in items.jsonl")
        if (
            last_seq.get(key) == record["seq"] - 1
            and previous[key] != record["previous_chain_digest"]
        ):
            raise PackageError(file, where, "previous_chain_digest is not the entry before it")
        item = SimpleNamespace(
            **{
                **item_record,
                "created_at": _time(item_record["created_at"]),
                "first_seen_at": _time(item_record["first_seen_at"]),
            }
        )
        if name == "versions.jsonl":
            if record["disposed"] or record["text"] is None or record["raw_payload"] is None:
                raise PackageError(
                    file,
                    where,
                    "a disposed version (gallring) cannot be restored through the capture "
                    "service, which stores content, not digests alone",
                )
            self._check_version(file, where, record)
            entry = version_entry(
                item, SimpleNamespace(**{**record, "recorded_at": _time(record["recorded_at"])})
            )
        else:
            entry = event_entry(
                item,
                SimpleNamespace(
                    **{
                        **record,
                        "recorded_at": _time(record["recorded_at"]),
                        "occurred_at": _time(record["occurred_at"]),
                    }
                ),
            )
        if (
            chain_digest(record["previous_chain_digest"], record["seq"], entry)
            != record["chain_digest"]
        ):
            raise PackageError(file, where, "chain_digest does not match the entry")
        previous[key], last_seq[key] = record["chain_digest"], record["seq"]

    def _check_version(self, file: str, where: str, record: dict[str, Any]) -> None:
        if sha256_hex(record["raw_payload"].encode()) != record["payload_digest"]:
            raise PackageError(file, where, "raw_payload does not match payload_digest")
        fingerprints = []
        for attachment in record["attachments"]:
            for kind in ("media", "caption"):
                name, sha = attachment[f"{kind}_file"], attachment[f"{kind}_sha256"]
                if name and not (self.root / "data" / name).is_file():
                    raise PackageError(file, where, f"{name} is missing from the package")
                if sha and not name and not (attachment.get("withheld") and sha in self.withheld):
                    raise PackageError(
                        file, where, f"{kind} {sha} is neither in the package nor withheld"
                    )
            fingerprints.append(
                attachment_fingerprint(
                    position=attachment["position"],
                    media_sha256=attachment["media_sha256"],
                    caption_sha256=attachment["caption_sha256"],
                    alt_text=attachment["alt_text"],
                    original_name=attachment["original_name"],
                    missing=attachment["missing"],
                )
            )
        text, html = record["text"], record["html"] or ""
        if content_digest(text, html, fingerprints) != record["content_digest"]:
            raise PackageError(file, where, "text, html or attachments do not match the digest")

    # -- pass 2 -----------------------------------------------------------------------

    def _account(self, record: dict[str, Any], result: RestoreResult) -> Account:
        existing = Account.objects.filter(
            platform=record["platform"], handle=record["handle"]
        ).first()
        if existing is not None:
            return existing
        unit = Unit.objects.filter(slug=record["unit"]["slug"]).first()
        if unit is None:
            unit = unit_create(
                actor=None, slug=record["unit"]["slug"], name=record["unit"]["name"], parent=None
            )
        account = account_create(
            actor=None,
            unit=unit,
            platform=record["platform"],
            handle=record["handle"],
            display_name=record["display_name"],
            profile_url=record["profile_url"],
            kind=record["kind"],
            retention_decision_ref=record["retention_decision_ref"],
            dpia_ref=record["dpia_ref"],
            opened_on=dt.date.fromisoformat(record["opened_on"]) if record["opened_on"] else None,
        )
        result.accounts_created.append(record["key"])
        return account

    def _capture(self, record: dict[str, Any]) -> CaptureInput:
        item = self.items[record["item_id"]]
        media = []
        for attachment in record["attachments"]:
            media_file, caption_file = attachment["media_file"], attachment["caption_file"]
            # A withheld file comes back as its digest and size only (see the module docstring).
            withheld = (
                self.withheld.get(attachment["media_sha256"] or "") if not media_file else None
            )
            caption_withheld = (
                self.withheld.get(attachment["caption_sha256"] or "") if not caption_file else None
            )
            media.append(
                MediaInput(
                    original_name=attachment["original_name"],
                    path=self.root / "data" / media_file if media_file else None,
                    content_type=attachment["content_type"],
                    alt_text=attachment["alt_text"],
                    caption=(self.root / "data" / caption_file).read_bytes()
                    if caption_file
                    else None,
                    sha256=withheld["sha256"] if withheld else "",
                    size=withheld["size"] if withheld else 0,
                    caption_sha256=caption_withheld["sha256"] if caption_withheld else "",
                    caption_size=caption_withheld["size"] if caption_withheld else 0,
                )
            )
        return CaptureInput(
            platform=item["platform"],
            remote_id=item["remote_id"],
            kind=item["kind"],
            direction=item["direction"],
            text=record["text"],
            raw_payload=record["raw_payload"],
            html=record["html"] or "",
            author_handle=item["author_handle"],
            author_name=item["author_name"],
            author_platform_id=item["author_platform_id"],
            parent_remote_id=item["parent_remote_id"],
            thread_remote_id=item["thread_remote_id"],
            permalink=item["permalink"],
            visibility=item["visibility"],
            created_at=_time(item["created_at"]),
            media=tuple(media),
        )

    def _event(self, record: dict[str, Any]) -> EventInput:
        item = self.items[record["item_id"]]
        return EventInput(
            platform=item["platform"],
            remote_id=item["remote_id"],
            type=record["type"],
            occurred_at=_time(record["occurred_at"]),
            details=record["details"],
        )

    def _runs(self) -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
        """Consecutive entries of one account, kind and source, at most RUN_SIZE long."""
        run: list[tuple[str, dict[str, Any]]] = []
        for name, _, record in self._chain():
            if run:
                first_name, first = run[0]
                if (
                    first_name != name
                    or first["source"] != record["source"]
                    or first["account"] != record["account"]
                    or len(run) >= RUN_SIZE
                ):
                    yield first["account"], run
                    run = []
            run.append((name, record))
        if run:
            yield run[0][1]["account"], run

    def restore(self, progress: Callable[[int], None] | None = None) -> RestoreResult:
        """Replay the validated package through the capture service."""
        result = RestoreResult()
        accounts = {record["key"]: self._account(record, result) for record in self.accounts}
        package = self.path.name[:200]
        seen_items: set[int] = set()
        for key, run in self._runs():
            account = accounts[key]
            with transaction.atomic():
                head = ChainHead.objects.filter(account=account).first()
                start = head.seq if head else 0
                versions = [r for name, r in run if name == "versions.jsonl"]
                events = [r for name, r in run if name == "events.jsonl"]
                added = capture_batch(
                    account=account,
                    captures=[self._capture(r) for r in versions],
                    events=[self._event(r) for r in events],
                    source=run[0][1]["source"],
                )
                if added.versions + added.events != len(run):
                    raise PackageError(
                        "records", key, "the capture service did not store every entry"
                    )
                rows = []
                for offset, (name, record) in enumerate(run, start=1):
                    first_seen = None
                    if name == "versions.jsonl" and record["item_id"] not in seen_items:
                        seen_items.add(record["item_id"])
                        first_seen = _time(self.items[record["item_id"]]["first_seen_at"])
                    rows.append(
                        RestoredChainEntry(
                            account=account,
                            seq=start + offset,
                            entry_type="version" if name == "versions.jsonl" else "event",
                            original_seq=record["seq"],
                            recorded_at=dt.datetime.fromisoformat(record["recorded_at"]),
                            chain_digest=record["chain_digest"],
                            previous_chain_digest=record["previous_chain_digest"],
                            item_first_seen_at=first_seen,
                            actor_name=record.get("actor_name", ""),
                            original_id=record["id"],
                            original_item_id=record["item_id"],
                            package=package,
                        )
                    )
                RestoredChainEntry.objects.bulk_create(rows)
            result.batch.add(added)
            result.entries += len(run)
            if progress:
                progress(len(run))
        for key, account in accounts.items():
            audit_record(
                actor=None,
                action=AuditEvent.Action.IMPORT,
                target=account,
                unit_id=account.unit_id,
                summary=audit_summary(PACKAGE_RESTORED, path=package),
                changes={"account": key, "entries": result.entries},
            )
        return result
