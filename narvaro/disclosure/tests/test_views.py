"""The request pages: registrars and admins only, every view and download logged (R23, R37)."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from narvaro.archive.models import Item
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture
from narvaro.core.models import AuditEvent
from narvaro.disclosure import services
from narvaro.disclosure.models import RecordsRequest, Redaction
from narvaro.disclosure.tests.test_rendering import pdf_text
from narvaro.disclosure.tests.test_services import at, new_request
from narvaro.lib.testing import NarvaroTestCase

LIST_QUERIES = 7


class RequestPagesTests(NarvaroTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        capture_batch(
            account=cls.account_a,
            captures=[
                a_capture("v1", "Mitt nummer är 19811218-9876.", created_at=at(2024, 4, 1)),
                a_capture("v2", "Tack för svaret", created_at=at(2024, 4, 2)),
            ],
            source="test",
        )

    def setUp(self) -> None:
        super().setUp()
        self.records_request = new_request(self.rita)
        self.item = Item.objects.get(remote_id="v1")
        services.request_items_add(
            actor=self.rita, records_request=self.records_request, items=[self.item]
        )
        self.detail = self.records_request.get_absolute_url()

    def test_only_registrars_and_admins_reach_requests(self) -> None:
        """R37: least privilege; a request does not exist for anyone else."""
        for person, list_status, object_status in [
            (self.vera, 403, 404),
            (self.bob, 403, 404),
            (self.alice, 403, 404),
            (self.rita, 200, 200),
            (self.adam, 200, 200),
        ]:
            client = self.client_for(person)
            with self.subTest(person=person.username):
                self.assertEqual(
                    client.get(reverse("disclosure:request_list")).status_code, list_status
                )
                self.assertEqual(client.get(self.detail).status_code, object_status)
                item_url = reverse(
                    "disclosure:request_item", args=[self.records_request.pk, self.item.pk]
                )
                self.assertEqual(client.get(item_url).status_code, object_status)
        # A POST by someone who does not handle requests changes nothing.
        decide = reverse(
            "disclosure:request_item_decide", args=[self.records_request.pk, self.item.pk]
        )
        response = self.client_for(self.vera).post(decide, {"decision": "release"})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.records_request.items.get().decision, "")

    def test_an_unknown_request_is_404_even_for_admins(self) -> None:
        response = self.client_for(self.adam).get(reverse("disclosure:request_detail", args=[999]))
        self.assertEqual(response.status_code, 404)

    def test_a_request_is_logged_without_a_name_through_the_form(self) -> None:
        """R23: no requester name needed; the form asks no purpose (R26)."""
        client = self.client_for(self.rita)
        form_page = client.get(reverse("disclosure:request_create"))
        self.assertNotContains(form_page, "purpose")
        self.assertNotContains(form_page, "syfte")
        response = client.post(
            reverse("disclosure:request_create"),
            {
                "received_at": "2026-03-02T09:15",
                "channel": "phone",
                "scope": "Kommentarerna om bokbussen",
                "delivery_route": "collect",
                "handler": self.rita.pk,
            },
        )
        created = RecordsRequest.objects.latest("pk")
        self.assertRedirects(response, reverse("disclosure:request_compile", args=[created.pk]))
        self.assertEqual(created.requester_name, "")
        self.assertEqual(created.received_at, at(2026, 3, 2, 9, 15))

    def test_the_list_flags_day_1_and_day_3_and_says_why_it_is_not_a_queue(self) -> None:
        """R23, tested with a frozen clock. Days are working days: on Wednesday the Friday's
        request has had Friday, Monday and Tuesday; Monday's has had Monday and Tuesday."""
        with time_machine.travel(at(2026, 3, 11, 10), tick=False):
            new_request(self.rita, received_at=at(2026, 3, 9, 15), scope="Igår")
            new_request(self.rita, received_at=at(2026, 3, 6, 15), scope="Förra veckan")
            response = self.client_for(self.rita).get(reverse("disclosure:request_list"))
        rows = list(response.context["open_requests"])
        self.assertEqual([r.scope for r in rows[:2]], ["Förra veckan", "Igår"])
        self.assertContains(response, "Past the end of day 3", count=1)
        self.assertContains(response, "Past the end of day 1", count=1)
        self.assertContains(response, "so this list is not a queue")
        self.assertContains(response, "4\xa0days, 19\xa0hours")  # elapsed since receipt

    def test_the_list_costs_the_same_queries_however_many_requests(self) -> None:
        client = self.client_for(self.rita)
        closed = new_request(self.rita)
        services.request_close(actor=self.rita, records_request=closed)
        client.get(reverse("disclosure:request_list"))  # warm the session and site caches
        with CaptureQueriesContext(connection) as few:
            client.get(reverse("disclosure:request_list"))
        for n in range(6):
            request = new_request(self.rita, scope=f"Begäran {n}")
            services.request_items_add(
                actor=self.rita, records_request=request, items=Item.objects.all()
            )
            services.request_close(actor=self.rita, records_request=new_request(self.rita))
        with CaptureQueriesContext(connection) as many:
            response = client.get(reverse("disclosure:request_list"))
        self.assertEqual(len(response.context["open_requests"]), 7)
        self.assertEqual(len(many), len(few))
        self.assertEqual(len(many), LIST_QUERIES)

    def test_compiling_finds_with_the_archive_filters_and_adds_what_matches(self) -> None:
        client = self.client_for(self.rita)
        url = reverse("disclosure:request_compile", args=[self.records_request.pk])
        response = client.get(url, {"q": "tack"})
        self.assertEqual([i.remote_id for i in response.context["page"].object_list], ["v2"])
        response = client.post(
            reverse("disclosure:request_compile_add", args=[self.records_request.pk]),
            {"q": "tack", "querystring": "q=tack"},
        )
        self.assertRedirects(response, url + "?q=tack", fetch_redirect_response=False)
        remote_ids = set(self.records_request.items.values_list("item__remote_id", flat=True))
        self.assertEqual(remote_ids, {"v1", "v2"})
        logged = AuditEvent.objects.filter(action="view", summary="archive searched")
        self.assertEqual(logged.count(), 1)

    def test_review_decide_deliver_and_download_through_the_pages(self) -> None:
        """R25: mask with a ground, decide, deliver; each step and download logged (R37)."""
        client = self.client_for(self.rita)
        pk = self.records_request.pk
        item_url = reverse("disclosure:request_item", args=[pk, self.item.pk])
        page = client.get(item_url)
        self.assertContains(page, "Suggested for masking:")
        suggestion = Redaction.objects.get(request_item__request=self.records_request)
        # Accepting without a ground is refused, with the reason shown.
        accept = reverse("disclosure:redaction_accept", args=[pk, suggestion.pk])
        response = client.post(accept, {"legal_ground": ""}, follow=True)
        self.assertContains(response, "Give the legal ground for masking.")
        # A ground written out wins over the list.
        client.post(
            accept, {"legal_ground": "OSL 21 kap. 7 §", "legal_ground_other": "OSL 26 kap. 1 §"}
        )
        suggestion.refresh_from_db()
        self.assertEqual(suggestion.legal_ground, "OSL 26 kap. 1 §")
        client.post(accept, {"legal_ground": "OSL 21 kap. 7 §"})
        suggestion.refresh_from_db()
        self.assertEqual((suggestion.status, suggestion.reviewed_by), ("accepted", self.rita))
        self.assertEqual(suggestion.legal_ground, "OSL 21 kap. 7 §")
        # A decision outside the list is refused with a message; nothing changes.
        refused = client.post(
            reverse("disclosure:request_item_decide", args=[pk, self.item.pk]),
            {"decision": "publish"},
            follow=True,
        )
        self.assertContains(refused, "Choose one of the decisions offered.")
        self.assertEqual(self.records_request.items.get().decision, "")
        bad = reverse("disclosure:request_compile_add", args=[pk])
        self.assertEqual(client.post(bad, {"item": "1 OR 1=1"}).status_code, 404)
        client.post(
            reverse("disclosure:request_item_decide", args=[pk, self.item.pk]),
            {"decision": "partly", "legal_ground_other": "OSL 21 kap. 7 §"},
        )
        # The delivery is queued: the page says so, polls, and offers no file yet.
        with self.captureOnCommitCallbacks() as enqueued:
            response = client.post(
                reverse("disclosure:delivery_create", args=[pk]), {"language": "sv"}, follow=True
            )
        self.assertContains(response, "Delivery 1 is being made")
        self.assertContains(response, "Waiting to be made")
        self.assertContains(response, 'aria-live="polite"')
        status_url = reverse("disclosure:delivery_status", args=[pk])
        self.assertContains(response, f'hx-get="{status_url}?seen=1%3Aqueued"')
        self.assertContains(response, 'hx-trigger="every 3s"')
        self.assertEqual(
            client.get(reverse("disclosure:delivery_file", args=[pk, 1, "printout"])).status_code,
            404,
        )
        # Nothing changed since the page: the poll swaps nothing.
        self.assertEqual(client.get(status_url, {"seen": "1:queued"}).status_code, 204)
        self.assertEqual(len(enqueued), 1)
        enqueued[0]()  # the worker runs the task (the test backend runs it at once)
        polled = client.get(status_url, {"seen": "1:queued"})
        self.assertContains(polled, "Printout (PDF)")
        self.assertNotContains(polled, "hx-trigger")  # ready: polling stops
        download = client.get(reverse("disclosure:delivery_file", args=[pk, 1, "printout"]))
        self.assertEqual(download["Content-Type"], "application/pdf")
        text = pdf_text(b"".join(download.streaming_content))  # type: ignore[attr-defined]
        self.assertIn("[maskerat: OSL 21 kap. 7 §]", text)
        self.assertNotIn("19811218-9876", text)
        decision = client.get(reverse("disclosure:delivery_file", args=[pk, 1, "decision"]))
        self.assertEqual(decision.status_code, 200)
        self.assertEqual(
            client.get(reverse("disclosure:delivery_file", args=[pk, 1, "csv"])).status_code, 404
        )
        summaries = list(
            AuditEvent.objects.filter(target_type="disclosure.recordsrequest").values_list(
                "action", "summary"
            )
        )
        self.assertIn(("export", "delivery 1 printout downloaded"), summaries)
        self.assertIn(("export", "delivery 1 decision downloaded"), summaries)
        self.assertIn(("view", f"record {self.item.pk} reviewed"), summaries)
        self.assertTrue(any(s.startswith("delivery 1: 1 released") for _, s in summaries))

    def test_the_detail_page_shows_the_clock_and_logs_the_view(self) -> None:
        with time_machine.travel(self.records_request.received_at + dt.timedelta(days=1)):
            response = self.client_for(self.adam).get(self.detail)
        self.assertContains(response, "Past the end of day 1.")
        self.assertContains(response, "Anonymous")
        response = self.client_for(self.rita).post(
            reverse("disclosure:request_reassign", args=[self.records_request.pk]),
            {"handler": self.adam.pk},
            follow=True,
        )
        self.assertContains(response, "Request handed over.")
        self.records_request.refresh_from_db()
        self.assertEqual(self.records_request.handler, self.adam)
        self.assertTrue(
            AuditEvent.objects.filter(action="view", actor=self.adam, summary="request viewed")
        )


