"""`narvaro worker` runs queued tasks from the database and enqueues due periodic jobs."""

from __future__ import annotations

import tempfile

from django.test import SimpleTestCase

from narvaro.core.tests.test_cli import run_narvaro

READ_RESULTS = (
    "from django_tasks_db.models import DBTaskResult; "
    "print(sorted((r.task_path, r.status) for r in DBTaskResult.objects.all()))"
)


class WorkerTests(SimpleTestCase):
    def test_the_worker_runs_a_queued_task_and_the_scheduler_enqueues_due_jobs(self) -> None:
        home = tempfile.mkdtemp(prefix="narvaro-worker-")
        self.assertEqual(run_narvaro("manage", "migrate", "-v0", home=home).returncode, 0)
        enqueue = "from narvaro.core.tasks import prune_task_results; prune_task_results.enqueue()"
        self.assertEqual(run_narvaro("manage", "shell", "-c", enqueue, home=home).returncode, 0)

        result = run_narvaro(
            "worker", "--batch", "--no-startup-delay", "--scheduler-interval", "0.1", home=home
        )
        self.assertEqual(result.returncode, 0, result.stderr)

        results = run_narvaro("manage", "shell", "-c", READ_RESULTS, home=home).stdout
        self.assertIn("('narvaro.core.tasks.prune_task_results', 'SUCCESSFUL')", results)
