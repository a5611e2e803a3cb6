"""Retention rules, dry runs, commits and the gallring log (R27), with legal holds."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.core.exceptions import ValidationError

from narvaro.archive.fixity import verify_archive
from narvaro.archive.models import ItemEvent, ItemVersion
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase
from narvaro.retention import services
from narvaro.retention.models import (
    DisposalLogEntry,
    DisposalRun,
    DisposalRunItem,
    HoldScope,
    LegalHold,
    RecordClass,
    RetentionRule,
)
from narvaro.retention.tasks import retention_dry_runs
from narvaro.retention.tests.support import NOW, archive_for_retention


def contents() -> list[tuple[int, str | None]]:
    return list(ItemVersion.objects.order_by("pk").values_list("pk", "raw_payload"))


class DisposalTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.items = archive_for_retention(self)

    def rule(
        self, record_class: str = RecordClass.MINOR_COMMENTS, **extra: object
    ) -> RetentionRule:
        fields: dict[str, object] = {
            "name": "Kommentarer av ringa betydelse",
            "record_class": record_class,
            "decision_reference": "KS 2025/118 punkt 4.2",
            "period_days": 365,
        }
        fields.update(extra)
        return services.rule_create(actor=self.rita, **fields)  # type: ignore[arg-type]

    def listed(self, run: DisposalRun) -> set[str]:
        return set(run.entries.values_list("item__remote_id", flat=True))

    def test_with_no_rule_nothing_is_ever_disposed_of_r27(self) -> None:
        before = contents()
        result = retention_dry_runs.call()
        self.assertEqual(result, {"dry_runs": [], "listed": 0})
        self.assertFalse(DisposalRun.objects.exists())
        self.assertEqual(contents(), before)
        self.assertFalse(ItemEvent.objects.filter(type="disposed").exists())

    def test_a_deactivated_rule_makes_no_run_r27(self) -> None:
        rule = services.rule_deactivate(actor=self.rita, rule=self.rule())
        with self.assertRaisesMessage(ValidationError, "no longer active"):
            services.disposal_run_create(actor=self.rita, rule=rule, now=NOW)
        self.assertEqual(retention_dry_runs.call()["dry_runs"], [])

    def test_the_dry_run_lists_exactly_the_old_items_of_the_class_and_changes_nothing_r27(
        self,
    ) -> None:
        before = contents()
        run = services.disposal_run_create(actor=self.rita, rule=self.rule(), now=NOW)
        # Received comments before 2026-01-01 on any account: not the post, the DM, the new
        # comment, nor the comment removed by moderation (R17: only "removed posts" covers it).
        self.assertEqual(self.listed(run), {"c-old-1", "c-old-2", "c-old-3", "b-old"})
        self.assertEqual(run.item_count, 4)
        self.assertEqual(run.state, DisposalRun.State.DRY_RUN)
        self.assertEqual(contents(), before)
        entry = run.entries.get(item__remote_id="c-old-2")
        self.assertEqual(len(entry.version_ids), 2)

    def test_the_commit_disposes_of_the_list_verify_passes_and_the_log_lists_each_r27(
        self,
    ) -> None:
        run = services.disposal_run_create(
            actor=self.rita, rule=self.rule(account=self.account_a), now=NOW
        )
        self.assertEqual(self.listed(run), {"c-old-1", "c-old-2", "c-old-3"})
        with self.captureOnCommitCallbacks(execute=True):
            run = services.disposal_run_commit(actor=self.rita, run=run)
        self.assertEqual((run.state, run.disposed_count, run.skipped_count), ("committed", 4, 0))
        disposed = ItemVersion.objects.filter(raw_payload__isnull=True)
        self.assertEqual(
            sorted(disposed.values_list("item__remote_id", "number")),
            [("c-old-1", 1), ("c-old-2", 1), ("c-old-2", 2), ("c-old-3", 1)],
        )
        self.assertEqual(ItemVersion.objects.filter(raw_payload__isnull=False).count(), 5)
        report = verify_archive()
        self.assertTrue(report.intact, report.problems)
        log = DisposalLogEntry.objects.order_by("item_label", "version_number")
        self.assertEqual(
            [(e.item_label, e.version_number) for e in log],
            [
                ("mastodon:c-old-1", 1),
                ("mastodon:c-old-2", 1),
                ("mastodon:c-old-2", 2),
                ("mastodon:c-old-3", 1),
            ],
        )
        for entry in log:
            self.assertEqual(entry.decision_reference, "KS 2025/118 punkt 4.2")
            self.assertEqual(entry.disposed_by, self.rita)
            self.assertEqual(entry.event.details["version_id"], entry.version_id)
        self.assertTrue(
            AuditEvent.objects.filter(action="delete", summary__contains="KS 2025/118").exists()
        )

    def test_a_second_run_lists_nothing_already_disposed_of(self) -> None:
        rule = self.rule()
        with self.captureOnCommitCallbacks(execute=True):
            services.disposal_run_commit(
                actor=self.rita, run=services.disposal_run_create(actor=None, rule=rule, now=NOW)
            )
        again = services.disposal_run_create(actor=None, rule=rule, now=NOW)
        self.assertEqual(self.listed(again), set())

    def test_a_run_is_committed_once(self) -> None:
        run = services.disposal_run_create(actor=self.rita, rule=self.rule(), now=NOW)
        services.disposal_run_commit(actor=self.rita, run=run)
        with self.assertRaisesMessage(ValidationError, "already been committed"):
            services.disposal_run_commit(actor=self.rita, run=run)

    def test_each_record_class_selects_its_own_records(self) -> None:
        expected = {
            # R17: a removed item goes only under a rule that names the "removed posts" class.
            RecordClass.REMOVED_POSTS: {"removed-old"},
            RecordClass.DIRECT_MESSAGES: {"dm-old"},
            RecordClass.WEBSITE_DUPLICATES: {"post-1"},
        }
        for record_class, remote_ids in expected.items():
            run = services.disposal_run_create(actor=None, rule=self.rule(record_class), now=NOW)
            self.assertEqual(self.listed(run), remote_ids, record_class)

    def test_filters_narrow_a_rule(self) -> None:
        run = services.disposal_run_create(
            actor=None, rule=self.rule(author="@TROLL@social.example"), now=NOW
        )
        self.assertEqual(self.listed(run), {"c-old-3"})
        run = services.disposal_run_create(actor=None, rule=self.rule(unit=self.unit_b), now=NOW)
        self.assertEqual(self.listed(run), {"b-old"})
        # The rule's unit covers the units below it (account A is in bibliotek, below kultur).
        run = services.disposal_run_create(actor=None, rule=self.rule(unit=self.unit_a), now=NOW)
        self.assertEqual(self.listed(run), {"c-old-1", "c-old-2", "c-old-3"})

    def test_legal_holds_keep_their_records_out_of_the_run_r27(self) -> None:
        items = self.items
        services.hold_place(
            actor=self.rita, scope=HoldScope.ITEM, item=items["c-old-1"], reason="Ongoing review"
        )
        services.hold_place(
            actor=self.rita,
            scope=HoldScope.AUTHOR,
            author_handle="@Troll@social.example",
            kind=LegalHold.Kind.POLICE_REPORT,
            reference="5000-K123456-26",
            reason="Unlawful threat reported to the police",
        )
        services.hold_place(
            actor=self.rita, scope=HoldScope.ACCOUNT, account=self.account_b, reason="Audit"
        )
        run = services.disposal_run_create(actor=None, rule=self.rule(), now=NOW)
        self.assertEqual(self.listed(run), {"c-old-2"})

    def test_a_thread_hold_covers_every_item_of_the_thread(self) -> None:
        services.hold_place(
            actor=self.rita, scope=HoldScope.THREAD, item=self.items["c-old-3"], reason="Thread"
        )
        run = services.disposal_run_create(actor=None, rule=self.rule(), now=NOW)
        # post-9's thread: c-old-3 (and removed-old, which this class leaves alone anyway).
        self.assertEqual(self.listed(run), {"c-old-1", "c-old-2", "b-old"})

    def test_a_registered_case_is_held_r27(self) -> None:
        services.registry_flag(
            actor=self.rita,
            item=self.items["c-old-2"],
            kind="case",
            received_on=dt.date(2025, 2, 1),
            sender="Anna",
            description="Complaint about opening hours",
            case_number="KS 2025/300",
        )
        run = services.disposal_run_create(actor=None, rule=self.rule(), now=NOW)
        self.assertNotIn("c-old-2", self.listed(run))
        self.assertIn("c-old-1", self.listed(run))

    def test_an_item_held_after_the_dry_run_is_skipped_at_commit(self) -> None:
        run = services.disposal_run_create(actor=self.rita, rule=self.rule(), now=NOW)
        hold = services.hold_place(
            actor=self.rita, scope=HoldScope.ITEM, item=self.items["c-old-1"], reason="Late"
        )
        run = services.disposal_run_commit(actor=self.rita, run=run)
        self.assertEqual(run.skipped_count, 1)
        outcome = run.entries.get(item=self.items["c-old-1"]).outcome
        self.assertEqual(outcome, DisposalRunItem.Outcome.HELD)
        self.assertIsNotNone(ItemVersion.objects.get(item=self.items["c-old-1"]).raw_payload)
        # Released, the item is listed again.
        services.hold_release(actor=self.rita, hold=hold, reason="Review done")
        again = services.disposal_run_create(actor=None, rule=run.rule, now=NOW)
        self.assertEqual(self.listed(again), {"c-old-1"})

    def test_a_hold_needs_what_it_covers_and_a_police_report_its_number(self) -> None:
        with self.assertRaisesMessage(ValidationError, "Choose the record"):
            services.hold_place(actor=self.rita, scope=HoldScope.ITEM, reason="x")
        with self.assertRaisesMessage(ValidationError, "police report's number"):
            services.hold_place(
                actor=self.rita,
                scope=HoldScope.ACCOUNT,
                account=self.account_a,
                kind=LegalHold.Kind.POLICE_REPORT,
                reason="x",
            )
        self.assertFalse(LegalHold.objects.exists())

    def test_the_scheduled_job_only_makes_dry_runs_and_reminds_r27(self) -> None:
        rule = self.rule()
        before = contents()
        with self.settings(NARVARO_BASE_URL="https://narvaro.example.se"):
            result = retention_dry_runs.call()
        run = DisposalRun.objects.get()
        self.assertEqual((result["dry_runs"], run.rule, run.state), ([run.pk], rule, "dry_run"))
        self.assertEqual(contents(), before)
        (message,) = mail.outbox
        self.assertEqual(sorted(message.to), ["adam@example.org", "rita@example.org"])
        self.assertEqual(message.subject, "Narvaro: disposal (gallring) runs wait for a decision")
        self.assertIn(
            "- Kommentarer av ringa betydelse (KS 2025/118 punkt 4.2): 4 items", message.body
        )
        # The whole address of the run's page, where it is reviewed and committed.
        self.assertIn(f"https://narvaro.example.se/records-management/runs/{run.pk}/", message.body)
        for person in (self.rita, self.adam):
            page = self.client_for(person).get(f"/records-management/runs/{run.pk}/")
            self.assertContains(page, "Commit the disposal")
        # While that dry run waits, the next week makes no new one and sends nothing.
        self.assertEqual(retention_dry_runs.call()["dry_runs"], [])
        self.assertEqual((DisposalRun.objects.count(), len(mail.outbox)), (1, 1))
        # Once it is committed, the next week lists what has become old enough since.
        services.disposal_run_commit(actor=self.rita, run=run)
        self.assertEqual(len(retention_dry_runs.call()["dry_runs"]), 1)

    def test_the_reminder_is_in_the_organisations_language_r27(self) -> None:
        self.rule()
        self.rule(record_class=RecordClass.REMOVED_POSTS, name="Borttagna inlägg")
        with self.settings(LANGUAGE_CODE="sv", NARVARO_BASE_URL="https://narvaro.example.se"):
            retention_dry_runs.call()
        (message,) = mail.outbox
        self.assertEqual(message.subject, "Narvaro: provkörningar av gallring väntar på beslut")
        self.assertIn("Ingenting har gallrats ännu", message.body)
        runs = {run.rule.name: run for run in DisposalRun.objects.select_related("rule")}
        self.assertEqual(runs["Kommentarer av ringa betydelse"].item_count, 4)
        self.assertIn(
            "- Kommentarer av ringa betydelse (KS 2025/118 punkt 4.2): 4 handlingar", message.body
        )
        self.assertEqual(runs["Borttagna inlägg"].item_count, 1)
        self.assertIn("- Borttagna inlägg (KS 2025/118 punkt 4.2): 1 handling\n", message.body)
        for run in runs.values():
            self.assertIn(
                f"https://narvaro.example.se/records-management/runs/{run.pk}/", message.body
            )
        self.assertNotIn("item", message.body)

    def test_an_item_on_an_open_request_survives_a_matching_rule_r27(self) -> None:
        from narvaro.disclosure import services as disclosure

        records_request = disclosure.request_create(
            actor=self.rita, channel="email", scope="Kommentarer 2025", delivery_route="email"
        )
        disclosure.request_items_add(
            actor=self.rita, records_request=records_request, items=[self.items["c-old-1"]]
        )
        run = services.disposal_run_create(actor=None, rule=self.rule(), now=NOW)
        self.assertNotIn("c-old-1", self.listed(run))
        self.assertIn("c-old-2", self.listed(run))
        # Taken off the request, the item is no longer held.
        disclosure.request_item_remove(actor=self.rita, request_item=records_request.items.get())
        run = services.disposal_run_create(actor=None, rule=run.rule, now=NOW)
        self.assertIn("c-old-1", self.listed(run))
