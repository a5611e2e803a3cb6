"""`narvaro registry export --out PATH`: registry entries as JSON for case management (R13)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from narvaro.lib.commands import OneLineErrorsMixin
from narvaro.retention.models import RegistryEntry
from narvaro.retention.services import registry_export


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Export every registry entry (records registered as a case or as secret) as JSON for "
        "the organisation's case-management system: case number, date received, sender, "
        "short description, case officer and the records with both timestamps. The export "
        "is written to the audit log."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        export = actions.add_parser("export", help="Write the registry as JSON.")
        export.add_argument("--out", required=True, type=Path, help="The file to write.")

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        if not out.parent.is_dir():
            raise CommandError(f"{out.parent}: no such folder")
        entries = list(
            RegistryEntry.objects.select_related("created_by").order_by("created_at", "id")
        )
        content = registry_export(actor=None, entries=entries, via="command line")
        # Written beside the target and renamed, so a failed write leaves no half file.
        partial = out.with_name(out.name + ".partial")
        partial.write_text(content, encoding="utf-8")
        partial.replace(out)
        self.stdout.write(
            f"{len(entries)} registry entr{'y' if len(entries) == 1 else 'ies'} -> {out}"
        )
