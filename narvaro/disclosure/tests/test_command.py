"""`narvaro manage disclosure`: list by urgency, show, and render a printout (logged)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from django.core.management import CommandError, call_command
from django.utils import translation
from pypdf import PdfReader

from narvaro.archive.models import Item
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture
from narvaro.core.models import AuditEvent
from narvaro.disclosure import services
from narvaro.disclosure.tests.test_rendering import pdf_text
from narvaro.disclosure.tests.test_services import at, new_request
from narvaro.lib.testing import NarvaroTestCase


class DisclosureCommandTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        capture_batch(
            account=self.account_a,
            captures=[a_capture("c1", "Ring 070-123 45 67"), a_capture("c2", "Hemligt")],
            source="test",
        )
        self.records_request = new_request(self.rita, received_at=at(2026, 1, 5, 9))
        services.request_items_add(
            actor=self.rita, records_request=self.records_request, items=Item.objects.all()
        )
        c2 = self.records_request.items.get(item__remote_id="c2")
        services.request_item_decide(
            actor=self.rita, request_item=c2, decision="withhold", legal_ground="OSL 21 kap. 1 §"
        )
        c1 = self.records_request.items.get(item__remote_id="c1")
        services.redaction_review(
            actor=self.rita,
            redaction=c1.redactions.get(),
            accept=True,
            legal_ground="OSL 21 kap. 7 §",
        )

    def run_command(self, *args: str) -> str:
        out = io.StringIO()
        call_command("disclosure", *args, stdout=out)
        return out.getvalue()

    def test_list_and_show(self) -> None:
        listed = self.run_command("list")
        self.assertIn(f"{self.records_request.pk}\tPAST DAY 3\t", listed)
        self.assertIn("2 records (1 undecided)", listed)
        shown = self.run_command("show", str(self.records_request.pk))
        self.assertIn("mastodon:c2\tWithhold\tOSL 21 kap. 1 §", shown)
        self.assertIn("mastodon:c1\tNot decided\t-\tmasked 1, to review 0", shown)

    def test_the_terminal_output_is_one_language_whatever_the_interface_language(self) -> None:
        with translation.override("sv"):
            shown = self.run_command("show", str(self.records_request.pk))
        self.assertIn("mastodon:c2\tWithhold\tOSL 21 kap. 1 §", shown)
        self.assertIn("(Open), received", shown)
        self.assertNotIn("Sekretess", shown)

    def test_show_prompts_the_assessment_for_a_sensitive_selection_r26(self) -> None:
        self.assertNotIn("sensitive data", self.run_command("show", str(self.records_request.pk)))
        records_request = new_request(self.rita, scope="Allt om min diagnos.")
        shown = self.run_command("show", str(records_request.pk))
        self.assertIn(
            "sensitive data, assess under OSL 21 kap. 7 §: health: named in the request; "
            "0 found by a search naming it; 0 records mention it",
            shown,
        )

    def test_render_writes_the_masked_printout_without_withheld_records(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "begaran.pdf"
            printed = self.run_command(
                "render", str(self.records_request.pk), "--out", str(out), "--pdf-a"
            )
            self.assertIn(f"wrote {out}", printed)
            pdf = out.read_bytes()
            self.assertEqual(list(Path(folder).iterdir()), [out])
        text = pdf_text(pdf)
        self.assertIn("Ring [maskerat: OSL 21 kap. 7 §]", text)
        self.assertNotIn("Hemligt", text)
        self.assertIn('pdfaid:part="3"', PdfReader(io.BytesIO(pdf)).xmp_metadata.rdf_root.toxml())  # type: ignore[union-attr]
        event = AuditEvent.objects.get(action="export")
        self.assertEqual(event.summary, "working copy of the request printed via command line")
        self.assertEqual(event.actor_name, "system")

    def test_an_unknown_request_or_folder_is_a_clear_error(self) -> None:
        with self.assertRaisesMessage(CommandError, "no request for public records with id 999"):
            self.run_command("show", "999")
        with self.assertRaisesMessage(CommandError, "--out: folder /no/such does not exist"):
            self.run_command("render", str(self.records_request.pk), "--out", "/no/such/x.pdf")
