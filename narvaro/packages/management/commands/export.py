"""`narvaro export bagit|eark --out PATH`: an archival package of the archive (R29, R31)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from narvaro.channels.selectors import account_by_handle
from narvaro.lib.commands import OneLineErrorsMixin
from narvaro.organisation.selectors import get_unit_by_slug
from narvaro.packages import services
from narvaro.packages.output import OutputError
from narvaro.packages.records import entry_count


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date; write it as YYYY-MM-DD") from exc


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Export the archive as an archival package: bagit (BagIt, RFC 8493) or eark (E-ARK "
        "SIP 2.1, FGS Paketstruktur 2.0). The package holds every item, version and event as "
        "JSON Lines with their JSON Schemas, the original payloads verbatim, the media by "
        "SHA-256 and the fixity report; --renderings adds PDF/A printouts. Limit it to one "
        "account (--account PLATFORM:HANDLE), a unit and the units below it (--unit SLUG) or "
        "items dated in a period (--from/--to, local days). --out names a new folder, or a zip "
        "file when it ends in .zip; the package is built beside it and renamed into place, so "
        "nothing half-written is left. Every export is written to the audit log."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("format", choices=["bagit", "eark"])
        parser.add_argument("--out", required=True, type=Path, help="New folder or .zip file")
        parser.add_argument("--account", help="PLATFORM:HANDLE, e.g. mastodon:@kultur@x.example")
        parser.add_argument("--unit", help="Short name of a unit (includes the units below it)")
        parser.add_argument("--from", dest="date_from", help="First day, YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", help="Last day, YYYY-MM-DD")
        parser.add_argument(
            "--renderings", action="store_true", help="Add PDF/A renderings of the threads"
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print one JSON object."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        account = unit = None
        if options["account"]:
            platform, sep, handle = options["account"].partition(":")
            if not sep or not handle:
                raise CommandError(f"--account {options['account']!r}: write it as PLATFORM:HANDLE")
            account = account_by_handle(platform, handle)
            if account is None:
                raise CommandError(f"--account {options['account']!r}: no such account")
        if options["unit"]:
            unit = get_unit_by_slug(options["unit"])
            if unit is None:
                raise CommandError(f"--unit {options['unit']!r}: no unit has that short name")
        date_from = _date(options["date_from"]) if options["date_from"] else None
        date_to = _date(options["date_to"]) if options["date_to"] else None
        out: Path = options["out"]
        scope = services.package_scope(account=account, unit=unit)
        console = Console(file=sys.stderr)
        try:
            with Progress(
                TextColumn(f"Exporting {out.name}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
                disable=options["as_json"],
            ) as progress:
                task = progress.add_task("export", total=entry_count(scope))
                export, built = services.package_export_to_path(
                    actor=None,
                    kind=options["format"],
                    out=out,
                    account=account,
                    unit=unit,
                    date_from=date_from,
                    date_to=date_to,
                    renderings=options["renderings"],
                    progress=lambda n: progress.advance(task, n),
                )
        except (OutputError, ValidationError) as exc:
            message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            raise CommandError(f"Nothing was exported. {message}") from exc
        report = {
            "package": str(out),
            "format": options["format"],
            "export": export.pk,
            **built.records.as_dict(),
            "renderings": built.renderings,
        }
        if options["as_json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
            return
        self.stdout.write(
            f"{out}: {report['accounts']} accounts, {report['items']} items, "
            f"{report['versions']} versions, {report['events']} events, "
            f"{report['media']} media files, {len(built.renderings)} renderings"
        )
        for problem in built.records.problems[:50]:
            self.stdout.write(
                f"  BROKEN {problem['account']} {problem['reference']}: {problem['detail']}"
            )
