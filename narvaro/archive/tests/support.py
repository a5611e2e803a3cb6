"""Captures for tests: real-shaped values without a platform behind them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from narvaro.archive.capture import CaptureInput, EventInput, MediaInput


def a_capture(
    remote_id: str = "1001", text: str = "Hej! När öppnar biblioteket?", **extra: Any
) -> CaptureInput:
    payload = {"id": remote_id, "text": text, "favorite_count": extra.pop("likes", 0)}
    fields: dict[str, Any] = {
        "platform": "mastodon",
        "remote_id": remote_id,
        "kind": "comment",
        "direction": "received",
        "text": text,
        "raw_payload": json.dumps(payload, ensure_ascii=False),
        "author_handle": "@anna@social.example",
        "author_name": "Anna",
        "author_platform_id": "42",
        "permalink": f"https://social.example/@anna/{remote_id}",
        "created_at": dt.datetime(2026, 3, 5, 16, 44, 51, tzinfo=dt.UTC),
    }
    fields.update(extra)
    return CaptureInput(**fields)


def a_deletion(remote_id: str = "1001") -> EventInput:
    return EventInput(
        platform="mastodon",
        remote_id=remote_id,
        type="deleted",
        occurred_at=dt.datetime(2026, 3, 6, 9, 0, tzinfo=dt.UTC),
    )


def an_image(
    name: str = "photo.jpg",
    content: bytes = b"\xff\xd8\xff fake jpeg bytes",
    alt: str = "A library",
) -> MediaInput:
    return MediaInput(original_name=name, content=content, content_type="image/jpeg", alt_text=alt)


# Two real PNG files, as platforms deliver them (the channels' fixtures).
FIXTURES = Path(__file__).resolve().parents[2] / "channels" / "tests" / "fixtures"
READING_ROOM_PNG = FIXTURES / "mastodon" / "media__reading_room.png"
TWEET_PNG = (
    FIXTURES
    / "x"
    / "archive__small"
    / "data"
    / "tweets_media"
    / ("2029000000000000001-HCaaaaaaWoAAbbbb.png")
)


def a_png(name: str, path: Path = READING_ROOM_PNG, alt: str = "A picture") -> MediaInput:
    """An attachment whose file is a real PNG the printout can draw."""
    return MediaInput(
        original_name=name, content=path.read_bytes(), content_type="image/png", alt_text=alt
    )
