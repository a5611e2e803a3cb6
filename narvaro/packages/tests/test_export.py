"""The BagIt and E-ARK exports (R29, R31, R32): valid packages that hold every field."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
from pathlib import Path
from unittest import mock

import bagit
import jsonschema
from django.core.management import call_command
from django.core.management.base import CommandError
from lxml import etree

from narvaro.archive.models import ItemEvent, ItemVersion
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase
from narvaro.packages.eark import EVENT_TYPES
from narvaro.packages.models import PackageExport
from narvaro.packages.records import RECORD_FILES, SCHEMA_DIR
from narvaro.packages.tests.support import eark_errors, fill_archive

# Rules of eark-validator 1.1.3 that no CSIP-conformant SIP can pass (see the test below).
VALIDATOR_DEFECTS = {"SIP14"}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


class ExportTestCase(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        fill_archive(self.account_a, self.account_b)
        self.out_dir = Path(tempfile.mkdtemp(prefix="narvaro-export-test-"))
        self.addCleanup(shutil.rmtree, self.out_dir, ignore_errors=True)

    def export(self, fmt: str, name: str, *args: str) -> Path:
        out = self.out_dir / name
        self.report = io.StringIO()
        call_command("export", fmt, "--out", str(out), "--json", *args, stdout=self.report)
        return out


class BagitExportTests(ExportTestCase):
    def test_the_bag_validates_with_bagit_r31(self) -> None:
        out = self.export("bagit", "bag")
        bag = bagit.Bag(str(out))
        bag.validate()  # raises BagValidationError on any missing or changed file
        self.assertIn("sha256", bag.algorithms)
        self.assertEqual(bag.info["Narvaro-Intact"], "yes")

    def test_every_record_follows_its_json_schema_r32(self) -> None:
        out = self.export("bagit", "bag")
        for name, schema_name in RECORD_FILES.items():
            schema = json.loads((SCHEMA_DIR / schema_name).read_text())
            shipped = json.loads((out / "data" / "schema" / schema_name).read_text())
            self.assertEqual(schema, shipped)
            validator = jsonschema.Draft202012Validator(
                schema, format_checker=jsonschema.FormatChecker()
            )
            for record in read_jsonl(out / "data" / "records" / name):
                validator.validate(record)
        self.assertEqual(
            len(read_jsonl(out / "data" / "records" / "versions.jsonl")),
            ItemVersion.objects.count(),
        )


class EarkExportTests(ExportTestCase):
    def test_the_sip_passes_eark_validator_r29(self) -> None:
        out = self.export("eark", "narvaro-sip-1")
        errors = [e for e in eark_errors(out) if e.split()[0] not in VALIDATOR_DEFECTS]
        self.assertEqual(errors, [], "\n".join(errors))

    def test_premis_records_every_chain_entry_and_the_fixity_check_r29(self) -> None:
        out = self.export("eark", "narvaro-sip-3")
        premis = etree.parse(str(out / "metadata" / "preservation" / "premis.xml"))
        ns = {"premis": "http://www.loc.gov/premis/v3"}
        types = [e.text for e in premis.iterfind(".//premis:event/premis:eventType", ns)]
        entries = ItemVersion.objects.count() + ItemEvent.objects.count()
        self.assertEqual(len(types), entries + 1)
        expected = {"capture", "deletion", "fixity check", "modification", "moderation"}
        self.assertEqual(set(types), expected)
        agents = [a.text for a in premis.iterfind(".//premis:agent/premis:agentType", ns)]
        self.assertIn("software", agents)

    def test_every_archive_event_type_has_a_premis_event_type(self) -> None:
        chain_types = {"capture", "edit"}  # the two kinds of version entry
        self.assertEqual(set(EVENT_TYPES) - chain_types, set(ItemEvent.Type.values))
        self.assertEqual(EVENT_TYPES["blocked"], "moderation")

    def test_renderings_are_a_representation_of_their_own_r30(self) -> None:
        out = self.export(
            "eark",
            "narvaro-sip-4",
            "--renderings",
            "--account",
            f"mastodon:{self.account_b.handle}",
        )
        pdfs = list((out / "representations" / "renderings" / "data").rglob("*.pdf"))
        self.assertEqual(len(pdfs), 1)
        self.assertTrue(pdfs[0].read_bytes().startswith(b"%PDF"))
        mets = (out / "representations" / "renderings" / "METS.xml").read_text()
        self.assertIn('MIMETYPE="application/pdf"', mets)
        errors = [e for e in eark_errors(out) if e.split()[0] not in VALIDATOR_DEFECTS]
        self.assertEqual(errors, [], "\n".join(errors))

    def test_the_one_rule_left_contradicts_csip_and_the_mets_schema(self) -> None:
        """SIP14 in eark-validator 1.1.3 checks an unqualified @NOTETYPE on the creator's note.

        CSIP12-16 require that creator to be the software with one note typed by
        csip:NOTETYPE="SOFTWARE VERSION", and the METS schema refuses an unqualified NOTETYPE,
        so no package that passes CSIP and the schema can pass SIP14 (docs/archive-format.md).
        """
        out = self.export("eark", "narvaro-sip-2")
        self.assertEqual(sorted({e.split()[0] for e in eark_errors(out)}), ["SIP14"])


class ExportCommandTests(ExportTestCase):
    def test_each_export_is_in_the_audit_log_r37(self) -> None:
        self.export("bagit", "bag.zip", "--account", f"mastodon:{self.account_a.handle}")
        export = PackageExport.objects.get()
        self.assertEqual(export.status, PackageExport.Status.DONE)
        self.assertEqual(len(export.sha256), 64)
        event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT, target_id=str(export.pk))
        self.assertEqual(event.changes["accounts"], [f"mastodon:{self.account_a.handle}"])
        self.assertEqual(event.unit_id, self.account_a.unit_id)

    def test_an_account_export_holds_only_that_account(self) -> None:
        out = self.export("bagit", "bag", "--account", f"mastodon:{self.account_b.handle}")
        items = read_jsonl(out / "data" / "records" / "items.jsonl")
        self.assertEqual([i["remote_id"] for i in items], ["b1"])
        payload = (
            out
            / "data"
            / read_jsonl(out / "data" / "records" / "versions.jsonl")[0]["payload_file"]
        )
        self.assertEqual(payload.read_bytes(), b"not json \r\n verbatim")

    def test_a_period_export_holds_the_items_dated_in_it_with_all_their_entries(self) -> None:
        out = self.export("bagit", "bag", "--from", "2025-12-01", "--to", "2025-12-31")
        items = read_jsonl(out / "data" / "records" / "items.jsonl")
        self.assertEqual([i["remote_id"] for i in items], ["c2"])
        events = read_jsonl(out / "data" / "records" / "events.jsonl")
        self.assertEqual([e["type"] for e in events], ["deleted"])
        bagit.Bag(str(out)).validate()

    def test_media_are_stored_once_by_sha256_with_captions(self) -> None:
        out = self.export("bagit", "bag")
        media = read_jsonl(out / "data" / "records" / "media.jsonl")
        self.assertEqual(len(media), 3)  # image, video, caption; the missing one has no file
        for row in media:
            data = (out / "data" / row["file"]).read_bytes()
            self.assertEqual(hashlib.sha256(data).hexdigest(), row["sha256"])

    def test_a_failed_export_leaves_nothing_behind(self) -> None:
        out = self.out_dir / "bag"
        with (
            mock.patch("bagit.make_bag", side_effect=OSError("disk full")),
            self.assertRaisesMessage(OSError, "disk full"),
        ):
            call_command("export", "bagit", "--out", str(out), stdout=io.StringIO())
        self.assertEqual(list(self.out_dir.iterdir()), [])
        self.assertEqual(PackageExport.objects.get().status, PackageExport.Status.FAILED)

    def test_an_existing_target_is_refused(self) -> None:
        (self.out_dir / "bag").mkdir()
        with self.assertRaisesMessage(CommandError, "already exists"):
            self.export("bagit", "bag")

    def test_bad_arguments_are_named(self) -> None:
        with self.assertRaisesMessage(CommandError, "--account 'x:@nobody': no such account"):
            self.export("bagit", "bag", "--account", "x:@nobody")
        with self.assertRaisesMessage(CommandError, "--unit 'nowhere'"):
            self.export("bagit", "bag", "--unit", "nowhere")
        with self.assertRaisesMessage(CommandError, "'2024-13-01' is not a date"):
            self.export("bagit", "bag", "--from", "2024-13-01")
        with self.assertRaisesMessage(CommandError, "The period ends before it starts"):
            self.export("bagit", "bag", "--from", "2024-02-01", "--to", "2024-01-01")

    def test_a_broken_chain_is_reported_in_the_package(self) -> None:
        ItemVersion.objects.filter(item__remote_id="c1", number=1).update(source="forged")
        out = self.export("bagit", "bag")
        report = json.loads((out / "data" / "fixity" / "verification.json").read_text())
        self.assertFalse(report["intact"])
        self.assertIn("chain digest does not match", report["problems"][0]["detail"])
        self.assertEqual(bagit.Bag(str(out)).info["Narvaro-Intact"], "no")
