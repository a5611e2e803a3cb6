"""`narvaro verify`: recompute every digest and chain of the archive; exit 1 if anything broke."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from narvaro.archive.fixity import verify_archive
from narvaro.archive.models import ItemEvent, ItemVersion, MediaFile
from narvaro.lib.commands import OneLineErrorsMixin


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Verify the archive: recompute the content and payload digest of every version, every "
        "account's hash chain and the SHA-256 of every media file. Exits 0 when everything is "
        "intact and 1 otherwise, naming each broken item."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print one JSON object."
        )

    def handle(self, *args: Any, as_json: bool = False, **options: Any) -> None:
        if as_json:
            report = verify_archive()
            self.stdout.write(_dumps(report.as_dict()))
        else:
            total = (
                ItemVersion.objects.count() + ItemEvent.objects.count() + MediaFile.objects.count()
            )
            console = Console(file=sys.stderr)
            with Progress(
                TextColumn("Verifying"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("verify", total=total)
                report = verify_archive(lambda n: progress.advance(task, n))
            for problem in report.problems:
                self.stdout.write(f"BROKEN {problem.kind}: {problem.reference}: {problem.detail}")
            self.stdout.write(
                f"{report.versions} versions, {report.events} events, "
                f"{report.media_files} media files in {report.accounts} account chains: "
                + ("intact" if report.intact else f"{len(report.problems)} problem(s)")
            )
        if not report.intact:
            sys.exit(1)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