class SensitiveDataPageTests(NarvaroTestCase):
    """R26: the request page prompts an OSL 21 kap. 7 § assessment for sensitive selections."""

    ALERT = "This request is selected by sensitive personal data."

    def compiled(self, records_request: RecordsRequest, *texts: str) -> list[Item]:
        captures = [a_capture(f"t{n}", text) for n, text in enumerate(texts)]
        capture_batch(account=self.account_a, captures=captures, source="test")
        items = list(Item.objects.filter(remote_id__startswith="t").order_by("remote_id"))
        services.request_items_add(actor=self.rita, records_request=records_request, items=items)
        return items

    def test_a_request_naming_a_diagnosis_prompts_the_assessment_naming_health_r26(
        self,
    ) -> None:
        records_request = new_request(self.rita, scope="Alla svar om min diagnos under 2024.")
        self.compiled(records_request, "Hej")
        response = self.client_for(self.rita).get(records_request.get_absolute_url())
        self.assertContains(response, self.ALERT)
        self.assertContains(response, "<strong>Health</strong>: named in the request's wording")
        self.assertContains(response, "0 records in the request mention it")
        self.assertContains(response, "Assess under OSL 21 kap. 7 §")
        self.assertContains(response, "Do not ask the requester why they want them")
        self.assertNotContains(response, "These records come from")  # one author only
        client = self.client_for(self.rita)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
        swedish = client.get(records_request.get_absolute_url())
        self.assertContains(swedish, "Begäran avgränsas av känsliga personuppgifter.")
        self.assertContains(swedish, "<strong>Hälsa</strong>: nämns i begärans formulering")

    def test_records_mentioning_religion_prompt_it_with_their_count_r26(self) -> None:
        records_request = new_request(self.rita)
        items = self.compiled(
            records_request,
            "Som kristen tycker jag att påskledigheten är viktig.",
            "Varför får moskén ingen parkering?",
            "När öppnar biblioteket?",
        )
        client = self.client_for(self.rita)
        response = client.get(records_request.get_absolute_url())
        self.assertContains(response, self.ALERT)
        self.assertContains(
            response, "<strong>Religion or belief</strong>: 2 records in the request mention it"
        )
        self.assertNotContains(response, "named in the request's wording")
        # The decision on a record that carries it points at the assessment; on one that
        # does not, nothing is said.
        page = client.get(
            reverse("disclosure:request_item", args=[records_request.pk, items[0].pk])
        )
        self.assertContains(
            page, "This record mentions sensitive personal data: Religion or belief."
        )
        self.assertContains(page, f"{records_request.get_absolute_url()}#sensitive-data")
        page = client.get(
            reverse("disclosure:request_item", args=[records_request.pk, items[2].pk])
        )
        self.assertNotContains(page, "This record mentions sensitive personal data")

    def test_a_search_naming_a_category_is_counted_when_its_results_are_added_r26(self) -> None:
        records_request = new_request(self.rita)
        capture_batch(
            account=self.account_a,
            captures=[a_capture("d1", "Min diagnos är klar."), a_capture("d2", "Tack")],
            source="test",
        )
        client = self.client_for(self.rita)
        client.post(
            reverse("disclosure:request_compile_add", args=[records_request.pk]),
            {"q": "diagnos", "querystring": "q=diagnos"},
        )
        self.assertEqual(
            list(records_request.items.values_list("search_categories", flat=True)), [["health"]]
        )
        response = client.get(records_request.get_absolute_url())
        self.assertContains(
            response,
            "<strong>Health</strong>: 1 record found by a search naming it; "
            "1 record in the request mentions it",
        )

    def test_a_request_with_neither_shows_no_such_alert_r26(self) -> None:
        records_request = new_request(self.rita)
        [item] = self.compiled(records_request, "Hej! När öppnar biblioteket?")
        client = self.client_for(self.rita)
        response = client.get(records_request.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, self.ALERT)
        self.assertNotContains(response, "sensitive-data")
        page = client.get(reverse("disclosure:request_item", args=[records_request.pk, item.pk]))
        self.assertNotContains(page, "This record mentions sensitive personal data")


