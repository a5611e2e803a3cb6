"""Bluesky repository exports: the `.car` file `com.atproto.sync.getRepo` returns.

A CAR file is a header (the root CID) followed by blocks, each a CID and its bytes. The
root is the repository's signed commit; the commit's `data` points at the root of a Merkle
Search Tree (MST) whose entries map "collection/rkey" keys to record CIDs. Record keys
exist only in the tree, so the importer walks it itself (the atproto SDK reads blocks only).

The file is read by sections with their byte offsets, and every block is checked against
its CID (SHA-256) before it is decoded: a truncated or tampered export fails in
`validate()` naming the byte or the block, before anything is stored. `validate()` keeps an
index of where each block sits; `batches()` reads blocks back from the file by offset, so
memory grows with the number of blocks, never with their content.

Posts become "post" or "reply" items, reposts "share" items. Other collections (likes,
follows, the profile, and obsolete types of older v2 repositories such as
`app.bsky.feed.vote`) are not items: they are skipped and counted in the warnings.

A broken structure (framing, a digest, the commit, a tree node) refuses the whole file,
naming the byte or block. A record whose block the CAR lacks (a partial export), or which
is not a record of its collection's type, is reported by its AT-URI and skipped: the
rest of the repository is still imported.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import re
import struct
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import libipld

from narvaro.archive.capture import CaptureInput, MediaInput
from narvaro.channels.importers.base import (
    ImportBatch,
    Importer,
    ImportFormatError,
    capture_batches,
)

POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"

_DAG_CBOR = 0x71
_SHA2_256 = 0x12
# A CAR section longer than this is not a repository block (records are capped at 1 MiB
# by the protocol); refusing it early keeps a corrupt length from allocating gigabytes.
_MAX_SECTION = 8 << 20
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class _MissingBlock(Exception):
    """A block the CAR does not hold (the caller decides whether that breaks the structure)."""


class _Corrupt(Exception):
    """A problem found below the importer; it turns it into ImportFormatError with the file."""

    def __init__(self, position: str, message: str) -> None:
        self.position = position
        self.message = message
        super().__init__(f"{position}: {message}")


def cid_str(cid: bytes) -> str:
    """The base32 string form of a binary CID ("bafy...")."""
    return str(libipld.encode_cid(cid))


def _read_varint(handle: IO[bytes], offset: int) -> tuple[int, int] | None:
    """An unsigned LEB128 varint at `offset`: (value, bytes used), or None at end of file."""
    value = 0
    for shift in range(0, 64, 7):
        byte = handle.read(1)
        if not byte:
            if shift == 0:
                return None
            raise _Corrupt(f"byte {offset}", "file ends inside a section length (truncated)")
        value |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return value, shift // 7 + 1
    raise _Corrupt(f"byte {offset}", "section length is not a valid varint")


def _split_cid(section: bytes, offset: int) -> tuple[bytes, int]:
    """The binary CID at the start of a block section and its length in bytes."""
    if section[:1] != b"\x01":
        raise _Corrupt(f"byte {offset}", "block does not start with a version 1 CID")
    # CIDv1 = version, codec, multihash code, digest size (varints) + digest.
    pos = 1
    numbers = []
    for _ in range(3):
        value = shift = 0
        while True:
            if pos >= len(section) or shift > 63:
                raise _Corrupt(f"byte {offset}", "block CID is malformed")
            byte = section[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        numbers.append(value)
    end = pos + numbers[2]
    if end > len(section):
        raise _Corrupt(f"byte {offset}", "block CID is malformed")
    return section[:end], end


def _check_digest(cid: bytes, data: bytes, offset: int) -> None:
    info = libipld.decode_cid(cid)
    if info["codec"] != _DAG_CBOR:
        raise _Corrupt(f"byte {offset}", f"block {cid_str(cid)} is not DAG-CBOR")
    code = info["hash"]["code"]
    if code != _SHA2_256:
        raise _Corrupt(f"block {cid_str(cid)} at byte {offset}", f"unsupported hash 0x{code:x}")
    if hashlib.sha256(data).digest() != info["hash"]["digest"]:
        raise _Corrupt(
            f"block {cid_str(cid)} at byte {offset}",
            "block content does not match its CID (corrupt or altered)",
        )


class _CborReader:
    """DAG-CBOR decoded to atproto's JSON form: links as {"$link"}, bytes as {"$bytes"}.

    libipld decodes a CID link and a byte string both to `bytes`; a record's JSON form must
    tell them apart, so records are decoded here. Only DAG-CBOR is accepted (definite
    lengths, string map keys, tag 42 only).
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def decode(self) -> Any:
        value = self._item(0)
        if self.pos != len(self.data):
            raise ValueError("trailing bytes after the record")
        return value

    def _take(self, count: int) -> bytes:
        if self.pos + count > len(self.data):
            raise ValueError("record ends early")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def _argument(self, info: int) -> int:
        if info < 24:
            return info
        if info in (24, 25, 26, 27):
            size = 1 << (info - 24)
            return int.from_bytes(self._take(size), "big")
        raise ValueError(f"unsupported CBOR length encoding {info}")

    def _item(self, depth: int) -> Any:
        if depth > 64:
            raise ValueError("record nests too deeply")
        initial = self._take(1)[0]
        major, info = initial >> 5, initial & 0x1F
        if major == 7:
            return self._simple(info)
        arg = self._argument(info)
        if major == 0:
            return arg
        if major == 1:
            return -1 - arg
        if major == 2:
            return {"$bytes": base64.b64encode(self._take(arg)).decode()}
        if major == 3:
            return self._take(arg).decode("utf-8")
        if major == 4:
            return [self._item(depth + 1) for _ in range(arg)]
        if major == 5:
            result: dict[str, Any] = {}
            for _ in range(arg):
                key = self._item(depth + 1)
                if not isinstance(key, str):
                    raise ValueError("map key is not a string")
                result[key] = self._item(depth + 1)
            return result
        if arg != 42:
            raise ValueError(f"unsupported CBOR tag {arg}")
        link = self._item(depth + 1)
        raw = base64.b64decode(link["$bytes"]) if isinstance(link, dict) else b""
        if raw[:1] != b"\x00":
            raise ValueError("malformed CID link")
        return {"$link": cid_str(raw[1:])}

    def _simple(self, info: int) -> Any:
        if info == 20:
            return False
        if info == 21:
            return True
        if info == 22:
            return None
        if info == 27:
            return struct.unpack(">d", self._take(8))[0]
        raise ValueError(f"unsupported CBOR simple value {info}")


