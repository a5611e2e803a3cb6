"""Requests for public records end to end: logging, the clock, compiling, deciding, masking and
delivering (R23–R26, R33, R37)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zoneinfo

import time_machine
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import translation

from narvaro.archive.capture import EventInput
from narvaro.archive.fixity import verify_archive
from narvaro.archive.models import Item, ItemVersion
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture, a_deletion, an_image
from narvaro.core.audit_summaries import summary_display, summary_match
from narvaro.core.models import AuditEvent
from narvaro.disclosure import selectors, services
from narvaro.disclosure.models import Decision, Delivery, DeliveryFile, RecordsRequest, Redaction
from narvaro.disclosure.services import delivery_render
from narvaro.disclosure.tests.test_rendering import pdf_text
from narvaro.lib.testing import NarvaroTestCase

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
PNR = "19811218-9876"


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


def new_request(actor, **extra) -> RecordsRequest:  # type: ignore[no-untyped-def]
    fields = {
        "channel": RecordsRequest.Channel.EMAIL,
        "scope": "Allt @erik skrev på bibliotekets konto under 2024.",
        "delivery_route": RecordsRequest.Route.COLLECT,
        **extra,
    }
    return services.request_create(actor=actor, **fields)


class ArchiveFixture(NarvaroTestCase):
    """@erik on the library account in 2023–2025, with an edit, a deletion and a personnummer."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        erik = {"author_handle": "@erik@social.example", "author_name": "Erik"}
        # e1: 2024, edited twice; its first version carries a personnummer.
        for text in [f"Hej! Mitt personnummer är {PNR}.", "Hej! (redigerat)", "Hej igen!"]:
            capture_batch(
                account=cls.account_a,
                captures=[a_capture("e1", text, created_at=at(2024, 2, 1), **erik)],
                source="test",
            )
        capture_batch(
            account=cls.account_a,
            captures=[
                # Outside 2024, another author, or another account: not matching.
                a_capture("e0", "Gammalt inlägg", created_at=at(2023, 12, 31, 23, 59), **erik),
                a_capture("e3", "Nytt år", created_at=at(2025, 1, 1, 0, 1), **erik),
                a_capture("a1", "Annas fråga", created_at=at(2024, 5, 5)),
            ],
            source="test",
        )
        capture_batch(
            account=cls.account_b,
            captures=[a_capture("b1", "Parkbänk", created_at=at(2024, 6, 1), **erik)],
            source="test",
        )

    def deliver(self, **kwargs):  # type: ignore[no-untyped-def]
        """Queue a delivery and run its rendering task as the worker would."""
        with self.captureOnCommitCallbacks(execute=True):
            delivery = services.delivery_create(**kwargs)
        delivery.refresh_from_db()
        return delivery

    def setUp(self) -> None:
        super().setUp()
        # e2: 2024, with an image and its alt text, later deleted on the platform and removed
        # by moderation. Captured per test: each test has its own media folder.
        capture_batch(
            account=self.account_a,
            captures=[
                a_capture(
                    "e2",
                    "Titta på kön vid bokbussen",
                    created_at=at(2024, 12, 31, 23, 30),
                    media=(an_image(alt="Lång kö vid en grön buss"),),
                    author_handle="@erik@social.example",
                    author_name="Erik",
                )
            ],
            events=[
                a_deletion("e2"),
                EventInput(platform="mastodon", remote_id="e2", type="removed"),
            ],
            source="test",
        )

    def compile_erik_2024(self, records_request: RecordsRequest) -> int:
        """Everything by @erik in 2024 on the library account, found with the archive's search."""
        items = selectors.compile_candidates(
            self.rita,
            records_request,
            author="@erik",
            account=self.account_a.pk,
            date_from=dt.date(2024, 1, 1),
            date_to=dt.date(2024, 12, 31),
        )
        return services.request_items_add(
            actor=self.rita, records_request=records_request, items=items
        )


class RequestLoggingTests(NarvaroTestCase):
    def test_a_request_without_a_name_is_accepted_and_logged_as_anonymous(self) -> None:
        """R23, R26: the requester's identity is optional and no purpose is asked."""
        records_request = new_request(self.rita)
        self.assertEqual(records_request.requester_name, "")
        self.assertEqual(records_request.handler, self.rita)
        self.assertFalse(any("purpose" in f.name for f in RecordsRequest._meta.get_fields()))
        event = AuditEvent.objects.get(
            action=AuditEvent.Action.CREATE, target_type="disclosure.recordsrequest"
        )
        self.assertEqual(event.changes, {"channel": "email", "anonymous": True})

    def test_a_copy_by_post_needs_an_address_only_then(self) -> None:
        from narvaro.disclosure.forms import RequestForm

        form = RequestForm(
            data={
                "received_at": "2026-03-02T09:00",
                "channel": "phone",
                "scope": "Kommentarerna under inlägget om bokbussen",
                "delivery_route": "post",
                "handler": self.rita.pk,
            }
        )
        self.assertFalse(form.is_valid())
        self.assertEqual(form.errors["delivery_address"], ["Say where the copy is to be sent."])
        data = dict(form.data, delivery_route="collect")
        self.assertTrue(RequestForm(data=data).is_valid())

    def test_only_registrars_and_admins_can_hold_a_request(self) -> None:
        from narvaro.disclosure.forms import RequestForm

        handlers = set(RequestForm().fields["handler"].queryset)  # type: ignore[attr-defined]
        self.assertEqual(handlers, {self.rita, self.adam})


