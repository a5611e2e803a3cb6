"""`narvaro retention run` and `narvaro registry export` (R27, R13)."""

from __future__ import annotations

import datetime as dt
import io
import json
import tempfile
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError

from narvaro.archive.fixity import verify_archive
from narvaro.archive.models import ItemVersion
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase
from narvaro.retention import services
from narvaro.retention.models import DisposalLogEntry, DisposalRun
from narvaro.retention.tests.support import archive_for_retention


class RetentionCommandTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.items = archive_for_retention(self)
        self.rule = services.rule_create(
            actor=None,
            name="DM",
            record_class="direct_messages",
            decision_reference="KS 2025/118",
            period_days=30,
        )

    def run_command(self, *args: str) -> str:
        out = io.StringIO()
        call_command("retention", "run", "--rule", str(self.rule.pk), *args, stdout=out)
        return out.getvalue()

    def test_without_commit_it_is_a_dry_run_r27(self) -> None:
        output = self.run_command()
        self.assertIn("mastodon:dm-old", output)
        self.assertIn("nothing was changed", output)
        self.assertEqual(DisposalRun.objects.get().state, "dry_run")
        self.assertIsNotNone(ItemVersion.objects.get(item=self.items["dm-old"]).raw_payload)

    def test_commit_disposes_of_the_list_and_logs_it_r27(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            data = json.loads(self.run_command("--commit", "--json"))
        self.assertEqual(data["state"], "committed")
        self.assertEqual([i["remote_id"] for i in data["items"]], ["dm-old"])
        self.assertEqual(data["disposed_versions"], 1)
        self.assertIsNone(ItemVersion.objects.get(item=self.items["dm-old"]).raw_payload)
        self.assertEqual(DisposalLogEntry.objects.get().disposed_by_name, "system")
        self.assertTrue(verify_archive().intact)
        # `narvaro verify` itself (it exits 1 when anything is broken).
        out = io.StringIO()
        call_command("verify", "--json", stdout=out)
        self.assertTrue(json.loads(out.getvalue())["intact"])

    def test_an_unknown_rule_is_a_clear_error(self) -> None:
        with self.assertRaisesMessage(CommandError, "no retention rule 999"):
            call_command("retention", "run", "--rule", "999", stdout=io.StringIO())


class RegistryCommandTests(NarvaroTestCase):
    def test_export_writes_the_registry_as_json_and_logs_it_r13(self) -> None:
        items = archive_for_retention(self)
        services.registry_flag(
            actor=None,
            item=items["c-old-1"],
            kind="secret",
            received_on=dt.date(2025, 2, 1),
            sender="Anna",
            description="Hälsa",
            case_number="SN 2025/1",
        )
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "registry.json"
            call_command("registry", "export", "--out", str(out), stdout=io.StringIO())
            data = json.loads(out.read_text(encoding="utf-8"))
        self.assertEqual([e["case_number"] for e in data["entries"]], ["SN 2025/1"])
        self.assertTrue(AuditEvent.objects.filter(summary__contains="command line").exists())

    def test_a_missing_folder_is_a_clear_error(self) -> None:
        with self.assertRaisesMessage(CommandError, "no such folder"):
            call_command("registry", "export", "--out", "/no/such/dir/r.json")
