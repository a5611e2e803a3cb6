"""The archive as a feed for the apps that derive from it (inbox, radar, moderation).

The archive is the single way in: an app that derives rows from captured items never hooks
into a connector or an importer. It keeps a cursor, the highest item id it has handled, and
`feed_process` hands it the items past that cursor in id order, in chunks, advancing the
cursor in the same transaction as the consumer's own writes. A consumer that fails leaves its
cursor where it was; a consumer that runs twice at once is serialised by the cursor's row lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django_tasks import TaskResultStatus

from narvaro.archive.models import FeedCursor, Item

Handler = Callable[[QuerySet[Item]], None]


def feed_process(
    consumer: str, handle: Handler, *, chunk: int = 500, limit: int | None = None
) -> int:
    """Give `handle` the archive items past `consumer`'s cursor, chunk by chunk; return how many.

    `handle` receives a queryset of at most `chunk` items, ordered by id, and runs inside the
    transaction that advances the cursor. `limit` caps one run (the rest waits for the next).
    """
    done = 0
    while limit is None or done < limit:
        with transaction.atomic():
            cursor, _ = FeedCursor.objects.select_for_update().get_or_create(consumer=consumer)
            ids = list(
                Item.objects.filter(pk__gt=cursor.position)
                .order_by("pk")
                .values_list("pk", flat=True)[:chunk]
            )
            if not ids:
                return done
            handle(Item.objects.filter(pk__in=ids).order_by("pk"))
            cursor.position = ids[-1]
            cursor.save(update_fields=["position"])
            done += len(ids)
    return done


def feed_position(consumer: str) -> int:
    """The id of the last item `consumer` has handled (0 before its first run)."""
    cursor = FeedCursor.objects.filter(consumer=consumer).first()
    return cursor.position if cursor else 0


def feed_backlog(consumer: str) -> int:
    """How many captured items `consumer` has not handled yet."""
    return Item.objects.filter(pk__gt=feed_position(consumer)).count()


_waiting: dict[str, Any] = {}
_waiting_lock = threading.Lock()


def feed_task_enqueue(task: Any) -> None:
    """Enqueue a consumer's feed task, unless this process's last one has not started yet.

    A feed task reads everything past its cursor, so one waiting run covers every batch
    captured before it starts: an import of a million items enqueues a handful of runs, not
    one per batch. With a backend that cannot report a task's state (the immediate backend of
    the tests runs it at once), it is always enqueued.
    """
    key = f"{task.module_path}"
    with _waiting_lock:
        previous = _waiting.get(key)
    if previous is not None and task.get_backend().supports_get_result:
        try:
            previous.refresh()
        except Exception:
            previous = None
        if previous is not None and previous.status == TaskResultStatus.READY:
            return
    result = task.enqueue()
    with _waiting_lock:
        _waiting[key] = result
