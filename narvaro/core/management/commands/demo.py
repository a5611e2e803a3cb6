"""`narvaro demo`: set up the demo municipality and run the server and the worker together."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from narvaro.core.demo import ORGANISATION, DemoLogin, demo_load
from narvaro.lib.commands import OneLineErrorsMixin


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Migrate the database, load the demo organisation (idempotent) and start the web "
        "server and the worker. With --load-only, load and exit."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--load-only", action="store_true", help="Load the demo data and exit.")
        parser.add_argument(
            "--bind",
            default=os.environ.get("NARVARO_BIND", "127.0.0.1:8000"),
            help="Address and port for the server (default: %(default)s).",
        )

    def handle(self, *args: Any, load_only: bool, bind: str, **options: Any) -> None:
        console = Console(file=self.stdout, force_terminal=False, soft_wrap=True)  # type: ignore[arg-type]
        steps = [
            ("Migrating the database", self._migrate),
            ("Loading the demo organisation", demo_load),
        ]
        if not load_only:
            steps.append(("Collecting static files", self._collectstatic))
        logins: list[DemoLogin] = []
        with Progress(
            TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            overall = progress.add_task("Setting up the demo", total=len(steps))
            for description, step in steps:
                progress.update(overall, description=description)
                result = step()
                if isinstance(result, list):
                    logins = result
                progress.advance(overall)
        self._print_logins(console, logins, bind)
        if load_only:
            return
        connection.close()
        self._run_server_and_worker(console, bind)

    def _migrate(self) -> None:
        call_command("migrate", interactive=False, verbosity=0, stdout=io.StringIO())

    def _collectstatic(self) -> None:
        call_command("collectstatic", interactive=False, verbosity=0, stdout=io.StringIO())

    def _print_logins(self, console: Console, logins: list[Any], bind: str) -> None:
        table = Table(title=f"{ORGANISATION} – demo logins", show_lines=False)
        table.add_column("username")
        table.add_column("password")
        table.add_column("role")
        for login in logins:
            table.add_row(login.username, login.password, login.description)
        console.print(table)
        for login in logins:
            if login.totp_secret:
                # Printed in full on their own lines: a truncated key cannot be typed in.
                console.print(
                    f"{login.username} needs a second factor. Authenticator key: "
                    f"{login.totp_secret}\n  or one of these single-use backup codes: "
                    f"{' '.join(login.backup_codes)}",
                    overflow="ignore",
                    crop=False,
                )
        console.print(f"Data folder: {settings.NARVARO_HOME}")
        console.print(f"Narvaro demo address: http://{bind}/")

    def _run_server_and_worker(self, console: Console, bind: str) -> None:
        narvaro = [sys.executable, "-m", "narvaro"]
        env = os.environ.copy()
        env.setdefault("NARVARO_ORGANISATION_NAME", ORGANISATION)
        # The demo is served over plain http on this machine, where secure cookies would
        # keep browsers other than Chromium from signing in.
        env.setdefault("NARVARO_SECURE_COOKIES", "false")
        server = subprocess.Popen([*narvaro, "serve", "--bind", bind], env=env)  # noqa: S603
        worker = subprocess.Popen([*narvaro, "worker"], env=env)  # noqa: S603
        children = [server, worker]

        def stop(*_: Any) -> None:
            for child in children:
                if child.poll() is None:
                    child.terminate()

        signal.signal(signal.SIGTERM, stop)
        try:
            if not _wait_until_up(f"http://{bind}/health/", server):
                stop()
                raise CommandError("The web server did not start; see the messages above.")
            console.print(f"Narvaro is running at http://{bind}/ – press Ctrl+C to stop.")
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            for child in children:
                try:
                    child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.kill()


def _wait_until_up(url: str, server: subprocess.Popen[bytes], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own server)
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False