class ClockTests(NarvaroTestCase):
    """R23: the clock starts at receipt; the end of day 1 and of day 3 are flagged."""

    def test_day_1_and_day_3_flags_follow_the_local_calendar(self) -> None:
        received = at(2026, 3, 2, 16, 30)  # a Monday afternoon
        records_request = new_request(self.rita, received_at=received)
        self.assertEqual(records_request.day_end(1), at(2026, 3, 3, 0, 0))
        self.assertEqual(records_request.day_end(3), at(2026, 3, 5, 0, 0))
        for now, overdue in [
            (at(2026, 3, 2, 23, 59), 0),
            (at(2026, 3, 3, 0, 1), 1),
            (at(2026, 3, 4, 23, 59), 1),
            (at(2026, 3, 5, 0, 0), 3),
        ]:
            with self.subTest(now=now), time_machine.travel(now, tick=False):
                listed = selectors.request_list_for_user(self.rita).get()
                self.assertEqual(listed.overdue, overdue)
                figures = selectors.request_figures(records_request)
                self.assertEqual(figures.overdue, overdue)
                self.assertEqual(figures.elapsed, now - received)

    def check_flags(
        self, received: dt.datetime, expected: list[tuple[dt.datetime, int]]
    ) -> RecordsRequest:
        records_request = new_request(self.rita, received_at=received)
        for now, overdue in expected:
            with self.subTest(now=now), time_machine.travel(now, tick=False):
                listed = selectors.request_list_for_user(self.rita).get(pk=records_request.pk)
                self.assertEqual(listed.overdue, overdue)
                self.assertEqual(selectors.request_figures(records_request).overdue, overdue)
        return records_request

    def test_days_are_working_days_across_a_weekend(self) -> None:
        """R23: a Friday's request is past day 1 on Saturday, but past day 3 only on Wednesday.

        The days are the authority's working days (lag 1930:173 counts a period ending on a
        Saturday, Sunday or holiday to the next weekday; see disclosure.clock, ADR 0016).
        """
        friday = self.check_flags(
            at(2026, 3, 6, 15, 0),
            [
                (at(2026, 3, 6, 23, 59), 0),
                (at(2026, 3, 7, 10, 0), 1),  # Saturday: it was not decided on Friday
                (at(2026, 3, 9, 9, 0), 1),  # Monday: one working day, not three days, later
                (at(2026, 3, 10, 23, 59), 1),
                (at(2026, 3, 11, 0, 0), 3),  # Wednesday: Friday, Monday, Tuesday have ended
            ],
        )
        self.assertEqual(friday.day_end(1), at(2026, 3, 7, 0, 0))
        self.assertEqual(friday.day_end(3), at(2026, 3, 11, 0, 0))

    def test_a_request_arriving_on_a_weekend_starts_on_monday(self) -> None:
        saturday = self.check_flags(
            at(2026, 3, 7, 10, 0),
            [
                (at(2026, 3, 8, 22, 0), 0),
                (at(2026, 3, 9, 23, 59), 0),  # Monday is its day 1
                (at(2026, 3, 10, 0, 0), 1),
                (at(2026, 3, 12, 0, 0), 3),
            ],
        )
        self.assertEqual(saturday.day_end(1), at(2026, 3, 10, 0, 0))
        self.assertEqual(saturday.day_end(3), at(2026, 3, 12, 0, 0))

    def test_public_holidays_do_not_count_and_a_klamdag_does(self) -> None:
        # Maundy Thursday 2026-04-02; Good Friday and Easter Monday do not count.
        easter = new_request(self.rita, received_at=at(2026, 4, 2, 12, 0))
        self.assertEqual(easter.day_end(1), at(2026, 4, 3, 0, 0))
        self.assertEqual(easter.day_end(3), at(2026, 4, 9, 0, 0))  # Thu, Tue 7, Wed 8
        # Ascension Day 2026-05-14 does not count; the Friday after (a klämdag many offices
        # close) does: requests must be handled then too (JO 4209-2009).
        ascension = new_request(self.rita, received_at=at(2026, 5, 13, 9, 0))
        self.assertEqual(ascension.day_end(3), at(2026, 5, 19, 0, 0))  # Wed, Fri, Mon
        # Midsommarafton, julafton and nyårsafton count as days off.
        christmas = new_request(self.rita, received_at=at(2026, 12, 23, 9, 0))
        self.assertEqual(christmas.day_end(3), at(2026, 12, 30, 0, 0))  # 23, 28, 29

    def test_the_list_is_not_first_come_first_served(self) -> None:
        """Overdue first; within a group the one closest to a decision, then the newest."""
        with time_machine.travel(at(2026, 3, 10, 9, 0), tick=False):
            oldest = new_request(self.rita, received_at=at(2026, 3, 5, 9))  # past day 3
            day1_a = new_request(self.rita, received_at=at(2026, 3, 9, 8))  # past day 1
            day1_b = new_request(self.rita, received_at=at(2026, 3, 8, 20))  # past day 1
            today_a = new_request(self.rita, received_at=at(2026, 3, 10, 7))
            today_b = new_request(self.rita, received_at=at(2026, 3, 10, 8))
            capture_batch(account=self.account_a, captures=[a_capture("q1")], source="test")
            services.request_items_add(
                actor=self.rita, records_request=day1_a, items=Item.objects.all()
            )
            order = list(selectors.request_list_for_user(self.rita))
        self.assertEqual(order, [oldest, day1_b, day1_a, today_b, today_a])
        self.assertNotEqual(order, sorted(order, key=lambda r: r.received_at))


