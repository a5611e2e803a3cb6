"""The hash chain over an account's versions and events (R10).

Each entry's digest covers the previous digest, the entry's metadata and its content and
payload digests, never the content itself: a lawful disposal may empty the content and the
chain still verifies, while any change to what remains breaks it from that entry on.
"""

from __future__ import annotations

from typing import Any

from narvaro.archive.capture import canonical_json, iso, sha256_hex

GENESIS = "0" * 64


def item_identity(item: Any) -> dict[str, Any]:
    return {
        "platform": item.platform,
        "remote_id": item.remote_id,
        "kind": item.kind,
        "direction": item.direction,
        "author_handle": item.author_handle,
        "author_name": item.author_name,
        "author_platform_id": item.author_platform_id,
        "parent": item.parent_remote_id,
        "thread": item.thread_remote_id,
        "permalink": item.permalink,
        "visibility": item.visibility,
        "created_at": iso(item.created_at),
        "first_seen_at": iso(item.first_seen_at),
    }


def version_entry(item: Any, version: Any) -> dict[str, Any]:
    return {
        "entry": "version",
        "item": item_identity(item),
        "number": version.number,
        "recorded_at": iso(version.recorded_at),
        "source": version.source,
        "content_digest": version.content_digest,
        "payload_digest": version.payload_digest,
    }


def event_entry(item: Any, event: Any) -> dict[str, Any]:
    return {
        "entry": "event",
        "platform": item.platform,
        "remote_id": item.remote_id,
        "type": event.type,
        "occurred_at": iso(event.occurred_at),
        "recorded_at": iso(event.recorded_at),
        "details": event.details,
        "actor": event.actor_name,
        "source": event.source,
    }


def chain_digest(previous: str, seq: int, entry: dict[str, Any]) -> str:
    return sha256_hex(canonical_json({"previous": previous, "seq": seq, "entry": entry}))