def decode_record(block: bytes) -> dict[str, Any]:
    """A record block in atproto's JSON form (links as {"$link"}, bytes as {"$bytes"}).

    For the live connector's incremental harvest, which reads record blocks out of a
    `getRepo?since=` CAR; ValueError when the block is not a DAG-CBOR map.
    """
    record = _CborReader(block).decode()
    if not isinstance(record, dict):
        raise ValueError("the record is not a map")
    return record


def car_sections(data: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """A CAR held in memory: its header block and every (binary CID, block), digests checked.

    ValueError when the framing, a CID or a digest is wrong.
    """

    def varint(pos: int) -> tuple[int, int]:
        value = shift = 0
        while True:
            if pos >= len(data) or shift > 63:
                raise ValueError(f"a malformed length at byte {pos}")
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value, pos

    size, pos = varint(0)
    header = data[pos : pos + size]
    pos += size
    blocks: list[tuple[bytes, bytes]] = []
    while pos < len(data):
        size, start = varint(pos)
        end = start + size
        if end > len(data):
            raise ValueError(f"a block cut off at byte {start}")
        try:
            cid, used = _split_cid(data[start:end], start)
            block = data[start + used : end]
            _check_digest(cid, block, start)
        except _Corrupt as exc:
            raise ValueError(str(exc)) from exc
        blocks.append((cid, block))
        pos = end
    return header, blocks


def parse_datetime(value: Any) -> dt.datetime | None:
    """An atproto datetime (ISO 8601 with a timezone), or None if missing or unreadable."""
    # "-00:00" (an unknown offset) is not allowed in atproto datetimes.
    if not isinstance(value, str) or not _DATETIME.match(value) or value.endswith("-00:00"):
        return None
    # Python reads at most microseconds; atproto allows any number of fraction digits.
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)
    try:
        parsed = dt.datetime.fromisoformat(value)
        return parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None


def _blob_cid(blob: Any) -> str:
    """The CID of a blob reference, current ({ref: {$link}}) or legacy ({cid}) form."""
    if not isinstance(blob, dict):
        return ""
    ref = blob.get("ref")
    if isinstance(ref, dict) and isinstance(ref.get("$link"), str):
        return str(ref["$link"])
    return str(blob.get("cid") or "")


