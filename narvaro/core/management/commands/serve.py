"""`narvaro serve`: the production web server (gunicorn), static files through WhiteNoise."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from narvaro.lib.commands import OneLineErrorsMixin


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Serve Narvaro with gunicorn. Collects static files first and refuses to start while "
        "database migrations are pending (run `narvaro manage migrate`)."
    )
    requires_system_checks = []  # checked explicitly below, with the deploy checks off

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--bind",
            default=os.environ.get("NARVARO_BIND", "127.0.0.1:8000"),
            help="Address and port to listen on (default: %(default)s, or NARVARO_BIND).",
        )
        parser.add_argument(
            "--workers",
            default=os.environ.get("NARVARO_WEB_WORKERS", "2"),
            help="Number of gunicorn worker processes (default: %(default)s).",
        )

    def handle(self, *args: Any, bind: str, workers: str | int, **options: Any) -> None:
        try:
            workers = int(workers)
        except ValueError as exc:
            raise CommandError(
                f"--workers (or NARVARO_WEB_WORKERS) must be a number, not {workers!r}"
            ) from exc
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        self.check()
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError(
                "The database has unapplied migrations. Run `narvaro manage migrate` first."
            )
        connection.close()
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"Narvaro is serving on http://{bind}/ (data in {settings.NARVARO_HOME})")
        run_gunicorn(bind=bind, workers=workers)


def run_gunicorn(*, bind: str, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    from narvaro.config.wsgi import application

    class NarvaroApplication(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", bind)
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("timeout", 60)
            self.cfg.set("graceful_timeout", 20)

        def load(self) -> Any:
            return application

    NarvaroApplication().run()
