"""The archive as a feed for the apps that derive from it (inbox, radar, moderation).

The archive is the single way in: an app that derives rows from captured items never hooks
into a connector or an importer. It keeps a cursor, the highest item id it has handled, and
`feed_process` hands it the items past that cursor in id order, in chunks, advancing the
cursor in the same transaction as the consumer's own writes. A consumer that fails leaves its
cursor where it was; a consumer that runs twice at once is serialised by the cursor's row lock.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models import QuerySet

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