def _media(embed: Any) -> tuple[MediaInput, ...]:
    """Images (and a video) in a post's embed: blobs, which a repository CAR never holds."""
    if not isinstance(embed, dict):
        return ()
    if embed.get("$type") == "app.bsky.embed.recordWithMedia":
        embed = embed.get("media")
        if not isinstance(embed, dict):
            return ()
    found: list[MediaInput] = []
    if embed.get("$type") == "app.bsky.embed.images":
        images = embed.get("images")
        for image in images if isinstance(images, list) else []:
            if not isinstance(image, dict):
                continue
            blob = image.get("image")
            cid = _blob_cid(blob)
            if cid:
                mime = blob.get("mimeType") if isinstance(blob, dict) else ""
                found.append(
                    MediaInput(
                        original_name=cid,
                        alt_text=str(image.get("alt") or ""),
                        content_type=mime if isinstance(mime, str) else "",
                    )
                )
    elif embed.get("$type") == "app.bsky.embed.video":
        blob = embed.get("video")
        cid = _blob_cid(blob)
        if cid:
            mime = blob.get("mimeType") if isinstance(blob, dict) else ""
            found.append(
                MediaInput(
                    original_name=cid,
                    alt_text=str(embed.get("alt") or ""),
                    content_type=mime if isinstance(mime, str) else "",
                )
            )
    return tuple(found)


def _uri_at(record: dict[str, Any], *path: str) -> str:
    value: Any = record
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


def record_capture(
    *, did: str, handle: str, collection: str, rkey: str, cid: str, record: dict[str, Any]
) -> CaptureInput:
    """A post, reply or repost record of `did`'s repository as the archive's capture.

    The one mapping of a Bluesky record: the repository importer and the live connector both
    use it, so an imported `repo.car` and a harvest store the same items.
    """
    uri = f"at://{did}/{collection}/{rkey}"
    payload = json.dumps(
        {"uri": uri, "cid": cid, "value": record},
        sort_keys=True,
        ensure_ascii=False,
    )
    common: dict[str, Any] = {
        "platform": "bluesky",
        "remote_id": uri,
        "direction": "drawn_up",
        "raw_payload": payload,
        "author_handle": handle,
        "author_platform_id": did,
        "created_at": parse_datetime(record.get("createdAt")),
    }
    if collection == REPOST:
        # A repost says nothing itself; the reposted post is what it refers to.
        return CaptureInput(
            kind="share", text="", parent_remote_id=_uri_at(record, "subject", "uri"), **common
        )
    text = record.get("text")
    reply = record.get("reply")
    return CaptureInput(
        kind="reply" if isinstance(reply, dict) else "post",
        text=text if isinstance(text, str) else "",
        parent_remote_id=_uri_at(record, "reply", "parent", "uri"),
        thread_remote_id=_uri_at(record, "reply", "root", "uri"),
        permalink=f"https://bsky.app/profile/{did}/post/{rkey}",
        media=_media(record.get("embed")),
        **common,
    )


