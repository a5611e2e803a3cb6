"""Facebook and Instagram "download your information" exports, JSON flavour (.zip or folder).

The layout has moved over the years (`posts/your_posts_1.json`, later
`your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_1.json`), so files
are found by name anywhere in the export rather than by full path.

Two quirks of these exports shape the code:

- Text is UTF-8 whose bytes were written as Latin-1 escapes ("mojibake": `\\u00c3\\u00b6`
  for "ö"). Every text field is repaired; the raw payload keeps what the file said.
- Records carry no ids. An item's remote id is a SHA-256 over what identifies it (which
  file kind, the timestamp, the author, the text), so importing the same export again
  finds the same items and adds nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import ftfy
import ijson

from narvaro.archive.capture import CaptureInput, MediaInput, canonical_json, sha256_hex
from narvaro.channels.importers.base import (
    ImportBatch,
    Importer,
    ImportFormatError,
    capture_batches,
)


def repair_text(value: Any) -> str:
    """Undo Meta's mojibake: the exact Latin-1 → UTF-8 round trip, else ftfy's repair.

    Text that is not mojibake (plain ASCII, or already correct) comes back unchanged:
    the round trip fails on it and ftfy's `fix_encoding` leaves well-formed text alone.
    """
    if not isinstance(value, str):
        return ""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return ftfy.fix_encoding(value)


def derived_remote_id(*, kind: str, timestamp: int | float, author: str, text: str) -> str:
    """The stable id of a record that has none: SHA-256 of (file kind, time, author, text)."""
    return sha256_hex(
        canonical_json({"kind": kind, "timestamp": timestamp, "author": author, "text": text})
    )


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def unpack_zip(path: Path) -> Path:
    """Unpack a .zip export into a new temporary folder; ImportFormatError if corrupt."""
    folder = Path(tempfile.mkdtemp(prefix="narvaro-import-"))
    try:
        with zipfile.ZipFile(path) as archive:
            # ZipFile.extractall drops absolute paths and ".." parts of member names.
            archive.extractall(folder)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ImportFormatError(
            path, "archive", f"not a readable .zip export ({_first_line(exc)})"
        ) from exc
    return folder


class _Bad(Exception):
    """A record lacks what it needs; turned into ImportFormatError with file and position."""


@dataclass(frozen=True)
class Source:
    """One kind of file in the export: how to find it and how to read its records."""

    kind: str
    name: re.Pattern[str]
    prefixes: frozenset[str]
    convert: Callable[[Any, dict[str, Any]], CaptureInput | None]


class MetaExportImporter(Importer):
    """What the Facebook and Instagram importers share: unpacking, finding, streaming."""

    sources: ClassVar[tuple[Source, ...]] = ()

    def __init__(self, path: Path, *, account_handle: str) -> None:
        super().__init__(path, account_handle=account_handle)
        self._tmp: Path | None = None
        self._root: Path | None = None
        self._media_roots: list[Path] = []

    def _export_root(self) -> Path:
        if self._root is None:
            base = self.path
            if self.path.is_file():
                self._tmp = unpack_zip(self.path)
                base = self._tmp
            self._root = base
            # Media uris are relative to the export's top; a zip made by hand often wraps
            # the export in one more folder, so that folder is tried as the top as well.
            self._media_roots = [base.resolve()]
            entries = list(base.iterdir())
            if len(entries) == 1 and entries[0].is_dir():
                self._media_roots.append(entries[0].resolve())
        return self._root

    def _files(self) -> list[tuple[Source, Path]]:
        root = self._export_root()
        found = [
            (source, file)
            for file in sorted(root.rglob("*.json"))
            for source in self.sources
            if source.name.fullmatch(file.name)
        ]
        if not found:
            raise ImportFormatError(
                self.path, "archive", f"no {self.platform} posts or comments found in this export"
            )
        return found

    def _records(self, source: Source, file: Path) -> Iterator[tuple[str, int, Any]]:
        """(file name, record number, record) for each record of one file, streamed."""
        name = file.relative_to(self._export_root()).as_posix()
        number = 0
        with file.open("rb") as handle:
            builder: Any = None
            depth = 0
            try:
                for prefix, event, value in ijson.parse(handle, use_float=True):
                    if builder is None:
                        if prefix in source.prefixes and event not in {"end_array", "start_array"}:
                            number += 1
                            if event != "start_map":
                                raise ImportFormatError(
                                    name, f"record {number}", "a record that is not an object"
                                )
                            builder = ijson.ObjectBuilder()
                            builder.event(event, value)
                            depth = 1
                        continue
                    builder.event(event, value)
                    if event in {"start_map", "start_array"}:
                        depth += 1
                    elif event in {"end_map", "end_array"}:
                        depth -= 1
                    if depth == 0:
                        yield name, number, builder.value
                        builder = None
            except ijson.JSONError as exc:
                raise ImportFormatError(
                    name,
                    f"record {number + (builder is None)}, by byte {handle.tell()}",
                    f"invalid or cut-off JSON ({_first_line(exc)})",
                ) from exc

    def _captures(self) -> Iterator[CaptureInput]:
        for source, file in self._files():
            for name, number, record in self._records(source, file):
                try:
                    capture = source.convert(self, record)
                except _Bad as exc:
                    raise ImportFormatError(name, f"record {number}", str(exc)) from exc
                if capture is not None:
                    yield capture

    # -- helpers for the converters ------------------------------------------------------

    @staticmethod
    def _timestamp(value: Any, what: str) -> tuple[int | float, dt.datetime]:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Bad(f"missing or invalid {what}")
        try:
            return value, dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise _Bad(f"{what} {value!r} is not a time") from exc

    def _media(self, uri: Any, alt: Any = "") -> MediaInput:
        if not isinstance(uri, str) or not uri:
            raise _Bad("a media entry without a uri")
        self._export_root()
        found = None
        for root in self._media_roots if "://" not in uri else []:
            candidate = (root / uri).resolve()
            if candidate.is_relative_to(root) and candidate.is_file():
                found = candidate
                break
        return MediaInput(original_name=uri, path=found, alt_text=repair_text(alt))

    def _capture(
        self,
        *,
        kind: str,
        file_kind: str,
        record: dict[str, Any],
        timestamp: int | float,
        created_at: dt.datetime,
        text: str,
        author: str = "",
        media: tuple[MediaInput, ...] = (),
    ) -> CaptureInput:
        return CaptureInput(
            platform=self.platform,
            remote_id=derived_remote_id(
                kind=file_kind,
                timestamp=timestamp,
                author=author or self.account_handle,
                text=text,
            ),
            kind=kind,
            direction="drawn_up",
            text=text,
            raw_payload=json.dumps(record, ensure_ascii=False),
            author_handle=self.account_handle,
            author_name=author,
            created_at=created_at,
            media=media,
        )

    # -- the contract --------------------------------------------------------------------

    def validate(self) -> int:
        return sum(1 for _ in self._captures())

    def batches(self, size: int) -> Iterator[ImportBatch]:
        return capture_batches(self._captures(), size)

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
            self._root = None


def _dicts(value: Any, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _Bad(f"{what!r} is not a list of objects")
    return value


def _object(record: Any) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise _Bad("a record that is not an object")
    return record


def _facebook_post(importer: Any, record: Any) -> CaptureInput:
    record = _object(record)
    timestamp, created_at = importer._timestamp(record.get("timestamp"), "'timestamp'")
    text = "\n\n".join(
        repair_text(part["post"]) for part in _dicts(record.get("data"), "data") if "post" in part
    )
    media = tuple(
        importer._media(entry["media"].get("uri"), entry["media"].get("description"))
        for attachment in _dicts(record.get("attachments"), "attachments")
        for entry in _dicts(attachment.get("data"), "attachments.data")
        if isinstance(entry.get("media"), dict)
    )
    return importer._capture(  # type: ignore[no-any-return]
        kind="post",
        file_kind="facebook-post",
        record=record,
        timestamp=timestamp,
        created_at=created_at,
        text=text,
        media=media,
    )


def _facebook_comment(importer: Any, record: Any) -> CaptureInput:
    record = _object(record)
    timestamp, created_at = importer._timestamp(record.get("timestamp"), "'timestamp'")
    comment: dict[str, Any] = {}
    for part in _dicts(record.get("data"), "data"):
        if isinstance(part.get("comment"), dict):
            comment = part["comment"]
    media = tuple(
        importer._media(entry["media"].get("uri"), entry["media"].get("description"))
        for attachment in _dicts(record.get("attachments"), "attachments")
        for entry in _dicts(attachment.get("data"), "attachments.data")
        if isinstance(entry.get("media"), dict)
    )
    return importer._capture(  # type: ignore[no-any-return]
        kind="comment",
        file_kind="facebook-comment",
        record=record,
        timestamp=timestamp,
        created_at=created_at,
        text=repair_text(comment.get("comment")),
        author=repair_text(comment.get("author")),
        media=media,
    )


def _instagram_post(importer: Any, record: Any) -> CaptureInput:
    record = _object(record)
    media_entries = _dicts(record.get("media"), "media")
    if not media_entries:
        raise _Bad("a post without media")
    when = record.get("creation_timestamp", media_entries[0].get("creation_timestamp"))
    timestamp, created_at = importer._timestamp(when, "'creation_timestamp'")
    # A single-photo post keeps its caption on the photo, an album on the post.
    caption = record.get("title") or (
        media_entries[0].get("title") if len(media_entries) == 1 else ""
    )
    return importer._capture(  # type: ignore[no-any-return]
        kind="post",
        file_kind="instagram-post",
        record=record,
        timestamp=timestamp,
        created_at=created_at,
        text=repair_text(caption),
        media=tuple(importer._media(entry.get("uri")) for entry in media_entries),
    )


def _instagram_comment(importer: Any, record: Any) -> CaptureInput:
    record = _object(record)
    data = record.get("string_map_data")
    if not isinstance(data, dict):
        raise _Bad("missing 'string_map_data'")
    time = data.get("Time")
    timestamp, created_at = importer._timestamp(
        time.get("timestamp") if isinstance(time, dict) else None, "'Time'"
    )
    comment = data.get("Comment")
    if not isinstance(comment, dict) or not isinstance(comment.get("value"), str):
        raise _Bad("missing 'Comment'")
    return importer._capture(  # type: ignore[no-any-return]
        kind="comment",
        file_kind="instagram-comment",
        record=record,
        timestamp=timestamp,
        created_at=created_at,
        text=repair_text(comment["value"]),
    )


class FacebookPageImporter(MetaExportImporter):
    """A Facebook export's posts (with photos and videos) and the comments it wrote."""

    platform = "facebook"
    format_name = "facebook"
    sources = (
        Source(
            "post",
            re.compile(r"your_posts(__check_ins__photos_and_videos)?_\d+\.json"),
            frozenset({"item", "status_updates.item"}),
            _facebook_post,
        ),
        Source(
            "comment",
            re.compile(r"comments\.json"),
            frozenset({"comments_v2.item", "comments.item"}),
            _facebook_comment,
        ),
    )


class InstagramImporter(MetaExportImporter):
    """An Instagram export's posts (with their media) and the comments it wrote."""

    platform = "instagram"
    format_name = "instagram"
    sources = (
        Source("post", re.compile(r"posts_\d+\.json"), frozenset({"item"}), _instagram_post),
        Source(
            "comment",
            re.compile(r"post_comments_\d+\.json"),
            frozenset({"item", "comments_media_comments.item"}),
            _instagram_comment,
        ),
    )
