"""The contract between an export importer and the `narvaro import` command.

An importer reads one export (a file or a folder) in two streaming passes:

1. `validate()` reads everything and raises `ImportFormatError` at the first malformed
   record, naming the file and the position. Nothing has been written yet, so a corrupt
   export leaves the database exactly as it was.
2. `batches(size)` yields the captures and events in batches; the command stores each
   batch in one transaction. Killed half-way, a re-run skips what is already stored
   (the archive is idempotent) and completes the rest.

Both passes must run in constant memory: read records one at a time (e.g. with ijson),
never the whole file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from narvaro.archive.capture import CaptureInput, EventInput


class ImportFormatError(Exception):
    """A malformed export: names the file and the position (record number, line or byte)."""

    def __init__(self, file: str | Path, position: str, message: str) -> None:
        self.file = str(file)
        self.position = position
        self.message = message
        super().__init__(f"{self.file}: {position}: {message}")


@dataclass
class ImportBatch:
    captures: list[CaptureInput] = field(default_factory=list)
    events: list[EventInput] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.captures) + len(self.events)


class Importer:
    """Base class of the export importers.

    `platform` is the platform whose accounts the export belongs to; `account_handle` is
    the handle of the account being imported (used to tell drawn-up from received items).
    """

    platform: ClassVar[str]
    format_name: ClassVar[str]

    def __init__(self, path: Path, *, account_handle: str) -> None:
        self.path = path
        self.account_handle = account_handle
        self.warnings: list[str] = []

    def validate(self) -> int:
        """Read the whole export; raise ImportFormatError if malformed; return the record count."""
        raise NotImplementedError

    def batches(self, size: int) -> Iterator[ImportBatch]:
        """Yield the export's captures and events, `size` at a time."""
        raise NotImplementedError

    def close(self) -> None:
        """Release temporary files (e.g. an unpacked archive)."""


def capture_batches(captures: Iterable[CaptureInput], size: int) -> Iterator[ImportBatch]:
    """Group a stream of captures into batches of `size` (the last one may be smaller)."""
    batch = ImportBatch()
    for capture in captures:
        batch.captures.append(capture)
        if len(batch) >= size:
            yield batch
            batch = ImportBatch()
    if batch:
        yield batch
