"""The moderation pages: who may open them, the flows, and bounded query counts."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from narvaro.archive.models import ItemEvent
from narvaro.moderation import services
from narvaro.moderation.models import EscalationTask, ModerationAction, QueueEntry, Reason
from narvaro.moderation.tests.support import ModerationTestCase


class ItemModeratePageTests(ModerationTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.item = self.inbound("1", text="Ni borde skämmas")
        self.url = reverse("moderation:item_moderate", args=[self.item.pk])

    def test_access_moderator_200_viewer_403_other_unit_404(self) -> None:
        self.assertEqual(self.client_for(self.max).get(self.url).status_code, 200)
        self.assertEqual(self.client_for(self.alice).get(self.url).status_code, 200)
        self.assertEqual(self.client_for(self.adam).get(self.url).status_code, 200)
        self.assertEqual(self.client_for(self.vera).get(self.url).status_code, 403)
        self.assertEqual(self.client_for(self.rita).get(self.url).status_code, 403)
        self.assertEqual(self.client_for(self.bob).get(self.url).status_code, 404)
        self.assertEqual(self.client_for(self.oscar).get(self.url).status_code, 404)
        missing = reverse("moderation:item_moderate", args=[self.item.pk + 1000])
        self.assertEqual(self.client_for(self.max).get(missing).status_code, 404)
        self.assertEqual(self.client_for(None).get(self.url).status_code, 302)

    def test_the_page_shows_the_item_the_policy_and_the_imported_account_note(self) -> None:
        response = self.client_for(self.max).get(self.url)
        self.assertContains(response, "Ni borde skämmas")
        self.assertContains(response, str(self.account_a.comment_policy_version))
        self.assertContains(response, "imported account")

    def test_posting_without_a_reason_is_refused_with_errors(self) -> None:
        response = self.client_for(self.max).post(
            self.url, {"action": "hide", "reason": "", "reason_text": "", "by_hand": "on"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Choose the reason for this action.")
        self.assertContains(response, "the reason is required")
        self.assertFalse(ModerationAction.objects.exists())

    def test_posting_a_decision_records_it_and_shows_it(self) -> None:
        response = self.client_for(self.max).post(
            self.url,
            {
                "action": "hide",
                "reason": Reason.ABUSIVE,
                "reason_text": "Kränkande",
                "by_hand": "on",
            },
        )
        record = ModerationAction.objects.get()
        self.assertRedirects(response, record.get_absolute_url())
        self.assertEqual(record.status, "by_hand")
        self.assertTrue(ItemEvent.objects.filter(item=self.item, type="hidden").exists())
        page = self.client_for(self.max).get(record.get_absolute_url())
        self.assertContains(page, "Recorded as done by hand on the platform.")
        self.assertContains(page, record.rendering_sha256)
        rendering = self.client_for(self.max).get(
            reverse("moderation:action_rendering", args=[record.pk])
        )
        self.assertEqual(rendering["Content-Type"], "application/pdf")
        self.assertEqual(self.client_for(self.vera).get(record.get_absolute_url()).status_code, 403)
        self.assertEqual(self.client_for(self.bob).get(record.get_absolute_url()).status_code, 404)

    def test_a_restricted_item_disappears_for_moderators(self) -> None:
        record = services.moderation_act(
            actor=self.max,
            item=self.item,
            action="hide",
            reason=Reason.CSAM,
            reason_text="Övergreppsmaterial",
            by_hand=True,
        )
        self.assertEqual(self.client_for(self.max).get(self.url).status_code, 404)
        self.assertEqual(self.client_for(self.max).get(record.get_absolute_url()).status_code, 404)
        self.assertEqual(self.client_for(self.alice).get(self.url).status_code, 200)
        response = self.client_for(self.alice).get(record.get_absolute_url())
        self.assertContains(response, "No media were copied into the rendering.")
        self.assertEqual(self.client_for(self.rita).get(record.get_absolute_url()).status_code, 200)
        log = self.client_for(self.max).get(reverse("moderation:log", args=[self.account_a.pk]))
        self.assertNotContains(log, record.get_absolute_url())


class QueuePageTests(ModerationTestCase):
    def test_the_queue_lists_pending_items_newest_first_and_filters(self) -> None:
        import datetime as dt

        for n in range(3):
            self.inbound(
                f"q{n}",
                text=f"Fråga nummer {n}",
                created_at=dt.datetime(2026, 3, 1 + n, tzinfo=dt.UTC),
            )
        url = reverse("moderation:queue", args=[self.account_a.pk])
        response = self.client_for(self.max).get(url)
        body = response.content.decode()
        self.assertLess(body.index("Fråga nummer 2"), body.index("Fråga nummer 0"))
        filtered = self.client_for(self.max).get(url + "?q=nummer+1")
        self.assertContains(filtered, "Fråga nummer 1")
        self.assertNotContains(filtered, "Fråga nummer 2")
        self.assertEqual(self.client_for(self.vera).get(url).status_code, 403)
        self.assertEqual(self.client_for(self.rita).get(url).status_code, 200)
        self.assertEqual(self.client_for(self.bob).get(url).status_code, 404)

    def test_marking_reviewed_takes_items_off_the_queue(self) -> None:
        one, two = self.inbound("a"), self.inbound("b")
        url = reverse("moderation:queue_review", args=[self.account_a.pk])
        response = self.client_for(self.max).post(url, {"item": [str(one.pk)]})
        self.assertRedirects(response, reverse("moderation:queue", args=[self.account_a.pk]))
        self.assertEqual(
            list(
                QueueEntry.objects.filter(reviewed_at__isnull=True).values_list("item", flat=True)
            ),
            [two.pk],
        )
        self.assertEqual(self.client_for(self.rita).post(url, {"item": [two.pk]}).status_code, 403)

    def test_query_counts_do_not_grow_with_the_rows(self) -> None:
        url = reverse("moderation:queue", args=[self.account_a.pk])
        log_url = reverse("moderation:log", args=[self.account_a.pk])
        client, manager = self.client_for(self.max), self.client_for(self.alice)
        self.inbound("first")
        services.moderation_act(
            actor=self.max,
            item=self.inbound("m0"),
            action="hide",
            reason=Reason.SPAM,
            reason_text="x",
            by_hand=True,
        )
        counts = []
        for batch in range(2):
            for n in range(10):
                self.inbound(f"r{batch}-{n}")
                services.moderation_act(
                    actor=self.max,
                    item=self.inbound(f"m{batch}-{n}"),
                    action="hide",
                    reason=Reason.THREAT if n % 2 else Reason.SPAM,
                    reason_text="x",
                    by_hand=True,
                )
            pages = []
            for page, status in (
                (url, 200),
                (log_url, 200),
                (reverse("moderation:overview"), 200),
                (reverse("moderation:escalation_list"), 403),
            ):
                with CaptureQueriesContext(connection) as queries:
                    self.assertEqual(client.get(page).status_code, status)
                pages.append(len(queries))
            with CaptureQueriesContext(connection) as queries:
                manager.get(reverse("moderation:escalation_list"))
            pages.append(len(queries))
            counts.append(pages)
        self.assertEqual(counts[0], counts[1])
        self.assertLessEqual(max(counts[1]), 15)


class EscalationPageTests(ModerationTestCase):
    def test_managers_see_and_close_escalations_moderators_do_not(self) -> None:
        record = services.moderation_act(
            actor=self.max,
            item=self.inbound("t", text="Jag ska skada dig"),
            action="hide",
            reason=Reason.THREAT,
            reason_text="Hot",
            by_hand=True,
        )
        task = EscalationTask.objects.get(action=record)
        url = task.get_absolute_url()
        self.assertEqual(self.client_for(self.max).get(url).status_code, 404)
        self.assertEqual(self.client_for(self.bob).get(url).status_code, 404)
        self.assertContains(self.client_for(self.rita).get(url), "Jag ska skada dig")
        response = self.client_for(self.alice).get(url)
        self.assertContains(response, task.bundle_sha256)
        bundle = self.client_for(self.alice).get(
            reverse("moderation:escalation_bundle", args=[task.pk])
        )
        self.assertEqual(bundle["Content-Type"], "application/zip")
        close = reverse("moderation:escalation_close", args=[task.pk])
        refused = self.client_for(self.alice).post(close, {"status": "reported"})
        self.assertEqual(refused.status_code, 400)
        self.assertContains(refused, "police&#x27;s reference", status_code=400)
        done = self.client_for(self.alice).post(
            close, {"status": "reported", "police_reference": "5000-K1-26"}
        )
        self.assertRedirects(done, url)
        task.refresh_from_db()
        self.assertEqual(task.status, "reported")


class PersonalDataFlagTests(ModerationTestCase):
    def test_a_personnummer_is_flagged_in_the_queue_and_hiding_is_suggested_r33(self) -> None:
        from narvaro.radar.services import items_classify

        item = self.inbound("pnr", text="Mitt personnummer är 19811218-9876, ring mig")
        items_classify([item.pk])
        queue = self.client_for(self.max).get(reverse("moderation:queue", args=[self.account_a.pk]))
        self.assertContains(queue, "Personal identity number")
        page = self.client_for(self.max).get(reverse("moderation:item_moderate", args=[item.pk]))
        self.assertContains(page, "hiding it on the platform is suggested")
        self.assertContains(page, '<option value="personnummer" selected>', html=False)


class ByHandTests(ModerationTestCase):
    def test_an_imported_account_needs_the_by_hand_confirmation(self) -> None:
        item = self.inbound("h")
        url = reverse("moderation:item_moderate", args=[item.pk])
        data = {"action": "hide", "reason": Reason.SPAM, "reason_text": "Reklam"}
        refused = self.client_for(self.max).post(url, data)
        self.assertContains(refused, "do it on the platform, then confirm here that it is done")
        self.assertFalse(ModerationAction.objects.exists())
        done = self.client_for(self.max).post(url, {**data, "by_hand": "on"})
        self.assertRedirects(done, ModerationAction.objects.get().get_absolute_url())
