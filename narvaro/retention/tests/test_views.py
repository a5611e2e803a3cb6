"""The records management pages: who may use them, the flows, and constant query counts."""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from narvaro.archive.fixity import verify_archive
from narvaro.archive.models import Item, ItemVersion
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture
from narvaro.core.audit_summaries import summary_display, summary_match
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase
from narvaro.retention import services
from narvaro.retention.models import (
    DisposalLogEntry,
    DisposalRun,
    ErasureRequest,
    LegalHold,
    RegistryEntry,
    RetentionRule,
)
from narvaro.retention.tests.support import OLD, archive_for_retention


class RetentionPagesTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.items = archive_for_retention(self)
        self.client = self.client_for(self.rita)

    def test_others_get_403_and_unknown_objects_404(self) -> None:
        rule_url = reverse("retention:rule_list")
        self.assertEqual(self.client_for(self.alice).get(rule_url).status_code, 403)
        self.assertEqual(self.client_for(self.vera).get(rule_url).status_code, 403)
        for name in ["rule_detail", "run_detail", "erasure_detail", "registry_detail"]:
            url = reverse(f"retention:{name}", args=[999999])
            self.assertEqual(self.client.get(url).status_code, 404, name)
        flag = reverse("retention:registry_flag", args=[self.items["c-old-1"].pk, "nonsense"])
        self.assertEqual(self.client.get(flag).status_code, 404)

    def test_only_records_officers_can_run_or_commit(self) -> None:
        rule = services.rule_create(
            actor=self.rita,
            name="x",
            record_class="minor_comments",
            decision_reference="KS 1",
            period_days=1,
        )
        run = services.disposal_run_create(actor=self.rita, rule=rule)
        for person in (self.alice, self.vera, self.bob):
            client = self.client_for(person)
            self.assertEqual(
                client.post(reverse("retention:run_create", args=[rule.pk])).status_code, 403
            )
            self.assertEqual(
                client.post(reverse("retention:run_commit", args=[run.pk])).status_code, 403
            )
            flag = reverse("retention:registry_flag", args=[self.items["c-old-1"].pk, "case"])
            self.assertEqual(client.post(flag).status_code, 403)
        self.assertEqual(DisposalRun.objects.get().state, "dry_run")
        self.assertIsNotNone(ItemVersion.objects.get(item=self.items["c-old-1"]).raw_payload)

    def test_a_registrar_makes_a_rule_a_dry_run_and_commits_it_r27(self) -> None:
        response = self.client.post(
            reverse("retention:rule_create"),
            {
                "name": "DM",
                "record_class": "direct_messages",
                "decision_reference": "KS 2025/118",
                "period_days": "30",
            },
        )
        rule = RetentionRule.objects.get()
        self.assertRedirects(response, rule.get_absolute_url())
        response = self.client.post(reverse("retention:run_create", args=[rule.pk]))
        run = DisposalRun.objects.get()
        self.assertRedirects(response, run.get_absolute_url())
        page = self.client.get(run.get_absolute_url())
        self.assertContains(page, "mastodon:dm-old")
        self.assertTrue(
            AuditEvent.objects.filter(action="view", target_id=str(run.pk), actor=self.rita)
        )
        self.assertNotContains(page, "mastodon:c-old-1")
        self.assertContains(page, reverse("retention:run_commit", args=[run.pk]))
        confirm = self.client.get(reverse("retention:run_commit", args=[run.pk]))
        self.assertContains(confirm, "cannot be undone")
        self.assertIsNotNone(ItemVersion.objects.get(item=self.items["dm-old"]).raw_payload)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse("retention:run_commit", args=[run.pk]))
        self.assertRedirects(response, run.get_absolute_url())
        self.assertIsNone(ItemVersion.objects.get(item=self.items["dm-old"]).raw_payload)
        self.assertTrue(verify_archive().intact)
        log = self.client.get(reverse("retention:disposal_log"))
        self.assertContains(log, "mastodon:dm-old")
        self.assertContains(log, "KS 2025/118")
        # The record page shows the disposal as an event.
        record = self.client.get(self.items["dm-old"].get_absolute_url())
        self.assertContains(record, "Disposed of (gallring)")
        # Committing again is refused with a message, not an error page.
        again = self.client.post(reverse("retention:run_commit", args=[run.pk]), follow=True)
        self.assertContains(again, "already been committed")
        # Every summary the flow wrote is a listed message, so the Swedish audit log shows
        # it in Swedish (ADR 0011); the English page shows it as stored.
        summaries = set(AuditEvent.objects.values_list("summary", flat=True)) - {""}
        self.assertGreaterEqual(len(summaries), 4)
        with translation.override("sv"):
            for summary in summaries:
                with self.subTest(summary=summary):
                    self.assertIsNotNone(summary_match(summary))
                    self.assertNotEqual(summary_display(summary), summary)

    def test_a_rule_form_without_a_decision_is_refused(self) -> None:
        response = self.client.post(
            reverse("retention:rule_create"),
            {"name": "x", "record_class": "minor_comments", "period_days": "0"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertFalse(RetentionRule.objects.exists())
        self.assertContains(response, "data-error-summary")

    def test_a_deactivated_rule_offers_no_run(self) -> None:
        rule = services.rule_create(
            actor=self.rita,
            name="x",
            record_class="minor_comments",
            decision_reference="KS 1",
            period_days=1,
        )
        self.client.post(reverse("retention:rule_deactivate", args=[rule.pk]))
        response = self.client.post(reverse("retention:run_create", args=[rule.pk]), follow=True)
        self.assertContains(response, "no longer active")
        self.assertFalse(DisposalRun.objects.exists())

    def test_holds_are_placed_from_a_record_and_released_with_a_reason(self) -> None:
        item = self.items["c-old-1"]
        url = reverse("retention:hold_create") + f"?item={item.pk}"
        response = self.client.post(
            url, {"kind": "police_report", "scope": "thread", "reason": "Hot", "reference": ""}
        )
        self.assertContains(response, "police report")
        response = self.client.post(
            url,
            {"kind": "police_report", "scope": "thread", "reason": "Hot", "reference": "5000-K1"},
        )
        self.assertRedirects(response, reverse("retention:hold_list"))
        hold = LegalHold.objects.get()
        self.assertEqual((hold.thread_key, hold.reference), ("post-1", "5000-K1"))
        release = reverse("retention:hold_release", args=[hold.pk])
        self.assertContains(self.client.post(release, {"reason": ""}), "data-error-summary")
        self.client.post(release, {"reason": "Ärendet avslutat"})
        hold.refresh_from_db()
        self.assertFalse(hold.is_open)

    def test_a_hold_on_an_unknown_record_is_404(self) -> None:
        response = self.client.get(reverse("retention:hold_create") + "?item=999999")
        self.assertEqual(response.status_code, 404)

    def test_an_erasure_request_is_recorded_and_decided_with_the_default_r28(self) -> None:
        response = self.client.post(
            reverse("retention:erasure_create"),
            {"received_at": "2026-03-05T10:00", "scope": "Ta bort min kommentar"},
        )
        erasure = ErasureRequest.objects.get()
        self.assertRedirects(response, erasure.get_absolute_url())
        decide = reverse("retention:erasure_decide", args=[erasure.pk])
        form = self.client.get(decide)
        self.assertContains(form, "17(3)(b) and (d)")
        self.client.post(
            decide,
            {
                "decision": "no_erasure",
                "reasons": services.DEFAULT_ERASURE_REASONS,
                "requester_told_on": "2026-03-06",
            },
        )
        erasure.refresh_from_db()
        self.assertEqual(erasure.decision, "no_erasure")
        self.assertContains(self.client.get(erasure.get_absolute_url()), "2026-03-06")

    def test_flag_as_secret_from_the_record_page_r13(self) -> None:
        item = self.items["c-old-2"]
        record = self.client.get(item.get_absolute_url())
        flag_url = reverse("retention:registry_flag", args=[item.pk, "secret"])
        self.assertContains(record, flag_url)
        self.assertNotContains(self.client_for(self.vera).get(item.get_absolute_url()), flag_url)
        refused = self.client.post(
            flag_url,
            {"scope": "item", "received_on": "2025-02-01", "sender": "Anna", "description": "x"},
        )
        self.assertContains(refused, "data-error-summary")
        self.assertFalse(RegistryEntry.objects.exists())
        response = self.client.post(
            flag_url,
            {
                "scope": "item",
                "received_on": "2025-02-01",
                "sender": "Anna",
                "description": "Hälsouppgifter",
                "case_number": "SN 2026/7",
                "officer": "Karin",
            },
        )
        entry = RegistryEntry.objects.get()
        self.assertRedirects(response, entry.get_absolute_url())
        self.assertEqual(self.client_for(self.vera).get(item.get_absolute_url()).status_code, 404)
        self.assertContains(self.client.get(item.get_absolute_url()), "flagged secret")
        self.client.post(reverse("retention:registry_lift", args=[entry.pk]), {"reason": "Ok"})
        self.assertEqual(self.client_for(self.vera).get(item.get_absolute_url()).status_code, 200)

    def test_the_registry_download_is_json_and_logged_r13_r37(self) -> None:
        services.registry_flag(
            actor=self.rita,
            item=self.items["c-old-1"],
            kind="case",
            received_on=dt.date(2025, 2, 1),
            sender="Anna",
            description="Fråga",
            case_number="KS 2025/9",
        )
        response = self.client.get(reverse("retention:registry_export"))
        self.assertEqual(response["Content-Type"], "application/json; charset=utf-8")
        self.assertIn("attachment", response["Content-Disposition"])
        data = json.loads(response.content)
        self.assertEqual([e["case_number"] for e in data["entries"]], ["KS 2025/9"])
        self.assertTrue(AuditEvent.objects.filter(action="export", actor=self.rita).exists())


class ListQueryCountTests(NarvaroTestCase):
    """Each list costs the same number of queries however many rows it shows."""

    def setUp(self) -> None:
        super().setUp()
        self.client = self.client_for(self.rita)

    def add_rows(self, n: int, tag: str) -> DisposalRun:
        """n old comments by @tag, disposed of by a committed run, held, flagged, asked about."""
        capture_batch(
            account=self.account_b,
            captures=[
                a_capture(f"{tag}-{i}", f"Kommentar {i}", created_at=OLD, author_handle=f"@{tag}@x")
                for i in range(n)
            ],
            source="test",
        )
        rule = services.rule_create(
            actor=self.rita,
            name=f"Regel {tag}",
            record_class="minor_comments",
            decision_reference=f"KS {tag}",
            period_days=1,
            author=f"@{tag}@x",
        )
        with self.captureOnCommitCallbacks(execute=True):
            run = services.disposal_run_commit(
                actor=self.rita, run=services.disposal_run_create(actor=self.rita, rule=rule)
            )
        for item in Item.objects.filter(remote_id__startswith=f"{tag}-"):
            services.hold_place(actor=self.rita, scope="item", item=item, reason=tag)
            services.erasure_request_record(actor=self.rita, scope=tag, item=item)
            services.registry_flag(
                actor=self.rita,
                item=item,
                kind="case",
                received_on=dt.date(2025, 2, 1),
                sender="Anna",
                description=tag,
            )
        return run

    def counts(self, run: DisposalRun) -> dict[str, int]:
        urls = {
            "rules": reverse("retention:rule_list"),
            "holds": reverse("retention:hold_list"),
            "erasure": reverse("retention:erasure_list"),
            "registry": reverse("retention:registry_list"),
            "log": reverse("retention:disposal_log"),
            "run": run.get_absolute_url(),
        }
        result = {}
        for name, url in urls.items():
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(self.client.get(url).status_code, 200, name)
            result[name] = len(queries)
        return result

    def test_list_pages_have_a_constant_query_count(self) -> None:
        small = self.counts(self.add_rows(1, "a"))
        large = self.counts(self.add_rows(4, "b"))
        self.assertEqual(DisposalLogEntry.objects.count(), 5)
        self.assertEqual(small, large)
