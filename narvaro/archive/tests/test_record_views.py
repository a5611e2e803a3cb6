"""The records pages: search list, register export and the record page, scoped and logged."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from narvaro.archive.capture import EventInput, MediaInput
from narvaro.archive.models import Item
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture, a_deletion, an_image
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase

# Each includes one for the radar's restricted items (a personnummer's text is withheld, R33);
# the record page two more for media withheld after moderation (R20): the item's own
# moderation, and the same files attached to an item so moderated.
LIST_QUERIES = 9
DETAIL_QUERIES = 14


class RecordViewsTests(NarvaroTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        post = {"kind": "post", "direction": "drawn_up", "author_handle": "@kultur@social.example"}
        for text in ["Öppet hus på biblioteket.", "Öppet hus på biblioteket i dag.", "=1+1"]:
            capture_batch(
                account=cls.account_a,
                captures=[a_capture("p1", text, media=(an_image(),), **post)],
                source="test",
            )
        capture_batch(
            account=cls.account_a,
            captures=[
                a_capture("c1", "Vilken tid?", thread_remote_id="p1", parent_remote_id="p1"),
                a_capture("s1", "Mitt personnummer", thread_remote_id="p1"),
            ],
            events=[
                a_deletion("c1"),
                EventInput(platform="mastodon", remote_id="s1", type="secret"),
            ],
            source="test",
        )
        capture_batch(
            account=cls.account_b, captures=[a_capture("b1", "Bänk i parken")], source="test"
        )
        cls.post = Item.objects.get(remote_id="p1")
        cls.comment = Item.objects.get(remote_id="c1")
        cls.secret = Item.objects.get(remote_id="s1")
        cls.other = Item.objects.get(remote_id="b1")

    def test_the_list_finds_by_words_and_shows_only_visible_items(self) -> None:
        response = self.client_for(self.vera).get(reverse("archive:record_list"), {"q": "hus"})
        self.assertEqual(response.status_code, 200)
        # An earlier version's words find the record too.
        self.assertEqual([i.remote_id for i in response.context["page"].object_list], ["p1"])
        response = self.client_for(self.vera).get(reverse("archive:record_list"))
        shown = {i.remote_id for i in response.context["page"].object_list}
        self.assertEqual(shown, {"p1", "c1"})
        response = self.client_for(self.bob).get(reverse("archive:record_list"), {"q": "tid"})
        self.assertEqual(list(response.context["page"].object_list), [])

    def test_a_reply_links_to_the_record_it_answers(self) -> None:
        response = self.client_for(self.vera).get(self.comment.get_absolute_url())
        self.assertEqual(response.context["record"].parent, self.post)
        self.assertContains(response, f'href="{self.post.get_absolute_url()}">p1</a>')

    def test_the_list_filters_with_htmx_render_only_the_rows(self) -> None:
        response = self.client_for(self.rita).get(
            reverse("archive:record_list"), {"deleted": "yes"}, HTTP_HX_REQUEST="true"
        )
        self.assertTemplateUsed(response, "archive/partials/record_rows.html")
        self.assertTemplateNotUsed(response, "archive/record_list.html")
        self.assertEqual([i.remote_id for i in response.context["page"].object_list], ["c1"])

    def test_a_viewer_of_another_unit_gets_404_on_a_record(self) -> None:
        url = self.post.get_absolute_url()
        self.assertEqual(self.client_for(self.bob).get(url).status_code, 404)
        self.assertEqual(self.client_for(self.oscar).get(url).status_code, 404)
        self.assertEqual(self.client_for(self.vera).get(url).status_code, 200)
        self.assertFalse(AuditEvent.objects.filter(action="view", actor=self.bob).exists())

    def test_secret_records_are_hidden_from_all_but_registrars_and_admins(self) -> None:
        url = self.secret.get_absolute_url()
        self.assertEqual(self.client_for(self.alice).get(url).status_code, 404)
        self.assertEqual(self.client_for(self.rita).get(url).status_code, 200)
        self.assertEqual(self.client_for(self.adam).get(url).status_code, 200)
        thread = self.client_for(self.vera).get(self.post.get_absolute_url()).context["record"]
        self.assertNotIn(self.secret, thread.thread)

    def test_the_record_shows_every_version_with_its_changes(self) -> None:
        response = self.client_for(self.vera).get(self.post.get_absolute_url())
        versions = response.context["record"].versions
        self.assertEqual([v.version.number for v in versions], [1, 2, 3])
        self.assertEqual(versions[1].changes[0].op, "-")
        self.assertEqual(versions[1].changes[1].text, "Öppet hus på biblioteket i dag.")
        self.assertContains(response, "Version 3")
        self.assertContains(response, "Öppet hus på biblioteket i dag.")
        self.assertContains(response, "A library")  # alt text
        self.assertContains(response, versions[0].version.chain_digest)
        self.assertEqual([i.remote_id for i in response.context["record"].thread], ["p1", "c1"])

    def test_deletion_events_are_shown(self) -> None:
        response = self.client_for(self.vera).get(self.comment.get_absolute_url())
        self.assertContains(response, "Deleted on the platform")
        self.assertEqual([e.type for e in response.context["record"].events], ["deleted"])

    def test_the_raw_payload_is_for_registrars_and_admins_only(self) -> None:
        marker = "favorite_count"
        self.assertNotContains(self.client_for(self.vera).get(self.post.get_absolute_url()), marker)
        self.assertContains(self.client_for(self.rita).get(self.post.get_absolute_url()), marker)

    def test_every_view_of_a_record_is_logged(self) -> None:
        self.client_for(self.vera).get(self.post.get_absolute_url())
        event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW)
        self.assertEqual(event.actor, self.vera)
        self.assertEqual(event.target_id, str(self.post.pk))
        self.assertEqual(event.unit_id, self.account_a.unit_id)

    def test_the_export_lists_every_match_with_both_timestamps_and_is_logged(self) -> None:
        response = self.client_for(self.vera).get(
            reverse("archive:record_export"), {"direction": "drawn_up"}
        )
        self.assertEqual(response["Content-Type"], "text/csv; charset=utf-8")
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        self.assertEqual([row["Platform id"] for row in rows], ["p1"])
        row = rows[0]
        self.assertEqual(row["Created on the platform"], "2026-03-05T16:44:51+00:00")
        self.assertTrue(row["First seen by Narvaro"].endswith("+00:00"))
        self.assertEqual(row["Direction"], "drawn_up")
        self.assertEqual(row["Account"], f"mastodon:{self.account_a.handle}")
        self.assertEqual(row["Permalink"], "https://social.example/@anna/p1")
        # The latest text, a formula, is neutralised for spreadsheets.
        self.assertEqual(row["Text (latest version)"], "'=1+1")
        self.assertTrue(row["Record page"].startswith("http://testserver/records/"))
        event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
        self.assertEqual(event.actor, self.vera)
        self.assertEqual(event.changes["items"], 1)
        self.assertEqual(event.changes["filters"], {"direction": "drawn_up"})

    def test_the_export_holds_only_what_the_person_may_see(self) -> None:
        response = self.client_for(self.bob).get(reverse("archive:record_export"))
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        self.assertEqual([row["Platform id"] for row in rows], ["b1"])

    def test_the_export_headings_follow_the_persons_language(self) -> None:
        from django.conf import settings

        from narvaro.archive.register import REGISTER_COLUMNS

        client = self.client_for(self.vera)
        headings = {}
        for language in ("en", "sv"):
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            response = client.get(reverse("archive:record_export"), {"q": "hus"})
            reader = csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
            headings[language], row = next(reader), next(reader)
            self.assertEqual(row[1], "p1")  # the values do not change with the language
        self.assertEqual(len(headings["sv"]), len(REGISTER_COLUMNS))
        self.assertEqual(headings["en"][:3], ["Platform", "Platform id", "Account"])
        self.assertEqual(headings["sv"][:3], ["Plattform", "Plattforms-id", "Konto"])
        # Every heading is translated.
        self.assertFalse(set(headings["sv"]) & set(headings["en"]), headings)

    def _more_items(self, count: int) -> None:
        day = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
        captures = [
            a_capture(
                f"x{n}",
                f"Svar {n}",
                thread_remote_id="p1",
                created_at=day + dt.timedelta(minutes=n),
                media=(an_image(name=f"{n}.jpg", content=bytes([n])),),
            )
            for n in range(count)
        ]
        capture_batch(account=self.account_a, captures=captures, source="test")

    def _count(self, url: str) -> int:
        client = self.client_for(self.vera)
        client.get(url)  # warm the session and caches
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(client.get(url).status_code, 200)
        return len(queries)

    def test_the_list_uses_a_constant_number_of_queries(self) -> None:
        url = reverse("archive:record_list") + "?q=svar"
        self._more_items(3)
        few = self._count(url)
        self._more_items(20)
        self.assertEqual(self._count(url), few)
        # The same on both engines: the search is part of the page's own query.
        self.assertEqual(few, LIST_QUERIES)

    def test_the_record_page_uses_a_constant_number_of_queries(self) -> None:
        url = self.post.get_absolute_url()
        self._more_items(3)
        few = self._count(url)
        self._more_items(20)
        self.assertEqual(self._count(url), few)
        self.assertEqual(few, DETAIL_QUERIES)


class RecordMediaTests(NarvaroTestCase):
    def test_an_attachment_is_served_as_stored_sandboxed_and_logged(self) -> None:
        from narvaro.core.models import AuditEvent

        image = an_image(content=b"\xff\xd8\xff archived bytes")
        capture_batch(
            account=self.account_a, captures=[a_capture("m1", media=(image,))], source="t"
        )
        item = Item.objects.get(remote_id="m1")
        url = reverse("archive:record_media", args=[item.pk, 1, 0])
        response = self.client_for(self.vera).get(url)
        self.assertEqual(b"".join(response.streaming_content), image.content)
        self.assertEqual(response["Content-Type"], "image/jpeg")
        self.assertIn("sandbox", response["Content-Security-Policy"])
        self.assertTrue(
            AuditEvent.objects.filter(action="view", summary__startswith="attachment 1").exists()
        )
        self.assertContains(self.client_for(self.vera).get(item.get_absolute_url()), url)

    def test_the_record_page_shows_images_inline_and_links_video_and_audio(self) -> None:
        from html.parser import HTMLParser

        captions = "WEBVTT\n\n00:00.000 --> 00:04.000\nVälkommen till biblioteket\n"
        media = (
            an_image(name="lasesal.jpg", content=b"\xff\xd8\xff reading room", alt="Läsesalen"),
            an_image(name="utan-alt.jpg", content=b"\xff\xd8\xff no alt", alt=""),
            MediaInput(
                original_name="film.mp4",
                content=b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 2038,
                content_type="video/mp4",
                alt_text="Filmvisning",
                caption=captions.encode(),
            ),
            MediaInput(
                original_name="intervju.mp3", content=b"ID3 sound", content_type="audio/mpeg"
            ),
            MediaInput(original_name="borta.png"),
        )
        capture_batch(account=self.account_a, captures=[a_capture("m4", media=media)], source="t")
        item = Item.objects.get(remote_id="m4")
        response = self.client_for(self.vera).get(item.get_absolute_url())

        class Tags(HTMLParser):
            def __init__(self) -> None:
                super().__init__()
                self.images: list[dict[str, str | None]] = []
                self.links: dict[str, str] = {}
                self._href: str | None = None

            def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
                if tag == "img":
                    self.images.append(dict(attrs))
                if tag == "a":
                    self._href = dict(attrs).get("href")

            def handle_data(self, data: str) -> None:
                if self._href and data.strip():
                    self.links[self._href] = data.strip()
                    self._href = None

        tags = Tags()
        tags.feed(response.content.decode())

        def url(position: int) -> str:
            return reverse("archive:record_media", args=[item.pk, 1, position])

        self.assertEqual(
            [(image["src"], image["alt"]) for image in tags.images],
            [(url(0), "Läsesalen"), (url(1), "Image without alt text: utan-alt.jpg")],
        )
        self.assertEqual(tags.links[url(2)], "Play the video")
        self.assertEqual(tags.links[url(3)], "Play the sound")
        self.assertNotIn(url(4), response.content.decode())  # missing: nothing to link
        self.assertContains(response, "film.mp4, video/mp4, 2.0\xa0KB")
        self.assertContains(response, "intervju.mp3, audio/mpeg, 9\xa0bytes")
        self.assertContains(response, "borta.png: missing from the source.")
        # Alt text and captions are there as text too.
        self.assertContains(response, "Alt text: Läsesalen.")
        self.assertContains(response, "Alt text: Filmvisning.")
        self.assertContains(response, "00:00.000 --&gt; 00:04.000\nVälkommen till biblioteket")
        # Each inline image is served through the logged, access-checked media view.
        self.assertEqual(self.client_for(self.vera).get(url(0)).status_code, 200)
        self.assertEqual(self.client_for(self.bob).get(url(0)).status_code, 404)

    def test_a_file_that_could_run_is_only_offered_as_a_download(self) -> None:

        page = MediaInput(
            original_name="x.html", content=b"<script>alert(1)</script>", content_type="text/html"
        )
        capture_batch(account=self.account_a, captures=[a_capture("m2", media=(page,))], source="t")
        item = Item.objects.get(remote_id="m2")
        response = self.client_for(self.vera).get(
            reverse("archive:record_media", args=[item.pk, 1, 0])
        )
        self.assertEqual(response["Content-Type"], "application/octet-stream")
        self.assertTrue(response["Content-Disposition"].startswith("attachment"))

    def test_a_missing_attachment_or_another_units_item_is_404(self) -> None:
        capture_batch(
            account=self.account_a,
            captures=[a_capture("m3", media=(MediaInput(original_name="gone.jpg"),))],
            source="t",
        )
        item = Item.objects.get(remote_id="m3")
        url = reverse("archive:record_media", args=[item.pk, 1, 0])
        self.assertEqual(self.client_for(self.vera).get(url).status_code, 404)
        self.assertEqual(self.client_for(self.bob).get(url).status_code, 404)


class RecordListCountTests(NarvaroTestCase):
    """The search page counts at most NARVARO_RESULT_COUNT_CAP matches, exactly under it."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        day = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
        captures = [
            a_capture(f"x{n}", f"Svar {n}", created_at=day + dt.timedelta(minutes=n))
            for n in range(75)
        ]
        capture_batch(account=cls.account_a, captures=captures, source="test")

    def page(self, language: str = "en", **params: str) -> Any:
        from django.conf import settings

        client = self.client_for(self.vera)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = client.get(reverse("archive:record_list"), {"q": "svar", **params})
        self.assertEqual(response.status_code, 200)
        return response

    def test_under_the_cap_the_count_and_the_pages_are_exact(self) -> None:
        for cap in (75, 10_000):
            with self.subTest(cap=cap), override_settings(NARVARO_RESULT_COUNT_CAP=cap):
                response = self.page()
                page = response.context["page"]
                self.assertFalse(page.paginator.capped)
                self.assertContains(response, "75 records")
                self.assertContains(response, "Page 1 of 2")
                last = self.page(page="2")
                self.assertEqual(
                    [i.remote_id for i in last.context["page"].object_list],
                    [f"x{n}" for n in range(24, -1, -1)],
                )

    def test_over_the_cap_the_page_says_more_and_pages_up_to_the_cap(self) -> None:
        with override_settings(NARVARO_RESULT_COUNT_CAP=74):
            response = self.page()
            page = response.context["page"]
            self.assertTrue(page.paginator.capped)
            self.assertContains(response, "More than 74 records")
            self.assertNotContains(response, "75 records")
            self.assertNotContains(response, " of 2")  # no total of pages when it is not known
            self.assertContains(response, "Page 1")
            self.assertContains(response, "page=2")  # next
            second = self.page(page="2")
            rows = [i.remote_id for i in second.context["page"].object_list]
            # The newest 74 of 75: the second page stops at the cap.
            self.assertEqual(rows, [f"x{n}" for n in range(24, 0, -1)])
            self.assertContains(second, "page=1")  # previous
            self.assertNotContains(second, "page=3")
            # Past the last page: the last page, as elsewhere.
            self.assertEqual(self.page(page="9").context["page"].number, 2)
            swedish = self.page("sv")
            self.assertContains(swedish, "Fler än 74 poster")

    def test_the_cap_is_shown_with_the_languages_digit_grouping(self) -> None:
        with override_settings(NARVARO_RESULT_COUNT_CAP=1000):
            capture_batch(
                account=self.account_a,
                captures=[a_capture(f"y{n}", f"Svar {n}") for n in range(1001 - 75)],
                source="test",
            )
            self.assertContains(self.page(), "More than 1,000 records")
            self.assertContains(self.page("sv"), "Fler än 1\xa0000 poster")

    def test_the_export_still_holds_every_match_over_the_cap(self) -> None:
        with override_settings(NARVARO_RESULT_COUNT_CAP=10):
            self.assertTrue(self.page().context["page"].paginator.capped)
            response = self.client_for(self.vera).get(
                reverse("archive:record_export"), {"q": "svar"}
            )
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        self.assertEqual(len(rows), 75)
        self.assertEqual({row["Platform id"] for row in rows}, {f"x{n}" for n in range(75)})
