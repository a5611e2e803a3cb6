"""Fixity: recompute every digest and the hash chains, and name whatever does not match (R10).

Streams through the archive account by account in chain order, so memory stays flat however
large the archive grows. A disposed version (emptied by gallring) keeps its digests in the
chain and is checked only for that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.storage import default_storage

from narvaro.archive.capture import attachment_fingerprint, content_digest, sha256_hex
from narvaro.archive.chain import GENESIS, chain_digest, event_entry, version_entry
from narvaro.archive.models import ChainHead, ItemEvent, ItemVersion, MediaFile
from narvaro.archive.selectors import chain_entries


@dataclass(frozen=True)
class Problem:
    """One thing that failed verification."""

    kind: str
    account_id: int | None
    item_id: int | None
    reference: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "account": self.account_id,
            "item": self.item_id,
            "reference": self.reference,
            "detail": self.detail,
        }


@dataclass
class FixityReport:
    accounts: int = 0
    versions: int = 0
    events: int = 0
    media_files: int = 0
    # Media files known only by their digest (withheld by the package they came from).
    media_not_held: int = 0
    bytes_hashed: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "accounts": self.accounts,
            "versions": self.versions,
            "events": self.events,
            "media_files": self.media_files,
            "media_not_held": self.media_not_held,
            "bytes_hashed": self.bytes_hashed,
            "problems": [problem.as_dict() for problem in self.problems],
        }


def _disposed_version_ids() -> set[int]:
    return {
        int(version_id)
        for version_id in ItemEvent.objects.filter(type=ItemEvent.Type.DISPOSED).values_list(
            "details__version_id", flat=True
        )
        if version_id is not None
    }


def verify_archive(progress: Callable[[int], None] | None = None) -> FixityReport:
    """Check every chain, every content and payload digest, and every stored media file."""
    report = FixityReport()
    disposed = _disposed_version_ids()
    for head in ChainHead.objects.order_by("account_id"):
        report.accounts += 1
        previous, expected_seq = GENESIS, 1
        for entry in chain_entries(head.account_id):
            item = entry.item
            if entry.seq != expected_seq:
                report.problems.append(
                    Problem(
                        "chain",
                        head.account_id,
                        item.pk,
                        str(item),
                        f"entry {expected_seq} of the chain is missing (next found: {entry.seq})",
                    )
                )
                expected_seq = entry.seq
            if isinstance(entry, ItemVersion):
                report.versions += 1
                _check_version(entry, entry.pk in disposed, report)
                described = version_entry(item, entry)
                label = f"{item} version {entry.number}"
            else:
                report.events += 1
                described = event_entry(item, entry)
                label = f"{item} event {entry.type}"
            recomputed = chain_digest(previous, entry.seq, described)
            if recomputed != entry.chain_digest:
                report.problems.append(
                    Problem(
                        "chain",
                        head.account_id,
                        item.pk,
                        label,
                        "chain digest does not match: the entry or the item was changed",
                    )
                )
            previous = entry.chain_digest
            expected_seq += 1
            if progress:
                progress(1)
        if expected_seq - 1 != head.seq or previous != head.digest:
            report.problems.append(
                Problem(
                    "chain",
                    head.account_id,
                    None,
                    f"account {head.account_id}",
                    f"the chain ends at entry {expected_seq - 1}, but {head.seq} were recorded",
                )
            )
    _check_media(report, progress)
    return report


def _check_version(version: ItemVersion, is_disposed: bool, report: FixityReport) -> None:
    item = version.item
    label = f"{item} version {version.number}"
    if is_disposed:
        return
    if version.raw_payload is None or version.text is None:
        report.problems.append(
            Problem(
                "content",
                version.account_id,
                item.pk,
                label,
                "content is missing, and no disposal (gallring) was recorded for it",
            )
        )
        return
    if sha256_hex(version.raw_payload.encode()) != version.payload_digest:
        report.problems.append(
            Problem("payload", version.account_id, item.pk, label, "raw payload was changed")
        )
    fingerprints = [
        attachment_fingerprint(
            position=row.position,
            media_sha256=row.media.sha256 if row.media else None,
            caption_sha256=row.caption.sha256 if row.caption else None,
            alt_text=row.alt_text,
            original_name=row.original_name,
            missing=row.missing,
        )
        for row in version._attachments  # type: ignore[attr-defined]
    ]
    if content_digest(version.text, version.html or "", fingerprints) != version.content_digest:
        report.problems.append(
            Problem(
                "content",
                version.account_id,
                item.pk,
                label,
                "text, HTML or attachments were changed",
            )
        )


def _check_media(report: FixityReport, progress: Callable[[int], None] | None) -> None:
    for media in MediaFile.objects.order_by("id").iterator(chunk_size=500):
        report.media_files += 1
        if not media.storage_name:
            # Known only by its digest (`services.NOT_HELD`): restored from a package that
            # withheld the file; the digest is checked with the attachment's content digest.
            report.media_not_held += 1
            if progress:
                progress(1)
            continue
        if not default_storage.exists(media.storage_name):
            report.problems.append(
                Problem("media", None, None, media.sha256, "media file is missing from storage")
            )
            continue
        sha = hashlib.sha256()
        with default_storage.open(media.storage_name, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                sha.update(chunk)
                report.bytes_hashed += len(chunk)
        if sha.hexdigest() != media.sha256:
            report.problems.append(
                Problem("media", None, None, media.sha256, "media file bytes were changed")
            )
        if progress:
            progress(1)
