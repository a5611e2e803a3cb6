"""Periodic jobs are enqueued once per period, however many workers run the scheduler."""

from __future__ import annotations

import datetime as dt

from django.test import TestCase
from django.utils import timezone

from narvaro.core.models import ScheduledJob
from narvaro.core.scheduler import registered_jobs, scheduled_jobs_sync, scheduler_tick


class SchedulerTests(TestCase):
    def test_registered_jobs_get_a_row_once_and_keep_admins_changes(self) -> None:
        scheduled_jobs_sync()
        job = ScheduledJob.objects.get(name="prune-task-results")
        job.interval_seconds = 7200
        job.save()
        scheduled_jobs_sync()
        self.assertEqual(ScheduledJob.objects.get(name="prune-task-results").interval_seconds, 7200)

    def test_a_due_job_is_enqueued_once_and_moved_to_its_next_run(self) -> None:
        scheduled_jobs_sync()
        now = timezone.now()
        # Every registered job is due on its first tick: the archive's fixity check, the
        # harvest of connected accounts, the retention dry runs and the task-result pruning.
        expected = sorted(job.name for job in registered_jobs())
        self.assertTrue({"fixity-check", "prune-task-results"} <= set(expected), expected)
        self.assertEqual(scheduler_tick(now), expected)
        self.assertEqual(scheduler_tick(now), [])  # a second worker at the same moment
        job = ScheduledJob.objects.get(name="prune-task-results")
        self.assertEqual(job.next_run_at, now + dt.timedelta(days=1))
        self.assertNotEqual(job.last_result_id, "")

    def test_a_stale_read_cannot_enqueue_twice(self) -> None:
        scheduled_jobs_sync()
        stale = ScheduledJob.objects.get(name="prune-task-results")
        scheduler_tick()
        claimed = ScheduledJob.objects.filter(pk=stale.pk, next_run_at=stale.next_run_at).update(
            next_run_at=timezone.now()
        )
        self.assertEqual(claimed, 0)

    def test_a_paused_job_is_not_enqueued(self) -> None:
        scheduled_jobs_sync()
        ScheduledJob.objects.update(enabled=False)
        self.assertEqual(scheduler_tick(), [])
