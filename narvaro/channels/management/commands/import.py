"""`narvaro import FORMAT PATH --account PLATFORM:HANDLE`: bring an export into the archive."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from narvaro.archive.services import BatchResult
from narvaro.channels import services
from narvaro.channels.importers import IMPORTERS, importer_class
from narvaro.channels.importers.base import ImportFormatError
from narvaro.channels.models import Platform
from narvaro.lib.commands import OneLineErrorsMixin

FORMAT_PLATFORM = {
    "x": Platform.X,
    "mastodon": Platform.MASTODON,
    "bluesky": Platform.BLUESKY,
    "facebook": Platform.FACEBOOK,
    "instagram": Platform.INSTAGRAM,
}


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Import a platform export into the archive: x (archive .zip or folder), mastodon "
        "(export .tar.gz or folder), bluesky (repository .car), facebook and instagram "
        '("download your information" JSON). The export is checked whole before anything is '
        "stored; then it is stored in batches, each in one transaction. Re-running an import "
        "adds nothing; a re-run after an interruption completes it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("format", choices=sorted(IMPORTERS))
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--account", required=True, help="PLATFORM:HANDLE of the account, e.g. x:@strandvik"
        )
        parser.add_argument(
            "--unit", help="Short name of the unit to create the account in, if it does not exist"
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print one JSON object."
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        fmt: str = options["format"]
        path: Path = options["path"]
        as_json: bool = options["as_json"]
        if not path.exists():
            raise CommandError(f"{path}: no such file or folder")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        # Check the command line first, then the export, and only then create a missing
        # account: a refused import must leave the database exactly as it was.
        handle = services.account_import_target_check(
            spec=options["account"], platform=FORMAT_PLATFORM[fmt], unit_slug=options["unit"]
        )
        importer = importer_class(fmt)(path, account_handle=handle)
        totals = BatchResult()
        unheld: list[str] = []
        try:
            try:
                total = importer.validate()
            except ImportFormatError as exc:
                self._fail(as_json, str(exc))
                return
            account = services.account_for_import(
                spec=options["account"], platform=FORMAT_PLATFORM[fmt], unit_slug=options["unit"]
            )
            console = Console(file=sys.stderr)
            with Progress(
                TextColumn(f"Importing {path.name}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
                disable=as_json,
            ) as progress:
                task = progress.add_task("import", total=total)
                for batch in importer.batches(options["batch_size"]):
                    size = len(batch)
                    unheld.extend(
                        f"{event.type} event for {event.remote_id}: "
                        "the archive does not hold this item"
                        for event in services.import_events_unheld(batch=batch)
                    )
                    result = services.import_batch_store(
                        account=account, batch=batch, format_name=fmt
                    )
                    totals.add(result)
                    progress.advance(task, size)
        finally:
            importer.close()
        services.import_record(account=account, format_name=fmt, path=str(path), result=totals)
        report: dict[str, Any] = {
            "items": totals.items,
            "versions": totals.versions,
            "deletions": totals.deletions,
            "media": totals.media,
            "duplicates_skipped": totals.duplicates_skipped,
            "media_missing": totals.media_missing,
            "errors": [f"missing media: {name}" for name in totals.missing_media_names]
            + unheld
            + importer.warnings,
        }
        if as_json:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
        else:
            self.stdout.write(
                f"{report['items']} new items, {report['versions']} new versions, "
                f"{totals.events} new events, {report['media']} media stored, "
                f"{report['media_missing']} media missing, "
                f"{report['duplicates_skipped']} already in the archive"
            )
            for line in report["errors"][:50]:
                self.stdout.write(f"  {line}")

    def _fail(self, as_json: bool, message: str) -> None:
        if as_json:
            empty = dict.fromkeys(
                ["items", "versions", "deletions", "media", "duplicates_skipped", "media_missing"],
                0,
            )
            self.stdout.write(json.dumps({**empty, "errors": [message]}, ensure_ascii=False))
            sys.exit(1)
        raise CommandError(f"Nothing was imported. {message}")
