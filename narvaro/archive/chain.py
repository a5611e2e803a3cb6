"""The hash chain over an account's versions and events (R10).

Each entry's digest covers the previous digest, the entry's metadata and its content and
payload digests, never the content itself: a lawful disposal may empty the content and the
chain still verifies, while any change to what remains breaks it from that entry on.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from narvaro.archive.capture import canonical_json, iso, json_string, sha256_hex

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


def item_identity_json(item: Any) -> str:
    """`canonical_json(item_identity(item))` as text, written out (keys in sorted order)."""
    s = json_string
    return (
        f'{{"author_handle":{s(item.author_handle)},"author_name":{s(item.author_name)},'
        f'"author_platform_id":{s(item.author_platform_id)},'
        f'"created_at":{_json_iso(item.created_at)},"direction":{s(item.direction)},'
        f'"first_seen_at":{_json_iso(item.first_seen_at)},"kind":{s(item.kind)},'
        f'"parent":{s(item.parent_remote_id)},"permalink":{s(item.permalink)},'
        f'"platform":{s(item.platform)},"remote_id":{s(item.remote_id)},'
        f'"thread":{s(item.thread_remote_id)},"visibility":{s(item.visibility)}}}'
    )


def version_chain_digest(previous: str, seq: int, identity_json: str, version: Any) -> str:
    """`chain_digest(previous, seq, version_entry(item, version))`, written out directly.

    The capture hot path: the same bytes (keys in sorted order, each value in its canonical
    form; a test holds the two together and `narvaro verify` recomputes with the general
    form), without building and sorting the dictionaries for every version.
    """
    s = json_string
    return sha256_hex(
        (
            f'{{"entry":{{"content_digest":{s(version.content_digest)},"entry":"version",'
            f'"item":{identity_json},"number":{int(version.number)},'
            f'"payload_digest":{s(version.payload_digest)},'
            f'"recorded_at":{_json_iso(version.recorded_at)},"source":{s(version.source)}}},'
            f'"previous":{s(previous)},"seq":{int(seq)}}}'
        ).encode()
    )


@lru_cache(maxsize=256)
def _json_iso(value: Any) -> str:
    stamp = iso(value)
    return "null" if stamp is None else json_string(stamp)
