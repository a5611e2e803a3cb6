"""The inbox's receivers of archive signals."""

from __future__ import annotations

from typing import Any


def derive_after_capture(sender: object, *, item_ids: list[int], **kwargs: Any) -> None:
    """New items in the archive: derive their conversations in the background."""
    if not item_ids:
        return
    from narvaro.archive.feed import feed_task_enqueue
    from narvaro.inbox.tasks import inbox_derive

    feed_task_enqueue(inbox_derive)


def follow_revised_categories(
    sender: object, *, changes: dict[int, tuple[str, str]], **kwargs: Any
) -> None:
    """The classifier read items again: the conversations they opened take the new category."""
    from narvaro.inbox.services import conversations_category_follow

    conversations_category_follow(changes)
