"""Background tasks of moderation: the queue follows the archive; the monitor watches it."""

from __future__ import annotations

from django_tasks import task


@task()
def moderation_queue_fill() -> dict[str, object]:
    """Queue the inbound items captured since the last run (from the archive feed's cursor)."""
    from narvaro.moderation.services import queue_fill

    return {"items": queue_fill()}


@task()
def moderation_supervise() -> dict[str, object]:
    """The supervision monitor (R15): alerts for queues left unreviewed for 24 h and 7 days."""
    from narvaro.moderation.services import supervision_check

    return {"alerts": [alert.pk for alert in supervision_check()]}
