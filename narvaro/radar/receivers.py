"""Receivers of the archive's signals: they only start work (see `archive.signals`)."""

from __future__ import annotations

from typing import Any


def classify_captured(sender: object, *, item_ids: list[int], **kwargs: Any) -> None:
    """A capture batch was committed: classify its items in the background (from the feed)."""
    if not item_ids:
        return
    from narvaro.archive.feed import feed_task_enqueue
    from narvaro.radar.tasks import classify_feed as classify_feed_task

    feed_task_enqueue(classify_feed_task)
