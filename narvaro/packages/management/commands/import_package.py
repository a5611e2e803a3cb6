"""`narvaro import narvaro-bagit PATH`: restore an exported package into an empty archive."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from narvaro.lib.commands import OneLineErrorsMixin
from narvaro.packages.restore import PackageError, PackageRestorer


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Restore a BagIt package made by `narvaro export bagit` (a folder or its .zip) into an "
        "archive that does not hold its accounts' records yet. The whole package is checked "
        "first (manifests, JSON Schemas, digests and each account's hash chain) and nothing is "
        "stored if anything is wrong. Accounts and units missing here are created (accounts as "
        "proposed). Items, versions and events are stored through the archive's capture "
        "service; the original chain values are kept beside them (docs/archive-format.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print one JSON object."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.exists():
            raise CommandError(f"{path}: no such file or folder")
        restorer = PackageRestorer(path)
        try:
            try:
                total = restorer.validate()
            except PackageError as exc:
                raise CommandError(f"Nothing was imported. {exc}") from exc
            with Progress(
                TextColumn(f"Restoring {path.name}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=sys.stderr),
                transient=True,
                disable=options["as_json"],
            ) as progress:
                task = progress.add_task("restore", total=total)
                result = restorer.restore(lambda n: progress.advance(task, n))
        finally:
            restorer.close()
        report = {
            "entries": result.entries,
            "items": result.batch.items,
            "versions": result.batch.versions,
            "events": result.batch.events,
            "media": result.batch.media,
            "accounts_created": result.accounts_created,
        }
        if options["as_json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
            return
        self.stdout.write(
            f"{report['items']} items, {report['versions']} versions, {report['events']} events "
            f"restored; {len(result.accounts_created)} accounts created"
        )