class QueryCountTests(NarvaroTestCase):
    """The request page and the compile results cost the same queries however many records."""

    def counted(self, url: str, query: dict[str, str] | None = None) -> int:
        client = self.client_for(self.rita)
        client.get(url, query)  # warm the session
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(client.get(url, query).status_code, 200)
        return len(queries)

    def add_records(self, records_request: RecordsRequest, first: int, count: int) -> None:
        captures = [
            a_capture(f"q{n}", f"Fråga {n}, ring 070-123 45 {n:02d}")
            for n in range(first, first + count)
        ]
        capture_batch(account=self.account_a, captures=captures, source="test")
        services.request_items_add(
            actor=self.rita, records_request=records_request, items=Item.objects.all()
        )

    def test_the_request_page_and_compile_results_do_not_grow_with_the_records(self) -> None:
        records_request = new_request(self.rita)
        self.add_records(records_request, 0, 2)
        detail = records_request.get_absolute_url()
        compile_url = reverse("disclosure:request_compile", args=[records_request.pk])
        few = (self.counted(detail), self.counted(compile_url, {"q": "fråga"}))
        self.add_records(records_request, 2, 8)
        many = (self.counted(detail), self.counted(compile_url, {"q": "fråga"}))
        self.assertEqual(many, few)

    def test_the_sensitive_data_prompt_does_not_grow_with_the_flagged_records_r26(self) -> None:
        """Read by the radar or not, flagged records cost the same queries (R26)."""
        from narvaro.radar.services import items_classify

        records_request = new_request(self.rita)
        detail = records_request.get_absolute_url()

        def add(first: int, count: int) -> None:
            captures = [
                a_capture(f"r{n}", f"Min diagnos {n}, jag är muslim")
                for n in range(first, first + count)
            ]
            capture_batch(account=self.account_a, captures=captures, source="test")
            items = Item.objects.filter(remote_id__startswith="r")
            # Half of them read by the radar, half not.
            items_classify(list(items.values_list("pk", flat=True))[: count // 2])
            services.request_items_add(
                actor=self.rita, records_request=records_request, items=items
            )

        add(0, 2)
        few = self.counted(detail)
        add(2, 8)
        self.assertEqual(self.counted(detail), few)
        figures = self.client_for(self.rita).get(detail).context["figures"]
        self.assertEqual([(s.category, s.records) for s in figures.sensitive],
                         [("health", 10), ("religion", 10)])  # fmt: skip

    def test_the_polled_deliveries_list_does_not_grow_with_the_stages(self) -> None:
        records_request = new_request(self.rita)
        self.add_records(records_request, 0, 3)
        status_url = reverse("disclosure:delivery_status", args=[records_request.pk])

        def deliver_one() -> None:
            request_item = records_request.items.filter(delivery__isnull=True).first()
            assert request_item is not None
            for redaction in request_item.redactions.all():
                services.redaction_review(actor=self.rita, redaction=redaction, accept=False)
            services.request_item_decide(
                actor=self.rita, request_item=request_item, decision="release"
            )
            with self.captureOnCommitCallbacks(execute=True):
                services.delivery_create(actor=self.rita, records_request=records_request)

        deliver_one()
        few = self.counted(status_url)
        deliver_one()
        deliver_one()
        self.assertEqual(self.counted(status_url), few)
        page = self.client_for(self.rita).get(status_url)
        self.assertEqual(page.content.decode().count("Printout (PDF)"), 3)
