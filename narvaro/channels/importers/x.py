"""The X (Twitter) account archive: the .zip X sends, or the folder it unpacks to.

The archive's data files are JavaScript, not JSON: `window.YTD.tweets.part0 = [ ... ]`.
`read_ytd` strips that prefix and streams the array one record at a time with ijson, so
an archive with hundreds of thousands of tweets is read in constant memory. Three files
become items:

- `data/tweets.js` (and `tweets-partN.js`): the owner's posts, replies and retweets;
- `data/deleted-tweets.js`: the same, with `deleted_at`; each is an item plus a
  "deleted" event at that time;
- `data/direct-messages.js` (and `direct-messages-group.js`): one "dm" item per message,
  drawn up when the owner (the account id in `data/account.js`) sent it.

Media are files in `data/tweets_media/` named `<tweet id>-<file name>`; a medium a tweet
names that is not in the folder is kept as a missing attachment, so the gap is on record.

An edited tweet is a chain of tweets, each with its own id: the first carries
`edit_info.initial.editTweetIds` (every id of the chain, in edit order), the later ones
`edit_info.edit.initialTweetId`. The chain is one item, named by the initial tweet's id,
with one version per tweet in edit order, wherever the tweets sit in the files.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import ijson

from narvaro.archive.capture import CaptureInput, EventInput, MediaInput
from narvaro.channels.importers.base import ImportBatch, Importer, ImportFormatError

PLATFORM = "x"
# `window.YTD.<file>.part<N> = ` — longer than this is not a prefix but something else.
_PREFIX_MAX = 200
_PREFIX_RE = re.compile(rb"^\s*window\.YTD\.[A-Za-z0-9_]+\.part\d+\s*$")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
        start=1,
    )
}
_CREATED_AT_RE = re.compile(
    r"^[A-Z][a-z]{2} ([A-Z][a-z]{2}) (\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-]\d{4}) (\d{4})$"
)
_TWEET_FILES = re.compile(r"^tweets(-part\d+)?\.js$")
_DELETED_FILES = re.compile(r"^deleted-tweets(-part\d+)?\.js$")
_DM_FILES = re.compile(r"^direct-messages(-group)?(-part\d+)?\.js$")
_T = TypeVar("_T")
_MEDIA_FOLDERS = ("tweets_media", "deleted_tweets_media")
# Zip damage shows up as any of these, at opening or only when a member is read to its end.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError)


class _RecordError(Exception):
    """A record that parses as JSON but lacks what the archive format promises."""


# --- Reading the archive: a folder or a zip, behind one small interface ---------------------


class _ArchiveFolder:
    """The unpacked archive: files are read in place."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def names(self) -> list[str]:
        return sorted(
            str(path.relative_to(self.root)) for path in self.root.rglob("*") if path.is_file()
        )

    def open(self, name: str) -> IO[bytes]:
        return (self.root / name).open("rb")

    def display(self, name: str) -> str:
        return str(self.root / name)

    def media_path(self, name: str) -> Path:
        return self.root / name

    def check(self) -> None:
        """Nothing to check: a folder has no checksums."""

    def close(self) -> None:
        pass


class _ArchiveZip:
    """The archive as X sends it. Media are copied out to a temporary folder when stored."""

    def __init__(self, path: Path, prefix: str, archive: zipfile.ZipFile) -> None:
        self.path = path
        self.prefix = prefix
        self.zip = archive
        self._tmp: Path | None = None

    def names(self) -> list[str]:
        return sorted(
            info.filename[len(self.prefix) :]
            for info in self.zip.infolist()
            if not info.is_dir() and info.filename.startswith(self.prefix)
        )

    def open(self, name: str) -> IO[bytes]:
        return self.zip.open(self.prefix + name)

    def display(self, name: str) -> str:
        return f"{self.path}/{self.prefix}{name}"

    def media_path(self, name: str) -> Path:
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="narvaro-x-import-"))
        target = self._tmp / name.replace("/", "_")
        with self.open(name) as source, target.open("wb") as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
        return target

    def check(self) -> None:
        """Read every member once so a CRC error fails validation, not a half-done import."""
        for info in self.zip.infolist():
            if info.is_dir():
                continue
            try:
                with self.zip.open(info) as handle:
                    while handle.read(1 << 20):
                        pass
            except _ZIP_ERRORS as exc:
                raise ImportFormatError(self.path, info.filename, f"damaged zip: {exc}") from exc

    def close(self) -> None:
        self.zip.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def _open_archive(path: Path) -> _ArchiveFolder | _ArchiveZip:
    """The archive at `path`: a zip, the unpacked folder, or its `data` folder."""
    if path.is_dir():
        for root in (path / "data", path):
            if (root / "account.js").is_file():
                return _ArchiveFolder(root)
        raise ImportFormatError(path, "folder", "not an X archive: no data/account.js")
    try:
        archive = zipfile.ZipFile(path)
    except _ZIP_ERRORS as exc:
        raise ImportFormatError(path, "zip", f"not a readable zip file: {exc}") from exc
    # The data folder may sit at the top of the zip or inside one wrapping folder.
    accounts = sorted(
        (name for name in archive.namelist() if name.rsplit("/", 1)[-1] == "account.js"),
        key=len,
    )
    if not accounts:
        archive.close()
        raise ImportFormatError(path, "zip", "not an X archive: no data/account.js")
    return _ArchiveZip(path, accounts[0][: -len("account.js")], archive)