class CompileAndDeliverTests(ArchiveFixture):
    def test_everything_by_someone_in_2024_on_an_account_prints_every_version(self) -> None:
        """R24: all matching records, also edited and deleted ones, every version literally."""
        records_request = new_request(self.rita)
        self.assertEqual(self.compile_erik_2024(records_request), 2)
        chosen = set(records_request.items.values_list("item__remote_id", flat=True))
        self.assertEqual(chosen, {"e1", "e2"})
        # Withheld nothing; the personnummer suggestion is reviewed (kept readable here).
        for redaction in Redaction.objects.filter(request_item__request=records_request):
            services.redaction_review(actor=self.rita, redaction=redaction, accept=False)
        for request_item in records_request.items.all():
            services.request_item_decide(
                actor=self.rita, request_item=request_item, decision=Decision.RELEASE
            )
        delivery = self.deliver(actor=self.rita, records_request=records_request)
        printout = delivery.files.get(kind=DeliveryFile.Kind.PRINTOUT)
        with default_storage.open(printout.storage_name, "rb") as handle:
            text = pdf_text(handle.read())
        versions = ItemVersion.objects.filter(item__remote_id__in=["e1", "e2"])
        self.assertEqual(versions.count(), 4)
        for version in versions:
            self.assertIn(version.text, text)
        self.assertIn("Lång kö vid en grön buss", text)  # alt text
        self.assertIn("Raderad på plattformen", text)  # the deletion, in Swedish
        self.assertIn("Borttagen av moderering", text)
        for absent in ["Gammalt inlägg", "Nytt år", "Annas fråga", "Parkbänk"]:
            self.assertNotIn(absent, text)
        # No decision document: nothing was withheld or masked.
        self.assertEqual(list(delivery.files.values_list("kind", flat=True)), ["printout"])

    def test_a_redacted_personnummer_is_masked_while_the_archive_stays_unchanged(self) -> None:
        """R25, R33: suggested, accepted with its ground, masked in the copy only, logged."""
        records_request = new_request(self.rita, electronic_copy=True)
        self.compile_erik_2024(records_request)
        first = ItemVersion.objects.get(item__remote_id="e1", number=1)
        before = list(
            ItemVersion.objects.values_list("pk", "text", "content_digest", "chain_digest")
        )
        suggestion = Redaction.objects.get(request_item__request=records_request)
        self.assertEqual((suggestion.version, suggestion.kind), (first, "pnr"))
        self.assertEqual(first.text[suggestion.start : suggestion.end], PNR)  # type: ignore[index]

        services.redaction_review(
            actor=self.rita, redaction=suggestion, accept=True, legal_ground="OSL 21 kap. 7 §"
        )
        e1 = records_request.items.get(item__remote_id="e1")
        with self.assertRaisesMessage(ValidationError, "choose release in part"):
            services.request_item_decide(actor=self.rita, request_item=e1, decision="release")
        services.request_item_decide(
            actor=self.rita, request_item=e1, decision="partly", legal_ground="OSL 21 kap. 7 §"
        )
        e2 = records_request.items.get(item__remote_id="e2")
        services.request_item_decide(actor=self.rita, request_item=e2, decision="release")
        delivery = self.deliver(actor=self.rita, records_request=records_request)

        files = {
            f.kind: default_storage.open(f.storage_name, "rb").read() for f in delivery.files.all()
        }
        self.assertEqual(set(files), {"printout", "pdfa", "csv", "json", "decision"})
        for kind in ["printout", "pdfa"]:
            text = pdf_text(files[kind])
            self.assertNotIn(PNR, text)
            self.assertNotIn("9876", text)
            self.assertIn("Mitt personnummer är [maskerat: OSL 21 kap. 7 §]", text)
            self.assertIn("Hej igen!", text)
        self.assertNotIn(PNR, files["csv"].decode("utf-8"))
        document = json.loads(files["json"])
        texts = [v["text"] for r in document["records"] for v in r["versions"]]
        self.assertIn("Hej! Mitt personnummer är [maskerat: OSL 21 kap. 7 §].", texts)
        rows = list(csv.DictReader(io.StringIO(files["csv"].decode("utf-8-sig"))))
        self.assertEqual(len(rows), 4)  # one line per version
        decision = pdf_text(files["decision"])
        self.assertIn("OSL 21 kap. 7 §", decision)
        self.assertIn("kammarrätten", decision)
        self.assertIn("inom tre veckor", decision)

        # The archive: every text, digest and chain digest as before, and verify passes.
        after = list(
            ItemVersion.objects.values_list("pk", "text", "content_digest", "chain_digest")
        )
        self.assertEqual(after, before)
        report = verify_archive()
        self.assertTrue(report.intact, report.problems)
        # The decision log cites the legal ground and the reviewer.
        logged = AuditEvent.objects.filter(
            target_id=str(records_request.pk), summary__startswith="redaction accepted"
        ).get()
        self.assertEqual(logged.actor, self.rita)
        self.assertEqual(logged.changes["legal_ground"], "OSL 21 kap. 7 §")
        self.assertEqual(logged.changes["span"], [suggestion.start, suggestion.end])
        export = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
        self.assertEqual(
            export.changes["files"]["printout"], delivery.files.get(kind="printout").sha256
        )

    def test_withholding_needs_a_ground_and_gives_a_decision_with_appeal_instructions(self) -> None:
        records_request = new_request(self.rita)
        self.compile_erik_2024(records_request)
        e2 = records_request.items.get(item__remote_id="e2")
        with self.assertRaisesMessage(ValidationError, "Give the legal ground"):
            services.request_item_decide(actor=self.rita, request_item=e2, decision="withhold")
        services.request_item_decide(
            actor=self.rita, request_item=e2, decision="withhold", legal_ground="OSL 26 kap. 1 §"
        )
        delivery = self.deliver(actor=self.rita, records_request=records_request, language="en")
        # Only a decision: nothing is released in this stage.
        self.assertEqual(list(delivery.files.values_list("kind", flat=True)), ["decision"])
        stored = delivery.files.get()
        text = pdf_text(default_storage.open(stored.storage_name, "rb").read())
        self.assertIn("1 record is withheld.", text)
        self.assertIn("mastodon:e2", text)
        self.assertIn("OSL 26 kap. 1 §", text)
        self.assertIn("administrative court of appeal (kammarrätten)", text)
        self.assertIn("within three weeks", text)
        self.assertNotIn("bokbussen", text)  # a withheld record's text is not in its decision

    def test_releases_come_in_stages_and_unreviewed_suggestions_block_a_stage(self) -> None:
        """R23: release in stages; R25: every suggestion is decided before release."""
        records_request = new_request(self.rita)
        self.compile_erik_2024(records_request)
        e1 = records_request.items.get(item__remote_id="e1")
        e2 = records_request.items.get(item__remote_id="e2")
        with self.assertRaisesMessage(ValidationError, "No decided records"):
            self.deliver(actor=self.rita, records_request=records_request)
        services.request_item_decide(actor=self.rita, request_item=e2, decision="release")
        first = self.deliver(actor=self.rita, records_request=records_request)
        self.assertEqual(first.number, 1)
        services.request_item_decide(actor=self.rita, request_item=e1, decision="release")
        with self.assertRaisesMessage(
            ValidationError, "Review the suggested maskings first (1 left)"
        ):
            self.deliver(actor=self.rita, records_request=records_request)
        services.redaction_review(actor=self.rita, redaction=e1.redactions.get(), accept=False)
        second = self.deliver(actor=self.rita, records_request=records_request)
        self.assertEqual(second.number, 2)
        self.assertEqual([ri.item.remote_id for ri in second.items.all()], ["e1"])
        e2.refresh_from_db()
        with self.assertRaisesMessage(ValidationError, "its decision stands"):
            services.request_item_decide(
                actor=self.rita,
                request_item=e2,
                decision="withhold",
                legal_ground="OSL 21 kap. 7 §",
            )
        services.request_close(actor=self.rita, records_request=records_request)
        self.assertEqual(records_request.status, "closed")

    def test_a_registrar_may_mask_any_passage_with_a_ground(self) -> None:
        records_request = new_request(self.rita)
        self.compile_erik_2024(records_request)
        e2 = records_request.items.get(item__remote_id="e2")
        version = e2.item.versions.get()
        with self.assertRaisesMessage(ValidationError, "does not occur"):
            services.redaction_add(
                actor=self.rita, request_item=e2, version=version, text="buss!", legal_ground="x"
            )
        made = services.redaction_add(
            actor=self.rita,
            request_item=e2,
            version=version,
            text="bokbussen",
            legal_ground="OSL 18 kap. 1 §",
        )
        self.assertEqual([(r.start, r.end, r.status) for r in made], [(17, 26, "accepted")])
        other = ItemVersion.objects.get(item__remote_id="e1", number=1)
        with self.assertRaisesMessage(ValidationError, "another record"):
            services.redaction_add(
                actor=self.rita, request_item=e2, version=other, text="Hej", legal_ground="x"
            )

    def test_items_on_open_requests_are_held_until_the_request_closes(self) -> None:
        """R27: an open request is a legal hold on its records."""
        records_request = new_request(self.rita)
        self.compile_erik_2024(records_request)
        held = set(
            Item.objects.filter(pk__in=selectors.items_on_open_requests()).values_list(
                "remote_id", flat=True
            )
        )
        self.assertEqual(held, {"e1", "e2"})
        for request_item in records_request.items.all():
            for redaction in request_item.redactions.all():
                services.redaction_review(actor=self.rita, redaction=redaction, accept=False)
            services.request_item_decide(
                actor=self.rita, request_item=request_item, decision="release"
            )
        self.deliver(actor=self.rita, records_request=records_request)
        services.request_close(actor=self.rita, records_request=records_request)
        self.assertFalse(selectors.items_on_open_requests().exists())

    def test_a_failed_rendering_is_shown_as_failed_leaves_no_files_and_can_be_retried(
        self,
    ) -> None:
        records_request = new_request(self.rita)
        self.compile_erik_2024(records_request)
        e1 = records_request.items.get(item__remote_id="e1")
        suggestion = e1.redactions.get()
        services.redaction_review(
            actor=self.rita, redaction=suggestion, accept=True, legal_ground="OSL 21 kap. 7 §"
        )
        services.request_item_decide(
            actor=self.rita, request_item=e1, decision="partly", legal_ground="OSL 21 kap. 7 §"
        )
        # A span that no longer fits its text (as if the row were tampered with) stops the
        # rendering: nothing half-made is kept, and the stage says it failed.
        Redaction.objects.filter(pk=suggestion.pk).update(end=10_000)
        with self.assertLogs("narvaro.disclosure.services", "ERROR"):
            delivery = self.deliver(actor=self.rita, records_request=records_request)
        self.assertEqual(delivery.status, Delivery.Status.FAILED)
        self.assertIn("lies outside the text", delivery.error)
        self.assertFalse(DeliveryFile.objects.exists())
        folder = f"disclosure/request-{records_request.pk}/1"
        self.assertFalse(default_storage.exists(folder) and default_storage.listdir(folder)[1])
        self.assertFalse(AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists())
        # Not delivered: the request cannot be closed, and the page says failed, not delivered.
        with self.assertRaisesMessage(ValidationError, "not been decided and delivered"):
            services.request_close(actor=self.rita, records_request=records_request)
        page = self.client_for(self.rita).get(records_request.get_absolute_url())
        self.assertContains(page, "Failed: nothing was delivered.")
        self.assertContains(page, "lies outside the text")
        self.assertContains(page, "Make delivery 1 again")
        self.assertNotContains(page, "hx-trigger")
        # Only a failed stage is retried; once the span is fixed the retry delivers.
        Redaction.objects.filter(pk=suggestion.pk).update(end=suggestion.end)
        with self.captureOnCommitCallbacks(execute=True):
            services.delivery_retry(actor=self.rita, delivery=delivery)
        delivery.refresh_from_db()
        self.assertEqual((delivery.status, delivery.error), (Delivery.Status.READY, ""))
        self.assertEqual(
            set(delivery.files.values_list("kind", flat=True)), {"printout", "decision"}
        )
        with self.assertRaisesMessage(ValidationError, "Only a failed delivery"):
            services.delivery_retry(actor=self.rita, delivery=delivery)

    def test_a_stage_is_rendered_once_however_often_its_task_runs(self) -> None:
        records_request = new_request(self.rita)
        self.compile_erik_2024(records_request)
        e2 = records_request.items.get(item__remote_id="e2")
        services.request_item_decide(actor=self.rita, request_item=e2, decision="release")
        with self.captureOnCommitCallbacks() as enqueued:
            delivery = services.delivery_create(actor=self.rita, records_request=records_request)
        self.assertEqual(delivery.status, Delivery.Status.QUEUED)
        self.assertFalse(delivery.files.exists())
        e2.refresh_from_db()
        self.assertEqual(e2.delivery, delivery)  # reserved: a next stage will not take it
        self.assertEqual(len(enqueued), 1)
        enqueued[0]()
        delivery_render(delivery_id=delivery.pk)  # a second worker finds nothing to do
        delivery.refresh_from_db()
        self.assertEqual(delivery.status, Delivery.Status.READY)
        self.assertIsNotNone(delivery.rendered_at)
        self.assertEqual(delivery.files.count(), 1)
        self.assertEqual(AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count(), 1)

    def test_a_stage_whose_worker_stopped_mid_render_can_be_retried_after_a_while(self) -> None:
        records_request = new_request(self.rita)
        self.compile_erik_2024(records_request)
        e2 = records_request.items.get(item__remote_id="e2")
        services.request_item_decide(actor=self.rita, request_item=e2, decision="release")
        with self.captureOnCommitCallbacks():  # the task is never run: the worker died
            delivery = services.delivery_create(actor=self.rita, records_request=records_request)
        started = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.RENDERING, render_started_at=started
        )
        delivery.refresh_from_db()
        with time_machine.travel(started + dt.timedelta(minutes=10), tick=False):
            self.assertFalse(delivery.retryable)  # still plausibly running: never twice
            with self.assertRaisesMessage(ValidationError, "Only a failed delivery"):
                services.delivery_retry(actor=self.rita, delivery=delivery)
        with time_machine.travel(started + dt.timedelta(minutes=31), tick=False):
            self.assertTrue(delivery.stalled)
            page = self.client_for(self.rita).get(records_request.get_absolute_url())
            self.assertContains(page, "the worker has probably stopped")
            self.assertContains(page, "Make delivery 1 again")
            with self.captureOnCommitCallbacks(execute=True):
                services.delivery_retry(actor=self.rita, delivery=delivery)
        delivery.refresh_from_db()
        self.assertEqual(delivery.status, Delivery.Status.READY)
        self.assertEqual(delivery.files.count(), 1)


