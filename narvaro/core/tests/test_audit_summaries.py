"""Audit summaries are stored in one English form and shown in the reader's language."""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test import SimpleTestCase
from django.urls import reverse
from django.utils import translation

from narvaro.archive.models import Item
from narvaro.archive.services import capture_batch, fixity_alert_raise
from narvaro.archive.tests.support import a_capture, an_image
from narvaro.core.audit_summaries import (
    MESSAGES,
    RECORD_VIEWED,
    audit_summary,
    summary_display,
)
from narvaro.core.models import AuditEvent
from narvaro.core.services import audit_record
from narvaro.lib.testing import NarvaroTestCase

X_FIXTURE = Path(__file__).resolve().parents[2] / "channels/tests/fixtures/x/archive__small"


class AuditSummaryTests(SimpleTestCase):
    def test_a_summary_is_stored_in_english_whatever_the_language(self) -> None:
        with translation.override("sv"):
            stored = audit_summary(RECORD_VIEWED, item="mastodon:p1")
        self.assertEqual(stored, "record mastodon:p1 viewed")

    def test_a_listed_summary_is_shown_translated_with_its_values(self) -> None:
        stored = "records register exported as csv via web (12 items)"
        with translation.override("en"):
            self.assertEqual(summary_display(stored), stored)
        with translation.override("sv"):
            shown = summary_display(stored)
        self.assertNotEqual(shown, stored)
        self.assertIn("csv", shown)
        self.assertIn("12", shown)

    def test_every_listed_message_has_a_swedish_translation(self) -> None:
        for message in MESSAGES:
            with self.subTest(message=message), translation.override("sv"):
                self.assertNotEqual(translation.gettext(message), message)

    def test_any_other_summary_is_shown_as_stored(self) -> None:
        with translation.override("sv"):
            self.assertEqual(summary_display("version 3 written"), "version 3 written")
            self.assertEqual(summary_display(""), "")

    def test_only_listed_messages_can_be_stored(self) -> None:
        with self.assertRaises(ValueError):
            audit_summary("something %(x)s happened", x=1)


class AuditSummaryDisplayTests(NarvaroTestCase):
    def audit_page(self, language: str) -> str:
        client = self.client_for(self.rita)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client.get(reverse("core:audit_log")).content.decode()

    def test_the_archive_and_import_summaries_follow_the_readers_language(self) -> None:
        capture_batch(
            account=self.account_a, captures=[a_capture("p1", media=(an_image(),))], source="t"
        )
        item = Item.objects.get(remote_id="p1")
        vera = self.client_for(self.vera)
        vera.get(item.get_absolute_url())
        vera.get(reverse("archive:record_media", args=[item.pk, 1, 0]))
        vera.get(reverse("archive:record_export"))
        self.client_for(self.adam).get(reverse("channels:account_export", args=["csv"]))
        call_command(
            "import", "x", str(X_FIXTURE), "--account", "x:@strandvik", "--unit", "kultur",
            "--json", stdout=io.StringIO(),
        )  # fmt: skip
        fixity_alert_raise(report=None)

        stored = list(AuditEvent.objects.order_by("id").values_list("summary", flat=True))
        # Stored in English, as before: the rows mean what they meant.
        expected = [
            f"record {item} viewed",
            f"attachment 1 of {item} v1 viewed",
            "records register exported as csv via web (1 items)",
            "channel register exported as csv (2 accounts)",
            f"x export imported from {X_FIXTURE}",
            "fixity check failed: 0 problem(s)",
        ]
        # (Other rows in between: the account the import proposed, its membership...)
        self.assertEqual([summary for summary in stored if summary in expected], expected)

        english, swedish = self.audit_page("en"), self.audit_page("sv")
        for summary in expected:
            with self.subTest(summary=summary):
                self.assertIn(summary, english)
                self.assertNotIn(summary, swedish)
                with translation.override("sv"):
                    self.assertIn(summary_display(summary), swedish)

    def test_the_account_history_shows_the_import_in_the_readers_language(self) -> None:
        audit_record(
            actor=None,
            action=AuditEvent.Action.IMPORT,
            target=self.account_a,
            unit_id=self.account_a.unit_id,
            summary=audit_summary(
                "%(format)s export imported from %(path)s", format="x", path="/a"
            ),
        )
        client = self.client_for(self.alice)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
        page = client.get(self.account_a.get_absolute_url()).content.decode()
        with translation.override("sv"):
            translated = summary_display("x export imported from /a")
        self.assertNotEqual(translated, "x export imported from /a")
        self.assertIn(translated, page)

    def test_changes_show_old_and_new_values_and_plain_counts(self) -> None:
        # An export logs {"items": n}: a template's `changes.items` would reach the count.
        audit_record(
            actor=self.adam,
            action=AuditEvent.Action.EXPORT,
            summary="records register exported as csv via web (3 items)",
            changes={"filters": {"q": "hus"}, "items": 3, "via": "web"},
        )
        audit_record(
            actor=self.adam,
            action=AuditEvent.Action.TRANSITION,
            target=self.account_a,
            summary="proposed → active",
            changes={"state": ["proposed", "active"], "closed_on": [None, "2026-03-01"]},
        )
        page = self.audit_page("en")
        self.assertIn("<strong>items</strong>: 3</div>", page)
        self.assertIn("<strong>filters</strong>: {&quot;q&quot;: &quot;hus&quot;}</div>", page)
        self.assertIn("<strong>state</strong>: proposed → active</div>", page)
        self.assertIn("<strong>closed_on</strong>: – → 2026-03-01</div>", page)
