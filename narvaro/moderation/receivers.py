"""The moderation queue follows the archive: a capture starts the queue's catch-up."""

from __future__ import annotations

from typing import Any


def queue_after_capture(sender: Any, **kwargs: Any) -> None:
    """Enqueue the queue fill once a capture batch is committed (the archive feed does the rest)."""
    from narvaro.archive.feed import feed_task_enqueue
    from narvaro.moderation.tasks import moderation_queue_fill as moderation_queue_fill_task

    feed_task_enqueue(moderation_queue_fill_task)
