"""The hash chain over an account's versions and events (R10).

Each entry's digest covers the previous digest, the entry's metadata and its content and
payload digests, never the content itself: a lawful disposal may empty the content and the
chain still verifies, while any change to what remains breaks it from that entry on.
"""

from __future__ import annotations

import hashlib
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
    return item_identity_json_of(
        platform=item.platform,
        remote_id=item.remote_id,
        kind=item.kind,
        direction=item.direction,
        author_handle=item.author_handle,
        author_name=item.author_name,
        author_platform_id=item.author_platform_id,
        parent=item.parent_remote_id,
        thread=item.thread_remote_id,
        permalink=item.permalink,
        visibility=item.visibility,
        created_json=_json_iso(item.created_at),
        first_seen_json=_json_iso(item.first_seen_at),
    )


def item_identity_json_of(
    *,
    platform: str,
    remote_id: str,
    kind: str,
    direction: str,
    author_handle: str,
    author_name: str,
    author_platform_id: str,
    parent: str,
    thread: str,
    permalink: str,
    visibility: str,
    created_json: str,
    first_seen_json: str,
) -> str:
    """`item_identity_json` from the values themselves, the timestamps already as JSON.

    For `capture_batch`, which has the values of a new item in hand (and each item's
    `created_at` already in ISO form for its row) and no object to read them from.
    """
    s = json_string
    return (
        f'{{"author_handle":{s(author_handle)},"author_name":{s(author_name)},'
        f'"author_platform_id":{s(author_platform_id)},'
        f'"created_at":{created_json},"direction":{s(direction)},'
        f'"first_seen_at":{first_seen_json},"kind":{s(kind)},'
        f'"parent":{s(parent)},"permalink":{s(permalink)},'
        f'"platform":{s(platform)},"remote_id":{s(remote_id)},'
        f'"thread":{s(thread)},"visibility":{s(visibility)}}}'
    )


def version_chain_digest(previous: str, seq: int, identity_json: str, version: Any) -> str:
    """`chain_digest(previous, seq, version_entry(item, version))`, written out directly.

    The capture hot path: the same bytes (keys in sorted order, each value in its canonical
    form; a test holds the two together and `narvaro verify` recomputes with the general
    form), without building and sorting the dictionaries for every version.
    """
    return version_chain_digest_of(
        previous,
        int(seq),
        identity_json,
        int(version.number),
        version.content_digest,
        version.payload_digest,
        version_chain_tail(version.recorded_at, version.source),
    )


def version_chain_tail(recorded_at: Any, source: str) -> str:
    """The part of a version's chain entry that a whole batch shares (time and source)."""
    return f',"recorded_at":{_json_iso(recorded_at)},"source":{json_string(source)}}},"previous":'


def version_chain_digest_of(
    previous: str,
    seq: int,
    identity_json: str,
    number: int,
    content_digest: str,
    payload_digest: str,
    tail: str,
) -> str:
    """`version_chain_digest` from the values (`number` and `seq` as `int`), `tail` from
    `version_chain_tail`."""
    s = json_string
    return hashlib.sha256(
        (
            f'{{"entry":{{"content_digest":{s(content_digest)},"entry":"version",'
            f'"item":{identity_json},"number":{number},'
            f'"payload_digest":{s(payload_digest)}{tail}{s(previous)},"seq":{seq}}}'
        ).encode()
    ).hexdigest()


@lru_cache(maxsize=256)
def _json_iso(value: Any) -> str:
    stamp = iso(value)
    return "null" if stamp is None else json_string(stamp)
