"""The Mastodon account export: `outbox.json`, `actor.json` and `media_attachments/`.

The export comes as a .tar.gz (unpacked into a temporary folder that `close()` removes)
or as the folder it unpacks to. `outbox.json` is an ActivityPub OrderedCollection of what
the account sent: `Create` activities carrying `Note`s and `Announce` activities (boosts);
an `Update` of a status is an edit, stored as the item's next version.

Real exports can carry the `orderedItems` key twice, first empty and then full. A JSON
parser that builds a dict keeps only one of them, so the outbox is read as ijson's event
stream and items are taken from every occurrence of the key.

A `Delete` activity (its object a `Tombstone` of one of the account's statuses) is a
deletion event on that status's item. Deletions are held back until every status of the
outbox has been stored, so the order of the outbox does not matter; one about a status
the archive does not hold is reported, not fatal (see `narvaro import`). Other activities
(`Like`, `Follow`, `Update` of the profile ...) are not archived items: they are skipped
and counted in the report.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tarfile
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ijson
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from narvaro.archive.capture import CaptureInput, EventInput, MediaInput
from narvaro.channels.importers.base import (
    ImportBatch,
    Importer,
    ImportFormatError,
    capture_batches,
)

PUBLIC = {"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"}
ITEM_PREFIX = "orderedItems.item"
# Object types Mastodon writes for the account's own statuses (Question is a poll).
STATUS_TYPES = {"Note", "Question", "Article", "Page"}
# Item columns the archive limits; a longer value would fail inside the store transaction.
MAX_REMOTE_ID = 200

_is_url = URLValidator(schemes=["http", "https"])


class _PlainText(HTMLParser):
    """Mastodon's status HTML as plain text: paragraphs and line breaks kept, tags dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"p", "blockquote", "li", "pre"}:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _PlainText()
    parser.feed(html)
    parser.close()
    lines = "".join(parser.parts).strip().split("\n")
    text = "\n".join(line.rstrip() for line in lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


def visibility_of(activity: dict[str, Any], followers: str = "") -> str:
    """Mastodon's four visibilities, read back from the addressing (to / cc)."""
    to = _as_list(activity.get("to"))
    cc = _as_list(activity.get("cc"))
    if PUBLIC & set(to):
        return "public"
    if PUBLIC & set(cc):
        return "unlisted"
    if any(isinstance(a, str) and (a == followers or a.endswith("/followers")) for a in to + cc):
        return "followers"
    return "direct"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _first_line(exc: Exception) -> str:
    """yajl's messages run over several lines and quote the input; the first says what."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def unpack_tar(path: Path) -> Path:
    """Unpack a .tar.gz export into a new temporary folder; ImportFormatError if corrupt."""
    folder = Path(tempfile.mkdtemp(prefix="narvaro-import-"))
    try:
        with tarfile.open(path, "r:*") as archive:
            # The "data" filter refuses absolute paths, links out of the folder and devices.
            archive.extractall(folder, filter="data")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ImportFormatError(
            path, "archive", f"not a readable .tar.gz export ({_first_line(exc)})"
        ) from exc
    return folder


class MastodonExportImporter(Importer):
    """Imports what a Mastodon account sent (its outbox) with the media it attached."""

    platform = "mastodon"
    format_name = "mastodon"

    def __init__(self, path: Path, *, account_handle: str) -> None:
        super().__init__(path, account_handle=account_handle)
        self._tmp: Path | None = None
        self._root: Path | None = None
        self._actor: dict[str, Any] = {}
        # Skipped records are reported once, from the storing pass, not from validate().
        self._report_skips = False
        self._skipped: Counter[str] = Counter()

    # -- the export on disk -------------------------------------------------------------

    def _export_root(self) -> Path:
        if self._root is None:
            base = self.path
            if self.path.is_file():
                self._tmp = unpack_tar(self.path)
                base = self._tmp
            self._root = self._find_root(base)
            self._actor = self._read_actor(self._root)
        return self._root

    def _find_root(self, base: Path) -> Path:
        """The folder holding outbox.json: the export itself or its only subfolder."""
        if (base / "outbox.json").is_file():
            return base
        for child in sorted(base.iterdir()):
            if child.is_dir() and (child / "outbox.json").is_file():
                return child
        raise ImportFormatError(self.path, "archive", "no outbox.json in this export")

    def _read_actor(self, root: Path) -> dict[str, Any]:
        actor_file = root / "actor.json"
        if not actor_file.is_file():
            self.warnings.append("actor.json is missing: author taken from each status")
            return {}
        try:
            with actor_file.open("rb") as handle:
                actor = json.load(handle)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ImportFormatError(actor_file.name, "actor", f"invalid JSON ({exc})") from exc
        if not isinstance(actor, dict):
            raise ImportFormatError(actor_file.name, "actor", "not a JSON object")
        return actor

    def _activities(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(number, activity) for every item of every `orderedItems` key, streamed."""
        outbox = self._export_root() / "outbox.json"
        number = 0
        with outbox.open("rb") as handle:
            builder: Any = None
            try:
                for prefix, event, value in ijson.parse(handle, use_float=True):
                    if builder is None:
                        if prefix == ITEM_PREFIX:
                            number += 1
                            if event != "start_map":
                                raise ImportFormatError(
                                    "outbox.json",
                                    f"item {number}",
                                    "an orderedItems entry that is not an activity object",
                                )
                            builder = ijson.ObjectBuilder()
                            builder.event(event, value)
                        continue
                    builder.event(event, value)
                    if prefix == ITEM_PREFIX and event == "end_map":
                        yield number, builder.value
                        builder = None
            except ijson.JSONError as exc:
                raise ImportFormatError(
                    "outbox.json",
                    f"item {number + (builder is None)}, by byte {handle.tell()}",
                    f"invalid or cut-off JSON ({_first_line(exc)})",
                ) from exc
            except UnicodeDecodeError as exc:
                raise ImportFormatError(
                    "outbox.json", f"item {number}", f"not UTF-8 ({exc})"
                ) from exc

    # -- one activity -------------------------------------------------------------------

    def _capture(self, number: int, activity: dict[str, Any]) -> CaptureInput | None:
        """The capture of one activity; ImportFormatError if it lacks what it needs."""
        where = f"item {number}"

        def fail(message: str) -> ImportFormatError:
            ident = activity.get("id")
            suffix = f" ({ident})" if isinstance(ident, str) else ""
            return ImportFormatError("outbox.json", where + suffix, message)

        kind_of = activity.get("type")
        if not isinstance(kind_of, str):
            raise fail("activity without a type")
        # An Update of a status is its edit: the same item, a new version if it changed.
        if kind_of in ("Create", "Update"):
            note = activity.get("object")
            if not isinstance(note, dict):
                if kind_of == "Update":
                    self._skipped["Update activity"] += 1
                    return None
                raise fail("Create without an embedded object")
            if note.get("type") not in STATUS_TYPES:
                self._skipped[f"{kind_of} of a {note.get('type')} object"] += 1
                return None
            remote_id = self._required_str(note, "id", fail)
            html = note.get("content")
            if html is None and isinstance(note.get("contentMap"), dict):
                html = next(iter(note["contentMap"].values()), "")
            if not isinstance(html, str):
                html = ""
            text = html_to_text(html)
            summary = note.get("summary")
            if isinstance(summary, str) and summary:
                text = f"{summary}\n\n{text}" if text else summary
            parent = note.get("inReplyTo")
            parent = parent if isinstance(parent, str) else ""
            return self._make(
                activity=activity,
                addressed=note,
                remote_id=remote_id,
                kind="reply" if parent else "post",
                text=text,
                html=html,
                parent=parent,
                thread=note.get("conversation"),
                permalink=note.get("url"),
                published=self._required_str(note, "published", fail),
                author_id=note.get("attributedTo") or activity.get("actor"),
                media=self._media(note, fail),
                fail=fail,
            )
        if kind_of == "Announce":
            boosted = activity.get("object")
            if isinstance(boosted, dict):
                boosted = boosted.get("id")
            if not isinstance(boosted, str) or not boosted:
                raise fail("Announce without the address of what was boosted")
            return self._make(
                activity=activity,
                addressed=activity,
                remote_id=self._required_str(activity, "id", fail),
                kind="share",
                text=boosted,
                html="",
                parent=boosted,
                thread=None,
                permalink=boosted,
                published=self._required_str(activity, "published", fail),
                author_id=activity.get("actor"),
                media=(),
                fail=fail,
            )
        self._skipped[f"{kind_of} activity"] += 1
        return None

    def _deletion(self, number: int, activity: dict[str, Any]) -> EventInput | None:
        """The deletion event of a `Delete` activity; None for any other activity."""
        if activity.get("type") != "Delete":
            return None
        where = f"item {number}"
        ident = activity.get("id")
        if isinstance(ident, str):
            where += f" ({ident})"
        target = activity.get("object")
        if isinstance(target, dict):
            target = target.get("id")
        if not isinstance(target, str) or not target:
            raise ImportFormatError(
                "outbox.json", where, "Delete without the id of what it deletes"
            )
        if len(target) > MAX_REMOTE_ID:
            raise ImportFormatError(
                "outbox.json", where, f"id longer than {MAX_REMOTE_ID} characters"
            )
        occurred_at = None
        published = activity.get("published")
        if published is not None:
            try:
                occurred_at = dt.datetime.fromisoformat(published)
            except (TypeError, ValueError) as exc:
                raise ImportFormatError(
                    "outbox.json", where, f"'published' is not a date: {published!r}"
                ) from exc
            if occurred_at.tzinfo is None:
                occurred_at = occurred_at.replace(tzinfo=dt.UTC)
        return EventInput(
            platform=self.platform,
            remote_id=target,
            type="deleted",
            occurred_at=occurred_at,
            details={"activity": ident} if isinstance(ident, str) else {},
        )

    def _skip(self, message: str) -> None:
        if self._report_skips:
            self.warnings.append(message)

    @staticmethod
    def _required_str(record: dict[str, Any], key: str, fail: Any) -> str:
        value = record.get(key)
        if not isinstance(value, str) or not value:
            raise fail(f"missing {key!r}")
        return value

    def _make(
        self,
        *,
        activity: dict[str, Any],
        addressed: dict[str, Any],
        remote_id: str,
        kind: str,
        text: str,
        html: str,
        parent: str,
        thread: Any,
        permalink: Any,
        published: str,
        author_id: Any,
        media: tuple[MediaInput, ...],
        fail: Any,
    ) -> CaptureInput:
        if len(remote_id) > MAX_REMOTE_ID:
            raise fail(f"id longer than {MAX_REMOTE_ID} characters")
        try:
            created_at = dt.datetime.fromisoformat(published)
        except ValueError as exc:
            raise fail(f"'published' is not a date: {published!r}") from exc
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=dt.UTC)
        link = permalink if isinstance(permalink, str) else ""
        try:
            if link:
                _is_url(link)
        except ValidationError:
            self._skip(f"outbox.json: {remote_id}: ignored the address {link!r}")
            link = ""
        actor_id = self._actor.get("id") or (author_id if isinstance(author_id, str) else "")
        return CaptureInput(
            platform=self.platform,
            remote_id=remote_id,
            kind=kind,
            direction="drawn_up",
            text=text,
            html=html,
            raw_payload=json.dumps(activity, ensure_ascii=False),
            author_handle=self._author_handle(actor_id),
            author_name=str(self._actor.get("name") or ""),
            author_platform_id=str(actor_id)[:200],
            parent_remote_id=parent[:MAX_REMOTE_ID],
            thread_remote_id=(thread if isinstance(thread, str) else "")[:MAX_REMOTE_ID],
            permalink=link,
            visibility=visibility_of(addressed, str(self._actor.get("followers") or "")),
            created_at=created_at,
            media=media,
        )

    def _author_handle(self, actor_id: str) -> str:
        username = self._actor.get("preferredUsername")
        host = urlsplit(actor_id).hostname if actor_id else None
        if isinstance(username, str) and username and host:
            return f"@{username}@{host}"
        return self.account_handle

    def _media(self, note: dict[str, Any], fail: Any) -> tuple[MediaInput, ...]:
        attachments = note.get("attachment") or []
        if not isinstance(attachments, list):
            raise fail("'attachment' is not a list")
        media = []
        for attachment in attachments:
            if not isinstance(attachment, dict) or not isinstance(attachment.get("url"), str):
                raise fail("an attachment without a url")
            url: str = attachment["url"]
            alt = attachment.get("name")
            file = self._media_file(url)
            media.append(
                MediaInput(
                    original_name=url,
                    path=file,
                    content_type=str(attachment.get("mediaType") or ""),
                    alt_text=alt if isinstance(alt, str) else "",
                )
            )
        return tuple(media)

    def _media_file(self, url: str) -> Path | None:
        """The attachment's file in the export, or None when the export lacks it.

        Exports write `url` as a path such as `/media_attachments/files/…` (sometimes with
        an instance prefix before `media_attachments/`, sometimes as a full address).
        """
        path = urlsplit(url).path
        marker = path.find("media_attachments/")
        if marker < 0:
            return None
        root = self._export_root()
        candidate = (root / path[marker:]).resolve()
        if not candidate.is_relative_to(root.resolve()) or not candidate.is_file():
            return None
        return candidate

    # -- the contract -------------------------------------------------------------------

    def validate(self) -> int:
        count = 0
        for number, activity in self._activities():
            if self._deletion(number, activity) is not None or self._capture(number, activity):
                count += 1
        self._skipped.clear()
        return count

    def batches(self, size: int) -> Iterator[ImportBatch]:
        self._report_skips = True
        self._skipped.clear()
        deletions: list[EventInput] = []

        def captures() -> Iterator[CaptureInput]:
            for number, activity in self._activities():
                deletion = self._deletion(number, activity)
                if deletion is not None:
                    deletions.append(deletion)
                    continue
                capture = self._capture(number, activity)
                if capture is not None:
                    yield capture

        yield from capture_batches(captures(), size)
        for start in range(0, len(deletions), size):
            yield ImportBatch(events=deletions[start : start + size])
        for what, count in sorted(self._skipped.items()):
            self.warnings.append(f"skipped {count} {what}(s): not archived items")

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
            self._root = None
