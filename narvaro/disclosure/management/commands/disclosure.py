"""`narvaro manage disclosure list|show|render`: requests for public records from the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone, translation

from narvaro.disclosure import selectors, services
from narvaro.disclosure.models import RecordsRequest
from narvaro.lib.commands import OneLineErrorsMixin


def _request(pk: int) -> RecordsRequest:
    try:
        return RecordsRequest.objects.select_related("handler").get(pk=pk)
    except RecordsRequest.DoesNotExist as exc:
        raise CommandError(f"no request for public records with id {pk}") from exc


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Requests for public records. `list` shows the open requests, most urgent first "
        "(past day 3, past day 1, then closest to a decision), with the time since receipt. "
        "`show ID` lists a request's records and decisions. `render ID --out PATH` writes a "
        "working copy of the printout (every record not withheld, masks applied) as PDF, or "
        "PDF/A with --pdf-a; it is written to the audit log as an export."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("list", help="Open requests, most urgent first.")
        show = actions.add_parser("show", help="One request and its records.")
        show.add_argument("request_id", type=int)
        render = actions.add_parser("render", help="Write the printout of a request.")
        render.add_argument("request_id", type=int)
        render.add_argument("--out", required=True, type=Path, help="Where to write the PDF.")
        render.add_argument("--pdf-a", action="store_true", help="Write PDF/A-3b.")
        render.add_argument("--language", choices=["sv", "en"], default="sv")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "render":  # the printout is in the language asked for
            self._render(options)
            return
        # The terminal output is English throughout, the labels of statuses and decisions too.
        with translation.override("en"):
            getattr(self, f"_{options['action']}")(options)

    def _list(self, options: dict[str, Any]) -> None:
        from narvaro.archive.management.commands.records import operator

        flags = {3: "PAST DAY 3", 1: "past day 1", 0: "today"}
        now = timezone.now()
        rows = list(selectors.request_list_for_user(operator()))
        if not rows:
            self.stdout.write("no open requests")
        for row in rows:
            hours = int((now - row.received_at).total_seconds() // 3600)
            self.stdout.write(
                f"{row.pk}\t{flags[row.overdue]}\t{hours} h\t"
                f"{row.item_count} records ({row.undecided_count} undecided)\t{row.scope[:60]}"
            )

    def _show(self, options: dict[str, Any]) -> None:
        records_request = _request(options["request_id"])
        figures = selectors.request_figures(records_request)
        self.stdout.write(
            f"{records_request} ({records_request.get_status_display()}), received "
            f"{timezone.localtime(records_request.received_at):%Y-%m-%d %H:%M}, "
            f"handled by {records_request.handler}\n{records_request.scope}"
        )
        flag = {3: "PAST THE END OF DAY 3", 1: "past the end of day 1", 0: "decide today"}
        hours = int(figures.elapsed.total_seconds() // 3600)
        self.stdout.write(
            f"{flag[figures.overdue]}; {hours} h since receipt; days are working days\n"
            f"end of day 1: {timezone.localtime(figures.day1_end):%Y-%m-%d %H:%M}\n"
            f"end of day 3: {timezone.localtime(figures.day3_end):%Y-%m-%d %H:%M}"
        )
        for selection in figures.sensitive:
            # Selected by sensitive personal data (R26): assess under OSL 21 kap. 7 §.
            self.stdout.write(
                f"sensitive data, assess under OSL 21 kap. 7 §: {selection.category}: "
                f"{'named in the request; ' if selection.in_scope else ''}"
                f"{selection.searched} found by a search naming it; "
                f"{selection.records} records mention it"
            )
        for ri in selectors.request_items(records_request):
            self.stdout.write(
                f"{ri.item.platform}:{ri.item.remote_id}\t{ri.get_decision_display()}\t"
                f"{ri.legal_ground or '-'}\tmasked {getattr(ri, 'masked', 0)}, "
                f"to review {getattr(ri, 'suggested', 0)}"
            )

    def _render(self, options: dict[str, Any]) -> None:
        records_request = _request(options["request_id"])
        out: Path = options["out"]
        if not out.parent.is_dir():
            raise CommandError(f"--out: folder {out.parent} does not exist")
        pdf = services.request_printout(
            actor=None,
            records_request=records_request,
            pdf_a=options["pdf_a"],
            language=options["language"],
            via="command line",
        )
        # Written whole or not at all: a half-written printout is never left behind.
        partial = out.with_name(out.name + ".part")
        partial.write_bytes(pdf)
        partial.replace(out)
        self.stdout.write(f"wrote {out} ({len(pdf)} bytes)")
