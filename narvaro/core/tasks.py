"""Background tasks of the core. Tasks take ids, never model instances, and call services."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

TASK_RESULT_RETENTION = dt.timedelta(days=30)


@task()
def prune_task_results() -> int:
    """Delete finished task results older than 30 days (they are operational, not records)."""
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - TASK_RESULT_RETENTION
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted
