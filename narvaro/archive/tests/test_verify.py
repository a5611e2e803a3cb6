"""`narvaro verify`: any changed byte of content, payload, chain or media is named (R10)."""

from __future__ import annotations

import io
import json

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection

from narvaro.archive.fixity import verify_archive
from narvaro.archive.models import Item, ItemVersion, MediaFile
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture, a_deletion, an_image
from narvaro.lib.testing import NarvaroTestCase


def raw_update(sql: str, params: list[object]) -> None:
    """Change stored bytes behind Narvaro's back, as a tamperer with database access would."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


class VerifyTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        capture_batch(
            account=self.account_a,
            captures=[a_capture("1", media=(an_image(),)), a_capture("2", text="Tack!")],
            events=[a_deletion("1")],
            source="test",
        )
        capture_batch(
            account=self.account_a, captures=[a_capture("2", text="Tack så mycket!")], source="test"
        )

    def broken(self) -> list[str]:
        return [f"{p.kind}: {p.reference}" for p in verify_archive().problems]

    def test_an_untouched_archive_verifies(self) -> None:
        report = verify_archive()
        self.assertTrue(report.intact, report.problems)
        self.assertEqual((report.versions, report.events, report.media_files), (3, 1, 1))

    def test_a_changed_text_is_named(self) -> None:
        version = ItemVersion.objects.get(item__remote_id="2", number=1)
        raw_update("UPDATE archive_itemversion SET text = %s WHERE id = %s", ["Tack?", version.pk])
        self.assertEqual(self.broken(), ["content: mastodon:2 version 1"])

    def test_a_changed_payload_is_named(self) -> None:
        version = ItemVersion.objects.get(item__remote_id="1")
        raw_update(
            "UPDATE archive_itemversion SET raw_payload = %s WHERE id = %s",
            [version.raw_payload.replace("biblioteket", "Biblioteket"), version.pk],
        )
        self.assertEqual(self.broken(), ["payload: mastodon:1 version 1"])

    def test_a_changed_item_field_breaks_the_chain_of_its_versions(self) -> None:
        item = Item.objects.get(remote_id="2")
        raw_update(
            "UPDATE archive_item SET author_handle = %s WHERE id = %s", ["@someone@else", item.pk]
        )
        self.assertEqual(
            self.broken(), ["chain: mastodon:2 version 1", "chain: mastodon:2 version 2"]
        )

    def test_a_removed_version_is_found(self) -> None:
        version = ItemVersion.objects.get(item__remote_id="2", number=2)
        raw_update("DELETE FROM archive_itemversion WHERE id = %s", [version.pk])
        problems = verify_archive().problems
        self.assertTrue(
            any("the chain ends at entry 3, but 4 were recorded" in p.detail for p in problems)
        )

    def test_changed_media_bytes_are_named(self) -> None:
        media = MediaFile.objects.get()
        default_storage.delete(media.storage_name)
        default_storage.save(media.storage_name, ContentFile(b"other bytes"))
        self.assertEqual(self.broken(), [f"media: {media.sha256}"])

    def test_the_command_exits_1_and_prints_json_naming_the_item(self) -> None:
        version = ItemVersion.objects.get(item__remote_id="2", number=1)
        raw_update(
            "UPDATE archive_itemversion SET html = %s WHERE id = %s", ["<p>x</p>", version.pk]
        )
        out = io.StringIO()
        with self.assertRaises(SystemExit) as exited:
            call_command("verify", "--json", stdout=out)
        self.assertEqual(exited.exception.code, 1)
        report = json.loads(out.getvalue())
        self.assertFalse(report["intact"])
        self.assertEqual(report["problems"][0]["reference"], "mastodon:2 version 1")

    def test_the_command_exits_0_when_intact(self) -> None:
        out = io.StringIO()
        call_command("verify", stdout=out)
        self.assertIn("intact", out.getvalue())

    def test_the_scheduled_check_raises_an_alert_by_mail_and_in_the_audit_log(self) -> None:
        from django.core import mail

        from narvaro.archive.tasks import fixity_check
        from narvaro.core.models import AuditEvent

        version = ItemVersion.objects.get(item__remote_id="1")
        raw_update("UPDATE archive_itemversion SET text = %s WHERE id = %s", ["x", version.pk])
        with self.settings(NARVARO_BASE_URL="https://narvaro.example.se"):
            result = fixity_check.enqueue()
        self.assertEqual(result.return_value, {"intact": False, "problems": 1})
        self.assertTrue(
            AuditEvent.objects.filter(summary="fixity check failed: 1 problem(s)").exists()
        )
        self.assertEqual(len(mail.outbox), 1)
        self.assertIn("mastodon:1 version 1", mail.outbox[0].body)
        self.assertEqual(mail.outbox[0].subject, "Narvaro: the archive failed its fixity check")
        self.assertIn("The fixity check found 1 problem in the archive.", mail.outbox[0].body)
        self.assertIn("As narvaro verify reports them (in English):", mail.outbox[0].body)
        # The security events of the audit log, where the alert is kept.
        self.assertIn(
            "The alert is in the audit log in Narvaro: "
            "https://narvaro.example.se/audit/?action=security",
            mail.outbox[0].body,
        )
        page = self.client_for(self.adam).get("/audit/?action=security")
        self.assertContains(page, "fixity check failed: 1 problem(s)")

    def test_the_fixity_alert_is_in_the_organisations_language(self) -> None:
        from django.core import mail

        from narvaro.archive.tasks import fixity_check

        for remote_id in ("1", "2"):
            version = ItemVersion.objects.get(item__remote_id=remote_id, number=1)
            raw_update("UPDATE archive_itemversion SET text = %s WHERE id = %s", ["x", version.pk])
        with self.settings(LANGUAGE_CODE="sv", NARVARO_BASE_URL="https://narvaro.example.se"):
            fixity_check.enqueue()
        (message,) = mail.outbox
        self.assertEqual(
            message.subject, "Narvaro: kontrollen av arkivets oförändrade skick misslyckades"
        )
        self.assertIn("Kontrollen av arkivets oförändrade skick hittade 2 problem.", message.body)
        self.assertIn("Så som narvaro verify rapporterar dem (på engelska):", message.body)
        self.assertIn("mastodon:2 version 1", message.body)
        self.assertIn("Kör `narvaro verify` för att få hela listan.", message.body)
        self.assertIn(
            "Larmet finns i granskningsloggen i Narvaro: "
            "https://narvaro.example.se/audit/?action=security",
            message.body,
        )
