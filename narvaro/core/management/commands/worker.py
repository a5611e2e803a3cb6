"""`narvaro worker`: runs background tasks (django-tasks database backend) and the scheduler."""

from __future__ import annotations

import logging
import threading
from argparse import ArgumentParser
from typing import Any

from django.db import close_old_connections, connection
from django_tasks_db.management.commands.db_worker import Command as DBWorkerCommand

from narvaro.core.scheduler import scheduled_jobs_sync, scheduler_tick
from narvaro.lib.commands import OneLineErrorsMixin

logger = logging.getLogger("narvaro.worker")


class Command(OneLineErrorsMixin, DBWorkerCommand):
    help = (
        "Run background tasks and enqueue periodic jobs when they fall due. Any number of "
        "workers may run at once, on one machine or several; each periodic job is enqueued once."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--no-scheduler",
            action="store_false",
            dest="scheduler",
            help="Only run tasks; do not enqueue periodic jobs.",
        )
        parser.add_argument(
            "--scheduler-interval",
            type=float,
            default=30.0,
            help="Seconds between checks for due periodic jobs (default: %(default)s).",
        )
        parser.set_defaults(reload=False, queue_name="*")

    def handle(  # type: ignore[override]  # adds the scheduler options
        self, *args: Any, scheduler: bool, scheduler_interval: float, **options: Any
    ) -> None:
        stop = threading.Event()
        if scheduler:
            thread = threading.Thread(
                target=run_scheduler, args=(stop, scheduler_interval), name="scheduler", daemon=True
            )
            thread.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()


def run_scheduler(stop: threading.Event, interval: float) -> None:
    """Sync the registered jobs, then enqueue due ones every `interval` seconds until stopped."""
    try:
        scheduled_jobs_sync()
        while not stop.is_set():
            close_old_connections()
            try:
                for name in scheduler_tick():
                    logger.info("enqueued periodic job %s", name)
            except Exception:
                # A failing tick (e.g. the database briefly locked) must not kill the scheduler.
                logger.exception("scheduler tick failed")
            stop.wait(interval)
    finally:
        connection.close()
