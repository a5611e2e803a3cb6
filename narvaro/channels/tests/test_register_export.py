"""The channel register exported as CSV and JSON (R1), scoped and logged (R37)."""

from __future__ import annotations

import csv
import io
import json

from django.urls import reverse

from narvaro.channels import services
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase


class RegisterExportTests(NarvaroTestCase):
    def test_the_json_register_lists_every_r1_field_of_the_visible_accounts(self) -> None:
        services.account_transition(actor=self.alice, account=self.account_a, to_state="active")
        response = self.client_for(self.vera).get(reverse("channels:account_export", args=["json"]))
        self.assertEqual(response["Content-Type"], "application/json")
        self.assertIn("attachment;", response["Content-Disposition"])
        accounts = json.loads(response.content)["accounts"]
        self.assertEqual([a["handle"] for a in accounts], [self.account_a.handle])
        row = accounts[0]
        self.assertEqual(row["unit"], "Biblioteket")
        self.assertEqual(row["state"], "active")
        self.assertEqual(row["responsible"], ["Alice"])
        self.assertEqual(row["retention_decision"], "KS 2024/1")
        self.assertEqual(row["data_protection_assessment"], "KS 2024/2")
        self.assertEqual(row["comment_policy_version"], 1)
        self.assertIsNotNone(row["comment_policy_published_at"])

    def test_the_csv_register_applies_the_list_filters_and_opens_as_utf8(self) -> None:
        url = reverse("channels:account_export", args=["csv"])
        response = self.client_for(self.adam).get(url, {"unit": self.unit_b.pk})
        text = response.content.decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        self.assertEqual([row["Handle"] for row in rows], [self.account_b.handle])
        self.assertEqual(rows[0]["Unit"], "Gata och park")
        self.assertTrue(response.content.startswith("\ufeff".encode()))

    def test_every_export_is_in_the_audit_log_with_its_filters(self) -> None:
        url = reverse("channels:account_export", args=["csv"])
        self.client_for(self.rita).get(url, {"state": "proposed"})
        event = AuditEvent.objects.get(action="export")
        self.assertEqual(event.actor, self.rita)
        self.assertEqual(event.summary, "channel register exported as csv (2 accounts)")
        self.assertEqual(event.changes, {"filters": {"state": "proposed"}})

    def test_an_unknown_format_is_404(self) -> None:
        url = reverse("channels:account_export", args=["xlsx"])
        self.assertEqual(self.client_for(self.adam).get(url).status_code, 404)

    def test_the_export_costs_the_same_number_of_queries_for_many_accounts(self) -> None:
        from narvaro.lib.testing import make_account

        client = self.client_for(self.adam)
        url = reverse("channels:account_export", args=["json"])
        client.get(url)
        with self.assertNumQueries(10):
            client.get(url)
        for n in range(15):
            make_account(self.unit_b, self.policy, [self.bob], handle=f"@many{n}@x.example")
        with self.assertNumQueries(10):
            client.get(url)

    def test_text_that_a_spreadsheet_would_run_as_a_formula_is_neutralised(self) -> None:
        from narvaro.channels import services as channel_services

        channel_services.account_update(
            actor=self.adam, account=self.account_b, purpose='=HYPERLINK("http://evil.example")'
        )
        url = reverse("channels:account_export", args=["csv"])
        text = (
            self.client_for(self.adam)
            .get(url, {"unit": self.unit_b.pk})
            .content.decode("utf-8-sig")
        )
        row = next(csv.DictReader(io.StringIO(text)))
        self.assertEqual(row["Purpose"], '\'=HYPERLINK("http://evil.example")')

    def test_the_csv_headings_follow_the_persons_language(self) -> None:
        from django.conf import settings

        client = self.client_for(self.adam)
        url = reverse("channels:account_export", args=["csv"])
        headings = {}
        for language in ("en", "sv"):
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            text = client.get(url, {"unit": self.unit_b.pk}).content.decode("utf-8-sig")
            reader = csv.reader(io.StringIO(text))
            headings[language], row = next(reader), next(reader)
            self.assertEqual(row[3], self.account_b.handle)
        self.assertEqual(len(headings["sv"]), len(services.REGISTER_COLUMNS))
        self.assertEqual(headings["en"][:4], ["Organisation", "Unit", "Platform", "Handle"])
        self.assertEqual(headings["sv"][:4], ["Organisation", "Enhet", "Plattform", "Kontonamn"])
        # Every heading but the one spelt alike in both languages is translated.
        alike = set(headings["sv"]) & set(headings["en"])
        self.assertEqual(alike, {"Organisation"}, headings)
        # The JSON register keeps its stable keys whatever the language.
        json_url = reverse("channels:account_export", args=["json"])
        accounts = json.loads(client.get(json_url).content)["accounts"]
        self.assertIn("handle", accounts[0])