class BlueskyRepoImporter(Importer):
    """A repository export (.car): the account's own posts, replies and reposts."""

    platform = "bluesky"
    format_name = "bluesky"

    def __init__(self, path: Path, *, account_handle: str) -> None:
        super().__init__(path, account_handle=account_handle)
        # CID → (offset of the block's data, its length); filled by validate().
        self._index: dict[bytes, tuple[int, int]] = {}
        self._did = ""
        self._tree_root = b""
        self._validated = False

    # -- reading the CAR ---------------------------------------------------------------

    def _error(self, exc: _Corrupt) -> ImportFormatError:
        return ImportFormatError(self.path, exc.position, exc.message)

    def _scan(self) -> bytes:
        """Read every section once: check framing and digests, index blocks, return the root."""
        index: dict[bytes, tuple[int, int]] = {}
        with self.path.open("rb") as handle:
            first = _read_varint(handle, 0)
            if first is None:
                raise _Corrupt("byte 0", "the file is empty")
            length, used = first
            if length == 0 or length > _MAX_SECTION:
                raise _Corrupt("byte 0", "not a CAR file (bad header length)")
            header_bytes = handle.read(length)
            if len(header_bytes) != length:
                raise _Corrupt(f"byte {used}", "file ends inside the CAR header (truncated)")
            try:
                header = libipld.decode_dag_cbor(header_bytes)
            except ValueError as exc:
                raise _Corrupt(f"byte {used}", f"unreadable CAR header: {exc}") from exc
            roots = header.get("roots") if isinstance(header, dict) else None
            if not isinstance(header, dict) or header.get("version") != 1:
                raise _Corrupt(f"byte {used}", "not a version 1 CAR file")
            if not isinstance(roots, list) or not roots or not isinstance(roots[0], bytes):
                raise _Corrupt(f"byte {used}", "the CAR header names no root")
            offset = used + length
            while True:
                found = _read_varint(handle, offset)
                if found is None:
                    break
                length, used = found
                start = offset + used
                if length == 0 or length > _MAX_SECTION:
                    raise _Corrupt(f"byte {offset}", f"implausible block length {length}")
                section = handle.read(length)
                if len(section) != length:
                    raise _Corrupt(f"byte {offset}", "file ends inside a block (truncated)")
                cid, cid_len = _split_cid(section, start)
                try:
                    _check_digest(cid, section[cid_len:], start)
                except ValueError as exc:
                    raise _Corrupt(f"byte {start}", f"block CID is malformed: {exc}") from exc
                index[cid] = (start + cid_len, length - cid_len)
                offset = start + length
        self._index = index
        return bytes(roots[0])

    def _raw(self, handle: IO[bytes], cid: bytes) -> bytes:
        where = self._index.get(cid)
        if where is None:
            raise _Corrupt(f"block {cid_str(cid)}", "block is missing from the CAR")
        return self._read(handle, cid, where)

    def _read(self, handle: IO[bytes], cid: bytes, where: tuple[int, int]) -> bytes:
        handle.seek(where[0])
        data = handle.read(where[1])
        _check_digest(cid, data, where[0])
        return data

    def _node(self, handle: IO[bytes], cid: bytes) -> Any:
        try:
            decoded = libipld.decode_dag_cbor(self._raw(handle, cid))
        except ValueError as exc:
            raise _Corrupt(f"block {cid_str(cid)}", f"undecodable block: {exc}") from exc
        return decoded

    def _record(self, handle: IO[bytes], cid: bytes) -> dict[str, Any]:
        """A record block decoded; _MissingBlock when the CAR does not hold it."""
        where = self._index.get(cid)
        if where is None:
            raise _MissingBlock(cid)
        try:
            record = _CborReader(self._read(handle, cid, where)).decode()
        except (ValueError, UnicodeDecodeError) as exc:
            raise _Corrupt(f"block {cid_str(cid)}", f"undecodable record: {exc}") from exc
        if not isinstance(record, dict):
            raise _Corrupt(f"block {cid_str(cid)}", "record is not a map")
        return record

    def _commit(self, handle: IO[bytes], root: bytes) -> tuple[str, bytes]:
        """The repository DID and the MST root from the commit block.

        v2 and v3 commits hold `did` and `data` themselves. The first repositories (2022)
        signed a commit `{root, sig}` whose root block holds `data` and a `meta` block with
        the DID; those are read through. A commit with neither is not a repository.
        """
        commit = self._node(handle, root)
        where = f"block {cid_str(root)}"
        if (
            isinstance(commit, dict)
            and "data" not in commit
            and isinstance(commit.get("root"), bytes)
        ):
            where = f"block {cid_str(commit['root'])}"
            commit = self._node(handle, commit["root"])
            meta = commit.get("meta") if isinstance(commit, dict) else None
            if isinstance(meta, bytes):
                described = self._node(handle, meta)
                if isinstance(described, dict):
                    commit = {**commit, "did": described.get("did")}
        if not isinstance(commit, dict) or not isinstance(commit.get("data"), bytes):
            raise _Corrupt(where, "the root block is not a repository commit (no data field)")
        did = commit.get("did")
        if not isinstance(did, str) or not did.startswith("did:"):
            raise _Corrupt(where, "the commit names no repository DID")
        return did, commit["data"]

    def _entries(self, handle: IO[bytes], root: bytes) -> Iterator[tuple[str, bytes]]:
        """The tree's (key, record CID) pairs in key order.

        Each node is {l: left subtree, e: entries}; an entry's key is the previous key's
        first `p` bytes plus `k`, and its `t` is the subtree between it and the next entry.
        An explicit stack keeps a deep (or hostile) tree from exhausting recursion.
        """
        stack: list[tuple[bool, Any]] = [(True, root)]
        seen: set[bytes] = set()
        while stack:
            is_node, value = stack.pop()
            if not is_node:
                yield value
                continue
            if value in seen:
                raise _Corrupt(f"block {cid_str(value)}", "tree node appears twice in the tree")
            seen.add(value)
            node = self._node(handle, value)
            where = f"block {cid_str(value)}"
            if not isinstance(node, dict) or not isinstance(node.get("e"), list):
                raise _Corrupt(where, "not a repository tree node")
            pending: list[tuple[bool, Any]] = []
            if node.get("l") is not None:
                if not isinstance(node["l"], bytes):
                    raise _Corrupt(where, "tree node has a malformed left link")
                pending.append((True, node["l"]))
            previous = b""
            for entry in node["e"]:
                ok = (
                    isinstance(entry, dict)
                    and isinstance(entry.get("p"), int)
                    and isinstance(entry.get("k"), bytes)
                    and isinstance(entry.get("v"), bytes)
                    and (entry.get("t") is None or isinstance(entry.get("t"), bytes))
                    and 0 <= entry["p"] <= len(previous)
                )
                if not ok:
                    raise _Corrupt(where, "malformed tree entry")
                key_bytes = previous[: entry["p"]] + entry["k"]
                try:
                    key = key_bytes.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise _Corrupt(where, "tree key is not UTF-8") from exc
                if key_bytes <= previous or key.count("/") != 1:
                    raise _Corrupt(where, f"malformed or unordered tree key {key!r}")
                pending.append((False, (key, entry["v"])))
                if entry.get("t") is not None:
                    pending.append((True, entry["t"]))
                previous = key_bytes
            stack.extend(reversed(pending))

    # -- the importer contract ---------------------------------------------------------

    def _item_record(
        self, handle: IO[bytes], key: str, cid: bytes
    ) -> tuple[dict[str, Any] | None, str]:
        """(record, "") for a post or repost; (None, why) for one that cannot be imported.

        A record whose `$type` is another collection's is reported by AT-URI and skipped.
        A post's or repost's block missing from the CAR refuses the file: a CAR cut exactly
        between two blocks has whole framing, and the missing record is the only sign that
        the export is truncated, so importing the rest would pass a damaged file as whole.
        """
        uri = f"at://{self._did}/{key}"
        try:
            record = self._record(handle, cid)
        except _MissingBlock as exc:
            raise _Corrupt(
                f"block {cid_str(cid)}",
                f"the record {uri} is missing from the CAR (the file may be truncated)",
            ) from exc
        record_type = record.get("$type")
        # Records name their type; one that names another than its collection's is not
        # what the collection promises (a record without `$type` is taken at its word).
        if record_type is not None and record_type != key.partition("/")[0]:
            return None, f"{uri}: a record of type {record_type!r} in this collection, skipped"
        return record, ""

    def validate(self) -> int:
        """Check framing, digests, the commit, the tree and every record; count the items."""
        self.warnings = []
        skipped: Counter[str] = Counter()
        items = 0
        try:
            root = self._scan()
            with self.path.open("rb") as handle:
                self._did, self._tree_root = self._commit(handle, root)
                for key, cid in self._entries(handle, self._tree_root):
                    collection = key.partition("/")[0]
                    if collection in (POST, REPOST):
                        record, problem = self._item_record(handle, key, cid)
                        if record is None:
                            self.warnings.append(problem)
                        else:
                            items += 1
                        continue
                    skipped[collection] += 1
                    # Not an item either way: a missing block is counted as skipped, no more.
                    with contextlib.suppress(_MissingBlock):
                        self._record(handle, cid)
        except _Corrupt as exc:
            raise self._error(exc) from exc
        except OSError as exc:
            raise ImportFormatError(self.path, "byte 0", f"cannot read the file: {exc}") from exc
        for collection, count in sorted(skipped.items()):
            self.warnings.append(f"skipped {count} {collection} record(s): not archived items")
        self._validated = True
        return items

    def batches(self, size: int) -> Iterator[ImportBatch]:
        if not self._validated:
            self.validate()
        undated = 0
        with self.path.open("rb") as handle:

            def captures() -> Iterator[CaptureInput]:
                nonlocal undated
                for key, cid in self._entries(handle, self._tree_root):
                    collection, _, rkey = key.partition("/")
                    if collection not in (POST, REPOST):
                        continue
                    record, _problem = self._item_record(handle, key, cid)
                    if record is None:
                        continue  # reported by validate()
                    capture = self._capture(collection, rkey, cid, record)
                    undated += capture.created_at is None
                    yield capture

            try:
                yield from capture_batches(captures(), size)
            except _Corrupt as exc:
                raise self._error(exc) from exc
        if undated:
            self.warnings.append(f"{undated} record(s) without a readable createdAt")

    def _capture(
        self, collection: str, rkey: str, cid: bytes, record: dict[str, Any]
    ) -> CaptureInput:
        return record_capture(
            did=self._did,
            handle=self.account_handle,
            collection=collection,
            rkey=rkey,
            cid=cid_str(cid),
            record=record,
        )