class ManyPeopleTests(NarvaroTestCase):
    def test_a_request_covering_many_people_counts_them(self) -> None:
        """R26: the page prompts an OSL 21 kap. 7 § assessment from MANY_PEOPLE authors."""
        captures = [
            a_capture(f"m{n}", "Hej", author_handle=f"@p{n}@social.example")
            for n in range(selectors.MANY_PEOPLE)
        ]
        capture_batch(account=self.account_a, captures=captures, source="test")
        records_request = new_request(self.rita)
        services.request_items_add(
            actor=self.rita, records_request=records_request, items=Item.objects.all()
        )
        self.assertEqual(selectors.request_figures(records_request).authors, selectors.MANY_PEOPLE)


class SensitiveDataTests(NarvaroTestCase):
    """R26: a request selected by a sensitive attribute prompts an OSL 21 kap. 7 § assessment."""

    def compile(self, records_request: RecordsRequest, *texts: str, **extra: object) -> None:
        first = Item.objects.count()
        captures = [
            a_capture(f"s{first + n}", text, **extra)  # type: ignore[arg-type]
            for n, text in enumerate(texts)
        ]
        capture_batch(account=self.account_a, captures=captures, source="test")
        services.request_items_add(
            actor=self.rita, records_request=records_request, items=Item.objects.all()
        )

    def test_a_request_whose_wording_names_a_diagnosis_is_selected_by_health_r26(self) -> None:
        records_request = new_request(
            self.rita, scope="Alla kommentarer om min diagnos på bibliotekets konto 2024."
        )
        self.compile(records_request, "Hej", "Tack för svaret")
        [health] = selectors.request_figures(records_request).sensitive
        self.assertEqual((health.category, health.label), ("health", "Health"))
        self.assertEqual((health.in_scope, health.searched, health.records), (True, 0, 0))

    def test_compiled_records_mentioning_religion_are_counted_r26(self) -> None:
        records_request = new_request(self.rita)
        self.compile(
            records_request,
            "Som kristen tycker jag att påskledigheten är viktig.",
            "Varför får moskén ingen parkering?",
            "När öppnar biblioteket?",
        )
        [religion] = selectors.request_figures(records_request).sensitive
        self.assertEqual(religion.category, "religion")
        self.assertEqual((religion.in_scope, religion.searched, religion.records), (False, 0, 2))

    def test_a_request_with_neither_is_selected_by_nothing_r26(self) -> None:
        records_request = new_request(self.rita)
        self.compile(records_request, "Hej! När öppnar biblioteket?", f"Mitt pnr är {PNR}.")
        self.assertEqual(selectors.request_figures(records_request).sensitive, [])

    def test_the_radar_reading_counts_where_there_is_one_and_the_text_where_not_r26(
        self,
    ) -> None:
        """The radar keeps a flag through later edits; our own posts it never reads."""
        from narvaro.radar.services import items_classify

        capture_batch(
            account=self.account_a,
            captures=[a_capture("read", "Jag är muslim och undrar om öppettiderna.")],
            source="test",
        )
        read = Item.objects.get(remote_id="read")
        items_classify([read.pk])
        # Edited on the platform: the newest text names no religion, the reading still does.
        capture_batch(
            account=self.account_a,
            captures=[a_capture("read", "Jag undrar om öppettiderna.")],
            source="test",
        )
        self.assertEqual(read.versions.count(), 2)
        records_request = new_request(self.rita)
        self.compile(
            records_request,
            "Vi har öppet för alla, oavsett religion.",
            direction="drawn_up",
            author_handle="@biblioteket@social.example",
        )
        [religion] = selectors.request_figures(records_request).sensitive
        self.assertEqual(religion.records, 2)

    def test_an_earlier_version_of_an_unread_record_counts_too_r26(self) -> None:
        """The printout releases every version: a word only an edit removed still counts."""
        records_request = new_request(self.rita)
        self.compile(
            records_request,
            "Vår handläggare är sjukskriven, svaren dröjer.",
            direction="drawn_up",
            author_handle="@biblioteket@social.example",
        )
        item = Item.objects.get()
        capture_batch(
            account=self.account_a,
            captures=[
                a_capture(
                    item.remote_id,
                    "Svaren dröjer en vecka.",
                    direction="drawn_up",
                    author_handle="@biblioteket@social.example",
                )
            ],
            source="test",
        )
        self.assertEqual(item.versions.count(), 2)
        [health] = selectors.request_figures(records_request).sensitive
        self.assertEqual((health.category, health.records), ("health", 1))

    def test_an_earlier_version_of_a_record_the_radar_read_counts_too_r26(self) -> None:
        """The radar read only the newest text (classified after the edit)."""
        from narvaro.radar.services import items_classify

        for text in ("Jag har fått diagnosen diabetes, kan ni hjälpa mig?", "Kan ni hjälpa mig?"):
            capture_batch(
                account=self.account_a, captures=[a_capture("edited", text)], source="test"
            )
        edited = Item.objects.get(remote_id="edited")
        items_classify([edited.pk])
        self.assertEqual(edited.versions.count(), 2)
        records_request = new_request(self.rita)
        services.request_items_add(
            actor=self.rita, records_request=records_request, items=Item.objects.all()
        )
        [health] = selectors.request_figures(records_request).sensitive
        self.assertEqual((health.category, health.records), ("health", 1))

    def test_the_search_that_compiled_records_counts_by_category_not_words_r26(self) -> None:
        records_request = new_request(self.rita)
        capture_batch(
            account=self.account_a,
            captures=[a_capture("c1", "Hej"), a_capture("c2", "Tack")],
            source="test",
        )
        services.request_items_add(
            actor=self.rita,
            records_request=records_request,
            items=Item.objects.all(),
            search="diagnos Anna",
        )
        [health] = selectors.request_figures(records_request).sensitive
        self.assertEqual((health.in_scope, health.searched, health.records), (False, 2, 0))
        logged = AuditEvent.objects.filter(summary="2 records compiled into the request").get()
        self.assertEqual(logged.changes["search_categories"], ["health"])
        self.assertNotIn("Anna", json.dumps(logged.changes))

    def test_categories_are_labelled_in_swedish_r26(self) -> None:
        records_request = new_request(self.rita, scope="Allt om min diabetes.")
        with translation.override("sv"):
            [health] = selectors.request_figures(records_request).sensitive
        self.assertEqual(health.label, "Hälsa")


