"""What connectors and importers hand to the archive: normalised captures and events.

Every way into the archive (platform connectors, export importers) produces these plain
values; `archive.services.capture_batch` is the only code that turns them into rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class MediaInput:
    """An attachment as found in the source. No `content` and no `path` means it is missing.

    `sha256` and `size` (and `caption_sha256`, `caption_size`) describe a file known only
    by its digest: one a package withheld (child sexual abuse material is copied nowhere),
    restored as its record without the bytes (`packages.restore`).
    """

    original_name: str
    content: bytes | None = None
    path: Path | None = None
    content_type: str = ""
    alt_text: str = ""
    caption: bytes | None = None
    sha256: str = ""
    size: int = 0
    caption_sha256: str = ""
    caption_size: int = 0

    @property
    def missing(self) -> bool:
        return self.content is None and self.path is None and not self.sha256


@dataclass(frozen=True)
class CaptureInput:
    """One item as seen at one moment: identity, metadata and content."""

    platform: str
    remote_id: str
    kind: str
    direction: str
    text: str
    raw_payload: str
    html: str = ""
    author_handle: str = ""
    author_name: str = ""
    author_platform_id: str = ""
    parent_remote_id: str = ""
    thread_remote_id: str = ""
    permalink: str = ""
    visibility: str = ""
    created_at: dt.datetime | None = None
    media: tuple[MediaInput, ...] = ()


@dataclass(frozen=True)
class EventInput:
    """Something observed about an item, e.g. that it was deleted on the platform."""

    platform: str
    remote_id: str
    type: str
    occurred_at: dt.datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)


_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
# The C encoder behind `json.dumps`, made once: `json.dumps` with these options builds a new
# encoder on every call, which cost more than the hashing on the archive's hot path.
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_C_CANONICAL = (
    _c_make_encoder(
        None,
        _CANONICAL.default,
        json.encoder.encode_basestring,  # type: ignore[attr-defined]
        None,
        ":",
        ",",
        True,
        False,
        True,
    )
    if _c_make_encoder is not None
    else None
)


def canonical_json(value: Any) -> bytes:
    """The one byte form digests are computed over: sorted keys, no whitespace, UTF-8.

    Byte for byte what `json.dumps(value, sort_keys=True, ensure_ascii=False,
    separators=(",", ":"))` gives (a test holds the two together).
    """
    if _C_CANONICAL is not None:
        return "".join(_C_CANONICAL(value, 0)).encode()
    return _CANONICAL.encode(value).encode()  # pragma: no cover - Python without the C encoder


# A string as canonical JSON writes it (the C function `json.dumps` itself uses).
json_string: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]


_sha256 = hashlib.sha256


def sha256_hex(data: bytes) -> str:
    return _sha256(data).hexdigest()


def content_digest(text: str, html: str, attachments: list[dict[str, Any]]) -> str:
    """SHA-256 of what an item says: its text, HTML and attachments (file digest, alt text).

    Counters that change all the time (likes, shares) are not content, so a re-harvest
    with new counts is not a new version.
    """
    # canonical_json({"text": text, "html": html, "attachments": attachments}), spelt out:
    # the keys in sorted order around each value's own canonical form (the same bytes).
    # Most captures have no attachments: one string, one encode, one digest.
    s = json_string
    if not attachments:
        plain = f'{{"attachments":[],"html":{s(html)},"text":{s(text)}}}'
        return _sha256(plain.encode()).hexdigest()
    return _sha256(
        b'{"attachments":'
        + canonical_json(attachments)
        + f',"html":{s(html)},"text":{s(text)}}}'.encode()
    ).hexdigest()


def attachment_fingerprint(
    *,
    position: int,
    media_sha256: str | None,
    caption_sha256: str | None,
    alt_text: str,
    original_name: str,
    missing: bool,
) -> dict[str, Any]:
    return {
        "position": position,
        "sha256": media_sha256,
        "caption_sha256": caption_sha256,
        "alt": alt_text,
        "name": original_name,
        "missing": missing,
    }


def utc_iso(value: dt.datetime | None) -> str | None:
    """A timestamp in UTC, as the database gives it back (whatever offset it arrived with)."""
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


# Cached: a batch stamps every row with the same `recorded_at` and `first_seen_at`.
# (`utc_iso` for values seen once, such as each item's own `created_at`.)
iso: Callable[[dt.datetime | None], str | None] = lru_cache(maxsize=256)(utc_iso)