# --- The window.YTD file reader --------------------------------------------------------------


def read_ytd(handle: IO[bytes], display: str) -> Iterator[tuple[int, Any]]:
    """Yield (record number, record) from one `window.YTD.<name>.partN = [...]` file.

    Record numbers count from 1. A missing prefix, malformed JSON or a damaged zip member
    raises ImportFormatError naming `display` and the record (or byte) where it went wrong.
    """
    prefix = b""
    while not prefix.endswith(b"="):
        char = _read(handle, 1, display, "byte 0")
        if not char or len(prefix) >= _PREFIX_MAX:
            raise ImportFormatError(
                display, "byte 0", "does not start with 'window.YTD.<name>.part<N> ='"
            )
        prefix += char
    if not _PREFIX_RE.match(prefix.removeprefix(b"\xef\xbb\xbf")[:-1]):
        raise ImportFormatError(
            display, "byte 0", "does not start with 'window.YTD.<name>.part<N> ='"
        )
    offset = len(prefix)
    # ijson happily reads a lone object as "no items"; the format promises an array.
    while (char := _read(handle, 1, display, f"byte {offset}")) in (b" ", b"\n", b"\r", b"\t"):
        offset += 1
    if char != b"[":
        raise ImportFormatError(display, f"byte {offset}", "expected '[' after the '=' prefix")
    number = 0
    try:
        for number, record in enumerate(
            ijson.items(_Prepend(b"[", handle), "item", use_float=True), start=1
        ):
            yield number, record
    except ijson.JSONError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "malformed JSON"
        raise ImportFormatError(display, f"record {number + 1}", message) from exc
    except _ZIP_ERRORS as exc:
        raise ImportFormatError(display, f"record {number + 1}", f"damaged zip: {exc}") from exc


def _read(handle: IO[bytes], size: int, display: str, position: str) -> bytes:
    try:
        return handle.read(size)
    except _ZIP_ERRORS as exc:
        raise ImportFormatError(display, position, f"damaged zip: {exc}") from exc


class _Prepend:
    """A file object whose first bytes are `head`, then the rest of `handle` (for ijson)."""

    def __init__(self, head: bytes, handle: IO[bytes]) -> None:
        self.head = head
        self.handle = handle

    def read(self, size: int = -1) -> bytes:
        # ijson calls read(0) to learn whether the file gives bytes or text.
        if self.head and size != 0:
            head, self.head = self.head, b""
            return head
        return self.handle.read(size)


# --- Records to captures ---------------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    """The archive's account, from data/account.js: who "drawn up" means."""

    user_id: str
    screen_name: str
    display_name: str


def parse_created_at(value: Any) -> dt.datetime:
    """X's 'Wed Mar 04 14:02:05 +0000 2026' as an aware datetime (locale-independent)."""
    match = _CREATED_AT_RE.match(value) if isinstance(value, str) else None
    if match is None or match.group(1) not in _MONTHS:
        raise _RecordError(f"unreadable time {value!r}")
    month, day, hour, minute, second, offset, year = match.groups()
    sign = -1 if offset[0] == "-" else 1
    zone = dt.timezone(sign * dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:])))
    try:
        return dt.datetime(
            int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=zone
        )
    except ValueError as exc:
        raise _RecordError(f"unreadable time {value!r}") from exc