class HandOverTests(NarvaroTestCase):
    def test_a_request_is_handed_over_only_to_a_registrar_or_admin(self) -> None:
        """R23: holiday cover; someone always holds the request, and the change is logged."""
        records_request = new_request(self.rita)
        with self.assertRaisesMessage(ValidationError, "Only an active registrar or admin"):
            services.request_reassign(
                actor=self.rita, records_request=records_request, handler=self.vera
            )
        services.request_reassign(
            actor=self.rita, records_request=records_request, handler=self.adam
        )
        records_request.refresh_from_db()
        self.assertEqual(records_request.handler, self.adam)
        event = AuditEvent.objects.get(summary="request handed over")
        self.assertEqual(event.changes, {"handler": ["Rita", "Adam"]})


class StalledDeliveryTests(ArchiveFixture):
    """A worker that dies mid-render leaves a stage `rendering`; the scheduled job recovers it."""

    def stalled_delivery(self, started: dt.datetime) -> tuple[RecordsRequest, Delivery]:
        records_request = new_request(self.rita)
        self.compile_erik_2024(records_request)
        e2 = records_request.items.get(item__remote_id="e2")
        services.request_item_decide(actor=self.rita, request_item=e2, decision="release")
        with self.captureOnCommitCallbacks() as enqueued:
            delivery = services.delivery_create(actor=self.rita, records_request=records_request)
        # The worker claims the stage at `started` and dies before storing anything.
        with time_machine.travel(started, tick=False):
            Delivery.objects.filter(pk=delivery.pk).update(
                status=Delivery.Status.RENDERING,
                render_started_at=started,
                render_attempts=1,
            )
        self.assertEqual(len(enqueued), 1)
        return records_request, delivery

    def test_a_stalled_render_is_queued_again_on_its_own_and_finishes(self) -> None:
        started = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
        _request, delivery = self.stalled_delivery(started)
        with time_machine.travel(started + dt.timedelta(minutes=29), tick=False):
            self.assertEqual(services.deliveries_recover_stalled(), [])  # may still be running
        delivery.refresh_from_db()
        self.assertEqual(delivery.status, Delivery.Status.RENDERING)
        with time_machine.travel(started + dt.timedelta(minutes=31), tick=False):
            with self.captureOnCommitCallbacks() as enqueued:
                changed = services.deliveries_recover_stalled()
            self.assertEqual([d.pk for d in changed], [delivery.pk])
            delivery.refresh_from_db()
            self.assertEqual(delivery.status, Delivery.Status.QUEUED)
            self.assertEqual(len(enqueued), 1)
            enqueued[0]()  # the next worker renders it
        delivery.refresh_from_db()
        self.assertEqual(delivery.status, Delivery.Status.READY)
        self.assertEqual(delivery.render_attempts, 2)
        self.assertEqual(delivery.files.count(), 1)
        event = AuditEvent.objects.get(summary__startswith="delivery 1 queued again: its")
        self.assertEqual(
            (event.actor_name, event.summary),
            ("system", "delivery 1 queued again: its rendering stopped (attempt 2)"),
        )

    def test_a_render_that_stalls_every_time_ends_failed_with_the_retry_offered(self) -> None:
        started = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
        records_request, delivery = self.stalled_delivery(started)
        # Queued again once; the worker dies again in the second render.
        with (
            time_machine.travel(started + dt.timedelta(minutes=31), tick=False),
            self.captureOnCommitCallbacks(),
        ):
            services.deliveries_recover_stalled()
        second = started + dt.timedelta(minutes=32)
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.RENDERING, render_started_at=second, render_attempts=2
        )
        with time_machine.travel(second + dt.timedelta(minutes=31), tick=False):
            with self.captureOnCommitCallbacks() as enqueued:
                services.deliveries_recover_stalled()
            self.assertEqual(enqueued, [])  # not queued a third time
            delivery.refresh_from_db()
            self.assertEqual(delivery.status, Delivery.Status.FAILED)
            self.assertIn("2 gånger", delivery.error)  # in the delivery's language
            self.assertTrue(delivery.retryable)
            page = self.client_for(self.rita).get(records_request.get_absolute_url())
            self.assertContains(page, "Make delivery 1 again")
            self.assertTrue(
                AuditEvent.objects.filter(
                    summary="delivery 1 failed: its rendering stopped 2 times"
                ).exists()
            )
            # The registrar's retry starts the count afresh and renders it.
            with self.captureOnCommitCallbacks(execute=True):
                services.delivery_retry(actor=self.rita, delivery=delivery)
        delivery.refresh_from_db()
        self.assertEqual((delivery.status, delivery.render_attempts), (Delivery.Status.READY, 1))

    def test_a_render_finishing_meanwhile_is_left_alone(self) -> None:
        started = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
        _, delivery = self.stalled_delivery(started)
        Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.READY)
        with time_machine.travel(started + dt.timedelta(hours=2), tick=False):
            self.assertEqual(services.deliveries_recover_stalled(), [])

    def test_the_recovery_is_a_scheduled_job(self) -> None:
        from narvaro.core.scheduler import registered_jobs

        jobs = {job.name: job for job in registered_jobs()}
        job = jobs["disclosure-stalled-deliveries"]
        self.assertEqual(job.task_path, "narvaro.disclosure.tasks.deliveries_recover_stalled")
        self.assertLessEqual(job.interval, Delivery.STALE_AFTER)


