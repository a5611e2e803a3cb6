"""`narvaro worker` runs tasks queued in the database, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from django.test import SimpleTestCase

from narvaro.core.tests.test_cli import run_narvaro

READ_RESULTS = (
    "from django_tasks_db.models import DBTaskResult; "
    "print(sorted((r.task_path, r.status) for r in DBTaskResult.objects.all()))"
)


@contextmanager
def scratch_database() -> Iterator[str | None]:
    """A new empty database on the suite's PostgreSQL server, or None when running on SQLite."""
    url = os.environ.get("NARVARO_DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield None
        return
    import psycopg

    name = f"narvaro_worker_{secrets.token_hex(4)}"
    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class WorkerTests(SimpleTestCase):
    def test_the_worker_runs_a_queued_task_on_the_configured_database(self) -> None:
        home = tempfile.mkdtemp(prefix="narvaro-worker-")
        with scratch_database() as db:
            migrate = run_narvaro("manage", "migrate", "-v0", home=home, database_url=db)
            self.assertEqual(migrate.returncode, 0, migrate.stderr)
            enqueue = (
                "from narvaro.core.tasks import prune_task_results; prune_task_results.enqueue()"
            )
            run_narvaro("manage", "shell", "-c", enqueue, home=home, database_url=db)

            result = run_narvaro(
                "worker",
                "--batch",
                "--no-startup-delay",
                "--scheduler-interval",
                "0.1",
                home=home,
                database_url=db,
            )
            self.assertEqual(result.returncode, 0, result.stderr)

            results = run_narvaro("manage", "shell", "-c", READ_RESULTS, home=home, database_url=db)
        self.assertIn("('narvaro.core.tasks.prune_task_results', 'SUCCESSFUL')", results.stdout)
