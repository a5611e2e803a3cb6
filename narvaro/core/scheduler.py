"""Periodic jobs: apps register them; the worker's scheduler enqueues them when due.

The schedule lives in the database (`ScheduledJob`), so an admin can pause or re-time a job
and any number of workers can run the scheduler: a due job is claimed with a conditional
UPDATE on `next_run_at`, and only the worker whose UPDATE matched enqueues it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from narvaro.core.models import ScheduledJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task_path: str
    interval: dt.timedelta


_REGISTRY: dict[str, PeriodicJob] = {}


def register_periodic(name: str, task_path: str, interval: dt.timedelta) -> None:
    """Declare a periodic job (called from an AppConfig.ready)."""
    _REGISTRY[name] = PeriodicJob(name=name, task_path=task_path, interval=interval)


def registered_jobs() -> list[PeriodicJob]:
    return sorted(_REGISTRY.values(), key=lambda job: job.name)


@transaction.atomic
def scheduled_jobs_sync() -> list[ScheduledJob]:
    """Create a row for each registered job; keep admins' timing of existing ones.

    The task a job runs always follows the code, so a renamed task takes effect on upgrade.
    """
    rows = []
    for job in registered_jobs():
        ScheduledJob.objects.filter(name=job.name).exclude(task_path=job.task_path).update(
            task_path=job.task_path
        )
        row, _ = ScheduledJob.objects.get_or_create(
            name=job.name,
            defaults={
                "task_path": job.task_path,
                "interval_seconds": int(job.interval.total_seconds()),
                "next_run_at": timezone.now(),
            },
        )
        rows.append(row)
    return rows


def scheduler_tick(now: dt.datetime | None = None) -> list[str]:
    """Enqueue every job that is due and return their names.

    Each job is claimed by moving `next_run_at` forward only if it still holds the value we
    read; a second worker reading the same row finds its UPDATE matching nothing.
    """
    now = now or timezone.now()
    enqueued: list[str] = []
    for job in ScheduledJob.objects.filter(enabled=True, next_run_at__lte=now):
        next_run = now + dt.timedelta(seconds=job.interval_seconds)
        with transaction.atomic():
            claimed = ScheduledJob.objects.filter(pk=job.pk, next_run_at=job.next_run_at).update(
                next_run_at=next_run, last_enqueued_at=now
            )
            if not claimed:
                continue
            try:
                task = import_string(job.task_path)
            except ImportError:
                logger.error(
                    "scheduled job %s names a task that does not exist: %s", job.name, job.task_path
                )
                continue
            result = task.enqueue()
            ScheduledJob.objects.filter(pk=job.pk).update(last_result_id=str(result.id))
        enqueued.append(job.name)
    return enqueued