def _parse_iso(value: Any) -> dt.datetime:
    """A DM's '2026-01-25T19:33:24.183Z' as an aware datetime."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise _RecordError(f"unreadable time {value!r}") from exc
    if parsed.tzinfo is None:
        raise _RecordError(f"time without a zone {value!r}")
    return parsed


def _string(record: dict[str, Any], key: str, what: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value:
        raise _RecordError(f"{what} has no {key}")
    return value


def _tweet_of(record: Any) -> dict[str, Any]:
    """The tweet object inside one record, checked for the fields every tweet has."""
    tweet = record.get("tweet") if isinstance(record, dict) else None
    if not isinstance(tweet, dict):
        raise _RecordError('not a {"tweet": {...}} record')
    if not _string(tweet, "id_str", "tweet").isdigit():
        raise _RecordError(f"tweet id_str {tweet['id_str']!r} is not a number")
    parse_created_at(tweet.get("created_at"))
    if not isinstance(tweet.get("full_text", tweet.get("text")), str):
        raise _RecordError(f"tweet {tweet['id_str']} has no full_text")
    return tweet


def _id_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(
        isinstance(tweet_id, str) and tweet_id.isdigit() for tweet_id in value
    ):
        raise _RecordError(f"{what} is not a list of tweet ids")
    return value


def edit_chain_of(tweet: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(initial tweet id, the chain's ids in edit order) for an edited tweet, else None.

    `edit_info.initial` is on the first tweet of a chain (a chain of one id is an unedited
    tweet); `edit_info.edit` on each later one, naming the first with `initialTweetId`.
    """
    info = tweet.get("edit_info")
    if info is None:
        return None
    if not isinstance(info, dict):
        raise _RecordError(f"tweet {tweet['id_str']}: edit_info is not an object")
    if isinstance(info.get("edit"), dict):
        edit = info["edit"]
        initial = edit.get("initialTweetId")
        if not isinstance(initial, str) or not initial.isdigit():
            raise _RecordError(f"tweet {tweet['id_str']}: edit_info.edit has no initialTweetId")
        control = edit.get("editControlInitial")
        ids = (
            _id_list(control.get("editTweetIds"), f"tweet {tweet['id_str']}: editTweetIds")
            if isinstance(control, dict) and "editTweetIds" in control
            else []
        )
        return initial, ids
    if isinstance(info.get("initial"), dict):
        ids = _id_list(
            info["initial"].get("editTweetIds", [tweet["id_str"]]),
            f"tweet {tweet['id_str']}: editTweetIds",
        )
        if len(ids) > 1:
            return tweet["id_str"], ids
    return None


def _is_retweet(tweet: dict[str, Any]) -> bool:
    return "retweeted_status" in tweet or str(tweet.get("full_text", "")).startswith("RT @")


def _media_candidates(tweet_id: str, medium: dict[str, Any]) -> list[str]:
    """File names the archive may use for one media entity, best first.

    Photos are saved under the image's own name; videos and GIFs under the name of an
    MP4 variant (the highest bitrate is the one X usually saves).
    """
    names = []
    variants = (medium.get("video_info") or {}).get("variants") or []
    for variant in sorted(variants, key=lambda v: -int(v.get("bitrate") or 0)):
        url = str(variant.get("url", "")).split("?", 1)[0]
        if url.endswith(".mp4"):
            names.append(f"{tweet_id}-{url.rsplit('/', 1)[-1]}")
    url = str(medium.get("media_url_https") or medium.get("media_url") or "")
    if url and not names:
        names.append(f"{tweet_id}-{url.rsplit('/', 1)[-1]}")
    return names


def tweet_capture(
    tweet: dict[str, Any],
    *,
    owner: Owner,
    thread_id: str,
    media: list[MediaInput],
    remote_id: str = "",
    parent_id: str | None = None,
) -> CaptureInput:
    """One of the owner's tweets (from tweets.js or deleted-tweets.js) as a capture.

    `remote_id` names the item when the tweet is a later edit of another (the initial
    tweet's id); `parent_id` the item it replies to, when that differs from the tweet's own
    `in_reply_to_status_id_str` (a reply to an edit replies to the edited item).
    """
    tweet_id = remote_id or tweet["id_str"]
    parent = str(tweet.get("in_reply_to_status_id_str") or "") if parent_id is None else parent_id
    if _is_retweet(tweet):
        kind = "share"
    elif parent:
        kind = "reply"
    else:
        kind = "post"
    return CaptureInput(
        platform=PLATFORM,
        remote_id=tweet_id,
        kind=kind,
        direction="drawn_up",
        # The archive HTML-escapes &, < and > in tweet text; the raw payload keeps them so.
        text=html.unescape(tweet.get("full_text", tweet.get("text", ""))),
        raw_payload=json.dumps(tweet, ensure_ascii=False),
        author_handle=f"@{owner.screen_name}",
        author_name=owner.display_name,
        author_platform_id=owner.user_id,
        parent_remote_id=parent,
        thread_remote_id=thread_id,
        permalink=f"https://x.com/{owner.screen_name}/status/{tweet_id}",
        visibility="public",
        created_at=parse_created_at(tweet["created_at"]),
        media=tuple(media),
    )


def _message_of(message: Any) -> dict[str, Any] | None:
    """The messageCreate inside one DM entry, checked; None for other entries (joins etc.)."""
    if not isinstance(message, dict):
        raise _RecordError("a message is not an object")
    create = message.get("messageCreate")
    if create is None:
        return None
    if not isinstance(create, dict):
        raise _RecordError("messageCreate is not an object")
    _string(create, "id", "message")
    _string(create, "senderId", "message")
    _parse_iso(create.get("createdAt"))
    if not isinstance(create.get("text", ""), str):
        raise _RecordError(f"message {create['id']} has a text that is not a string")
    return create


def _conversation_of(record: Any) -> tuple[str, list[dict[str, Any]]]:
    """The conversation id and its checked messageCreate entries, from one DM record."""
    conversation = record.get("dmConversation") if isinstance(record, dict) else None
    if not isinstance(conversation, dict):
        raise _RecordError('not a {"dmConversation": {...}} record')
    conversation_id = _string(conversation, "conversationId", "conversation")
    messages = conversation.get("messages")
    if not isinstance(messages, list):
        raise _RecordError(f"conversation {conversation_id} has no messages list")
    checked = []
    for number, message in enumerate(messages, start=1):
        try:
            create = _message_of(message)
        except _RecordError as exc:
            raise _RecordError(f"message {number}: {exc}") from exc
        if create is not None:
            checked.append(create)
    return conversation_id, checked


def message_capture(message: dict[str, Any], *, owner: Owner, conversation_id: str) -> CaptureInput:
    """One direct message as a capture: drawn up when the owner sent it, else received."""
    sent = message["senderId"] == owner.user_id
    return CaptureInput(
        platform=PLATFORM,
        remote_id=message["id"],
        kind="dm",
        direction="drawn_up" if sent else "received",
        text=message.get("text", ""),
        raw_payload=json.dumps(message, ensure_ascii=False),
        author_handle=f"@{owner.screen_name}" if sent else "",
        author_name=owner.display_name if sent else "",
        author_platform_id=message["senderId"],
        thread_remote_id=conversation_id,
        permalink=f"https://x.com/messages/{conversation_id}",
        visibility="direct",
        created_at=_parse_iso(message["createdAt"]),
    )


# --- The importer ----------------------------------------------------------------------------