class MaskingCoverageTests(ArchiveFixture):
    """R25, R33: masking covers everything the disclosure copy shows, not only the text.

    p1 carries personal data in its text, in its image's alt text and file name, and in the
    author's display name: each is suggested, each masked in the printout, the PDF/A, the CSV
    and the JSON, while the archived original and `narvaro verify` stay as they were.
    """

    PHONE = "070-123 45 67"

    def setUp(self) -> None:
        super().setUp()
        capture_batch(
            account=self.account_a,
            captures=[
                a_capture(
                    "p1",
                    f"Ring mig, mitt nummer står i bilden. Pnr {PNR}.",
                    created_at=at(2024, 3, 3),
                    media=(
                        an_image(
                            name=f"intyg-{PNR}.jpg",
                            alt=f"Intyg för Erik Ek, personnummer {PNR}",
                        ),
                    ),
                    author_handle="@erik@social.example",
                    author_name=f"Erik Ek {self.PHONE}",
                    permalink="https://social.example/@erik/p1",
                    author_platform_id="4711",
                )
            ],
            source="test",
        )
        self.item = Item.objects.get(remote_id="p1")
        self.records_request = new_request(self.rita, electronic_copy=True)
        services.request_items_add(
            actor=self.rita, records_request=self.records_request, items=[self.item]
        )
        self.request_item = self.records_request.items.get()

    def test_personal_data_is_suggested_in_every_field_the_copy_shows(self) -> None:
        found = sorted(
            (r.field, r.kind, r.position is not None) for r in self.request_item.redactions.all()
        )
        self.assertEqual(
            found,
            [
                ("alt_text", "pnr", True),
                ("author_name", "phone", False),
                ("file_name", "pnr", True),
                ("text", "pnr", False),
            ],
        )

    def mask_everything(self) -> None:
        for redaction in self.request_item.redactions.all():
            services.redaction_review(
                actor=self.rita, redaction=redaction, accept=True, legal_ground="OSL 21 kap. 7 §"
            )
        # The registrar also masks the name in the alt text and the author's handle by hand.
        version = self.item.versions.get()
        services.redaction_add(
            actor=self.rita, request_item=self.request_item, field="alt_text",
            version=version, position=0, text="Erik Ek", legal_ground="OSL 21 kap. 7 §",
        )  # fmt: skip
        services.redaction_add(
            actor=self.rita, request_item=self.request_item, field="author_handle",
            text="@erik", legal_ground="OSL 21 kap. 7 §",
        )  # fmt: skip
        services.redaction_add(
            actor=self.rita, request_item=self.request_item, field="author_name",
            text="Erik Ek", legal_ground="OSL 21 kap. 7 §",
        )  # fmt: skip
        services.request_item_decide(
            actor=self.rita,
            request_item=self.request_item,
            decision="partly",
            legal_ground="OSL 21 kap. 7 §",
        )

    def test_the_pdf_csv_and_json_copies_are_masked_and_the_archive_is_not(self) -> None:
        version = self.item.versions.get()
        before = (version.text, version.content_digest, version.chain_digest)
        attachment_before = version.attachments.get().alt_text
        self.mask_everything()
        delivery = self.deliver(actor=self.rita, records_request=self.records_request)
        self.assertEqual(delivery.status, Delivery.Status.READY, delivery.error)
        files = {
            f.kind: default_storage.open(f.storage_name, "rb").read() for f in delivery.files.all()
        }
        self.assertEqual(set(files), {"printout", "pdfa", "csv", "json", "decision"})
        secrets = [PNR, "Erik Ek", self.PHONE, "@erik", "4711", "social.example/@erik/p1"]
        shown = {
            "printout": pdf_text(files["printout"]),
            "pdfa": pdf_text(files["pdfa"]),
            "csv": files["csv"].decode("utf-8"),
            "json": files["json"].decode("utf-8"),
        }
        for kind, text in shown.items():
            for secret in secrets:
                with self.subTest(copy=kind, secret=secret):
                    self.assertNotIn(secret, text)
            with self.subTest(copy=kind, what="the masks name the ground"):
                self.assertIn("OSL 21 kap. 7 §", text)
            # The digests of a masked version would let a reader test guesses of the masked
            # text (a personnummer has few candidates): the copy leaves them out.
            with self.subTest(copy=kind, what="digests"):
                self.assertNotIn(version.content_digest, text)
                self.assertNotIn(version.chain_digest, text)
        record = json.loads(shown["json"])["records"][0]
        self.assertTrue(record["author_name"].startswith("[maskerat: OSL 21 kap. 7 §]"))
        self.assertIsNone(record["permalink"])
        attachment = record["versions"][0]["attachments"][0]
        self.assertEqual(
            attachment["alt_text"],
            "Intyg för [maskerat: OSL 21 kap. 7 §], personnummer [maskerat: OSL 21 kap. 7 §]",
        )
        self.assertIsNone(record["versions"][0]["content_digest"])
        # Unmasked parts stay literal.
        self.assertIn("Ring mig, mitt nummer står i bilden.", shown["printout"])
        self.assertIn("Intyg för", shown["pdfa"])
        # The archive is untouched: same text, alt text and digests, and verify passes.
        version.refresh_from_db()
        self.assertEqual((version.text, version.content_digest, version.chain_digest), before)
        self.assertEqual(version.attachments.get().alt_text, attachment_before)
        self.assertIn(PNR, version.text)
        report = verify_archive()
        self.assertTrue(report.intact, report.problems)
        # Every summary the flow wrote (request, compile, masks, decision, delivery) is a
        # listed message, so the Swedish audit log shows it in Swedish (ADR 0011).
        summaries = set(AuditEvent.objects.values_list("summary", flat=True)) - {""}
        self.assertGreaterEqual(len(summaries), 6)
        with translation.override("sv"):
            for summary in summaries:
                with self.subTest(summary=summary):
                    self.assertIsNotNone(summary_match(summary))
                    self.assertNotEqual(summary_display(summary), summary)

    def test_the_html_the_pdf_is_made_from_holds_no_masked_value(self) -> None:
        """The printout's HTML (incl. the image's alt attribute) is masked, not only its text."""
        from narvaro.disclosure.rendering import items_html

        self.mask_everything()
        html, _media = items_html(
            items=[self.item],
            masks=services._spans([self.request_item]),
            title="t",
        )
        for secret in [PNR, "Erik Ek", self.PHONE, "@erik@", "4711"]:
            with self.subTest(secret=secret):
                self.assertNotIn(secret, html)
        self.assertIn('alt="Intyg för [maskerat: OSL 21 kap. 7 §]', html)

    def test_a_whole_image_can_be_withheld(self) -> None:
        """R25 asks for masking image regions; the copy withholds the whole image instead."""
        from narvaro.disclosure.rendering import items_html

        version = self.item.versions.get()
        sha = version.attachments.get().media.sha256
        services.redaction_add(
            actor=self.rita, request_item=self.request_item, field="image",
            version=version, position=0, legal_ground="OSL 21 kap. 7 §",
        )  # fmt: skip
        masks = services._spans([self.request_item])
        html, media = items_html(items=[self.item], masks=masks, title="t")
        self.assertEqual(media, {})  # neither drawn nor fetched
        self.assertNotIn(sha, html)
        self.assertIn("bilden maskerad: OSL 21 kap. 7 §", html)
        rows = services._electronic_rows([self.item], masks)
        attachment = rows[0]["versions"][0]["attachments"][0]
        self.assertEqual((attachment["sha256"], attachment["image_masked"]), ("", True))
        # Without the mask the image is drawn.
        self.assertIn(sha, items_html(items=[self.item], title="t")[1])

    def test_each_mask_is_logged_with_its_field_and_ground(self) -> None:
        self.mask_everything()
        event = AuditEvent.objects.filter(summary__startswith="redaction added: author_handle")
        self.assertEqual(event.count(), 1)
        self.assertEqual(event.get().changes["legal_ground"], "OSL 21 kap. 7 §")
        self.assertEqual(event.get().changes["field"], "author_handle")
        with translation.override("sv"):
            self.assertEqual(
                summary_display(event.get().summary),
                f"maskering tillagd: avsändarens kontonamn i handling {self.item.pk} tecken 0–5",
            )

    def test_the_review_page_offers_every_field_and_masks_an_alt_text(self) -> None:
        client = self.client_for(self.rita)
        url = reverse("disclosure:request_item", args=[self.records_request.pk, self.item.pk])
        page = client.get(url)
        self.assertContains(page, "Author&#x27;s display name")
        self.assertContains(page, "Attachment 1, alt text")
        version = self.item.versions.get()
        self.assertContains(page, f'value="alt_text:{version.pk}:0"')
        response = client.post(
            reverse("disclosure:redaction_add", args=[self.records_request.pk, self.item.pk]),
            {
                "target": f"alt_text:{version.pk}:0",
                "text": "Intyg",
                "legal_ground": "OSL 21 kap. 7 §",
            },
        )
        self.assertEqual(response.status_code, 302)
        made = Redaction.objects.get(field="alt_text", kind="manual")
        self.assertEqual((made.version, made.position, made.start, made.end), (version, 0, 0, 5))

    def test_a_masked_handle_is_taken_out_of_the_platform_ids_too(self) -> None:
        """Mastodon ids are URLs that hold the user name, also in the replies to them."""
        from narvaro.disclosure.rendering import items_html

        status = "https://social.example/users/erik/statuses/9"
        capture_batch(
            account=self.account_a,
            captures=[
                a_capture(
                    status, "Hej", created_at=at(2024, 4, 1), author_handle="@erik@social.example"
                ),
                a_capture(
                    "https://social.example/users/anna/statuses/10",
                    "Svar till honom",
                    created_at=at(2024, 4, 2),
                    parent_remote_id=status,
                    thread_remote_id=status,
                ),
            ],
            source="test",
        )
        items = list(Item.objects.filter(remote_id__contains="/statuses/").order_by("pk"))
        services.request_items_add(
            actor=self.rita, records_request=self.records_request, items=items
        )
        erik = self.records_request.items.get(item=items[0])
        services.redaction_add(
            actor=self.rita, request_item=erik, field="author_handle",
            text="@erik", legal_ground="OSL 21 kap. 7 §",
        )  # fmt: skip
        request_items = list(self.records_request.items.filter(item__in=items))
        masks = services._spans(request_items)
        html, _media = items_html(items=items, masks=masks, title="t", language="en")
        self.assertNotIn("/users/erik/", html)
        self.assertIn("https://social.example/users/[masked]/statuses/9", html)
        self.assertIn("/users/anna/statuses/10", html)  # the other author stays
        rows = services._electronic_rows(items, masks)
        self.assertEqual(
            [(r["remote_id"], r["in_reply_to"]) for r in rows],
            [
                ("https://social.example/users/[masked]/statuses/9", ""),
                (
                    "https://social.example/users/anna/statuses/10",
                    "https://social.example/users/[masked]/statuses/9",
                ),
            ],
        )
