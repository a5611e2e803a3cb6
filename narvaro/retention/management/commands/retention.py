"""`narvaro retention run --rule ID [--commit] [--json]`: gallring from the command line (R27)."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from narvaro.lib.commands import OneLineErrorsMixin
from narvaro.retention import services
from narvaro.retention.models import DisposalRun, RetentionRule
from narvaro.retention.selectors import run_entries


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Apply a retention rule. `retention run --rule ID` is a dry run: it lists the items "
        "the rule would dispose of now (older than its period, outside every legal hold), "
        "keeps the list as a run a registrar can commit on the web, and changes nothing. "
        "With --commit the listed items are disposed of at once: their content and media are "
        "destroyed, their digests kept, and each version is written to the gallring log. "
        "With no rule nothing is ever disposed of."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        run = actions.add_parser(
            "run", help="List (and with --commit dispose of) a rule's records."
        )
        run.add_argument("--rule", type=int, required=True, help="The rule's number (id).")
        run.add_argument(
            "--commit", action="store_true", help="Dispose of what is listed (cannot be undone)."
        )
        run.add_argument("--json", action="store_true", dest="as_json", help="Print JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        rule = RetentionRule.objects.filter(pk=options["rule"]).first()
        if rule is None:
            raise CommandError(f"no retention rule {options['rule']}")
        try:
            run = services.disposal_run_create(actor=None, rule=rule)
            if options["commit"]:
                run = services.disposal_run_commit(actor=None, run=run)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self._report(run, as_json=options["as_json"])

    def _report(self, run: DisposalRun, *, as_json: bool) -> None:
        entries = list(run_entries(run))
        if as_json:
            data = {
                "run": run.pk,
                "rule": run.rule_id,
                "decision": run.rule.decision_reference,
                "state": run.state,
                "cutoff": run.cutoff.isoformat(),
                "items": [
                    {
                        "item": entry.item_id,
                        "platform": entry.item.platform,
                        "remote_id": entry.item.remote_id,
                        "account": str(entry.item.account),
                        "created_at": entry.item.created_at.isoformat()
                        if entry.item.created_at
                        else None,
                        "versions": entry.version_ids,
                        "outcome": entry.outcome,
                    }
                    for entry in entries
                ],
                "disposed_versions": run.disposed_count,
                "skipped_items": run.skipped_count,
            }
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        for entry in entries:
            created = entry.item.created_at.isoformat() if entry.item.created_at else "–"
            self.stdout.write(
                f"{entry.item}  {entry.item.account}  {created}  "
                f"{len(entry.version_ids)} version(s)  {entry.outcome}"
            )
        if run.is_dry_run:
            self.stdout.write(
                f"dry run {run.pk}: {run.item_count} item(s) would be disposed of under "
                f"{run.rule.decision_reference}; nothing was changed (use --commit)"
            )
        else:
            self.stdout.write(
                f"run {run.pk}: {run.disposed_count} version(s) disposed of under "
                f"{run.rule.decision_reference}, {run.skipped_count} item(s) skipped"
            )