class XArchiveImporter(Importer):
    """The X account archive (.zip or unpacked folder): tweets, deleted tweets and DMs.

    `validate()` also collects each tweet's reply parent (two short strings per tweet) so
    that `batches()` can name a reply's thread by the root of its chain.
    """

    platform = "x"
    format_name = "x"

    def __init__(self, path: Path, *, account_handle: str) -> None:
        super().__init__(path, account_handle=account_handle)
        self._archive: _ArchiveFolder | _ArchiveZip | None = None
        self._owner: Owner | None = None
        self._parents: dict[str, str] = {}
        self._names: list[str] = []
        self._media_names: set[str] = set()
        # Edit chains: tweet id → initial tweet id, the chain's ids in edit order, and
        # how many records of each chain the files hold (a chain is stored once all are read).
        self._edit_of: dict[str, str] = {}
        self._edit_order: dict[str, list[str]] = {}
        self._chain_records: dict[str, int] = {}
        self._validated = False

    # Files of the archive, grouped by what they hold.

    def _files(self, pattern: re.Pattern[str]) -> list[str]:
        return [name for name in self._names if "/" not in name and pattern.match(name)]

    def _records(self, name: str) -> Iterator[tuple[int, Any]]:
        assert self._archive is not None
        display = self._archive.display(name)
        try:
            with self._archive.open(name) as handle:
                yield from read_ytd(handle, display)
        except _ZIP_ERRORS as exc:
            raise ImportFormatError(display, "start", f"damaged zip: {exc}") from exc

    def _checked(self, name: str, check: Callable[[Any], _T]) -> Iterator[tuple[int, _T]]:
        """Records of one file passed through `check`, errors naming the file and record."""
        assert self._archive is not None
        for number, record in self._records(name):
            try:
                yield number, check(record)
            except _RecordError as exc:
                raise ImportFormatError(
                    self._archive.display(name), f"record {number}", str(exc)
                ) from exc

    def _read_owner(self) -> Owner:
        assert self._archive is not None
        for number, record in self._records("account.js"):
            account = record.get("account") if isinstance(record, dict) else None
            if isinstance(account, dict):
                try:
                    return Owner(
                        user_id=_string(account, "accountId", "account"),
                        screen_name=_string(account, "username", "account"),
                        display_name=str(account.get("accountDisplayName") or ""),
                    )
                except _RecordError as exc:
                    raise ImportFormatError(
                        self._archive.display("account.js"), f"record {number}", str(exc)
                    ) from exc
        raise ImportFormatError(self._archive.display("account.js"), "record 1", "no account")

    def validate(self) -> int:
        """Check every record of every file (and a zip's checksums); return the batch units.

        The count is what `batches()` will yield: one per tweet and message, two per
        deleted tweet (its capture and its deletion).
        """
        if self._archive is None:
            self._archive = _open_archive(self.path)
            self._archive.check()
        # Listed once: a folder's listing walks every media file.
        self._names = self._archive.names()
        self._owner = self._read_owner()
        self._media_names = {
            name
            for name in self._names
            if name.split("/", 1)[0] in _MEDIA_FOLDERS and name.count("/") == 1
        }
        total = 0
        # Deletion times of edited tweets, per chain: a chain is deleted as a whole, so its
        # tweets usually share one deleted_at, which is recorded once.
        chain_deletions: dict[str, set[dt.datetime]] = {}
        for pattern, per_record in ((_TWEET_FILES, 1), (_DELETED_FILES, 2)):
            for name in self._files(pattern):
                for number, tweet in self._checked(name, _tweet_of):
                    try:
                        chain = edit_chain_of(tweet)
                    except _RecordError as exc:
                        raise ImportFormatError(
                            self._archive.display(name), f"record {number}", str(exc)
                        ) from exc
                    if pattern is _DELETED_FILES:
                        try:
                            deleted_at = parse_created_at(tweet.get("deleted_at"))
                        except _RecordError as exc:
                            raise ImportFormatError(
                                self._archive.display(name),
                                f"record {number}",
                                f"deleted tweet {tweet['id_str']}: no readable deleted_at",
                            ) from exc
                        if chain is not None:
                            found = chain_deletions.setdefault(chain[0], set())
                            total -= deleted_at in found
                            found.add(deleted_at)
                    if chain is not None:
                        self._chain_add(tweet["id_str"], *chain)
                    parent = tweet.get("in_reply_to_status_id_str")
                    if parent:
                        self._parents[tweet["id_str"]] = str(parent)
                    total += per_record
        for name in self._files(_DM_FILES):
            for _, (_conversation, messages) in self._checked(name, _conversation_of):
                total += len(messages)
        self._validated = True
        return total

    def _chain_add(self, tweet_id: str, initial: str, ids: list[str]) -> None:
        self._edit_of[tweet_id] = initial
        self._chain_records[initial] = self._chain_records.get(initial, 0) + 1
        if len(ids) > len(self._edit_order.get(initial, [])):
            self._edit_order[initial] = ids

    def _edit_position(self, tweet_id: str) -> tuple[int, int]:
        """Where a tweet sits in its edit chain: by editTweetIds, else by id (ids grow in time)."""
        order = self._edit_order.get(self._edit_of[tweet_id], [])
        index = order.index(tweet_id) if tweet_id in order else len(order)
        return index, int(tweet_id)

    def _item_id(self, tweet_id: str) -> str:
        """The item a tweet id belongs to: the first tweet of its edit chain, or itself."""
        return self._edit_of.get(tweet_id, tweet_id)

    def _thread_of(self, tweet: dict[str, Any]) -> str:
        """conversation_id when X gives it; else the root of the known reply chain."""
        if tweet.get("conversation_id_str") or tweet.get("conversation_id"):
            return self._item_id(
                str(tweet.get("conversation_id_str") or tweet.get("conversation_id"))
            )
        current = self._item_id(tweet["id_str"])
        seen = {current}
        while (parent := self._parents.get(current)) is not None:
            parent = self._item_id(parent)
            if parent in seen:
                break
            seen.add(parent)
            current = parent
        return current

    def _media_of(self, tweet: dict[str, Any]) -> list[MediaInput]:
        assert self._archive is not None
        entities = tweet.get("extended_entities") or tweet.get("entities") or {}
        media = []
        for medium in entities.get("media") or []:
            if not isinstance(medium, dict):
                continue
            candidates = _media_candidates(tweet["id_str"], medium)
            if not candidates:
                continue
            alt = str(medium.get("ext_alt_text") or "")
            found = next(
                (
                    f"{folder}/{name}"
                    for name in candidates
                    for folder in _MEDIA_FOLDERS
                    if f"{folder}/{name}" in self._media_names
                ),
                None,
            )
            if found is None:
                media.append(MediaInput(original_name=candidates[0], alt_text=alt))
            else:
                media.append(
                    MediaInput(
                        original_name=found.split("/", 1)[1],
                        path=self._archive.media_path(found),
                        alt_text=alt,
                    )
                )
        return media

    def _units(self) -> Iterator[tuple[list[CaptureInput], list[EventInput]]]:
        """Captures with their events, one tweet or message at a time, in file order."""
        assert self._owner is not None
        # Tweets of an edit chain wait here until the chain's last record has been read,
        # then go out together, in edit order: one item, one version per edit.
        # Each tweet travels with its deletion time: deleted-tweets.js only (checked there).
        pending: dict[str, list[tuple[dict[str, Any], dt.datetime | None]]] = {}
        for pattern in (_TWEET_FILES, _DELETED_FILES):
            for name in self._files(pattern):
                for _, tweet in self._checked(name, _tweet_of):
                    deleted_at = (
                        parse_created_at(tweet["deleted_at"]) if pattern is _DELETED_FILES else None
                    )
                    initial = self._edit_of.get(tweet["id_str"])
                    if initial is None:
                        yield [self._capture(tweet)], self._deletions([(tweet, deleted_at)])
                        continue
                    chain = pending.setdefault(initial, [])
                    chain.append((tweet, deleted_at))
                    if len(chain) == self._chain_records[initial]:
                        del pending[initial]
                        chain.sort(key=lambda pair: self._edit_position(pair[0]["id_str"]))
                        yield [self._capture(t) for t, _ in chain], self._deletions(chain)
        for name in self._files(_DM_FILES):
            for _, (conversation_id, messages) in self._checked(name, _conversation_of):
                for message in messages:
                    yield (
                        [
                            message_capture(
                                message, owner=self._owner, conversation_id=conversation_id
                            )
                        ],
                        [],
                    )

    def _deletions(
        self, tweets: list[tuple[dict[str, Any], dt.datetime | None]]
    ) -> list[EventInput]:
        """The deletion of the tweets' item at each moment one of them was deleted, once each."""
        moments = sorted({deleted_at for _, deleted_at in tweets if deleted_at is not None})
        return [
            EventInput(
                platform=PLATFORM,
                remote_id=self._item_id(tweets[0][0]["id_str"]),
                type="deleted",
                occurred_at=moment,
            )
            for moment in moments
        ]

    def _capture(self, tweet: dict[str, Any]) -> CaptureInput:
        assert self._owner is not None
        parent = tweet.get("in_reply_to_status_id_str")
        return tweet_capture(
            tweet,
            owner=self._owner,
            thread_id=self._thread_of(tweet),
            media=self._media_of(tweet),
            remote_id=self._item_id(tweet["id_str"]),
            parent_id=self._item_id(str(parent)) if parent else "",
        )

    def batches(self, size: int) -> Iterator[ImportBatch]:
        """Yield captures and events; a deleted tweet and its deletion share one batch."""
        if not self._validated:
            self.validate()
        batch = ImportBatch()
        for captures, events in self._units():
            if batch and len(batch) + len(captures) + len(events) > size:
                yield batch
                self._release_media(batch)
                batch = ImportBatch()
            batch.captures.extend(captures)
            batch.events.extend(events)
        if batch:
            yield batch
            self._release_media(batch)

    def _release_media(self, batch: ImportBatch) -> None:
        """Delete media copied out of a zip once their batch is stored (bounded disk use)."""
        if isinstance(self._archive, _ArchiveZip):
            for capture in batch.captures:
                for medium in capture.media:
                    if medium.path is not None:
                        medium.path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
            self._archive = None
