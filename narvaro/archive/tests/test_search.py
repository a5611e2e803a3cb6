"""record_search_for_user: full-text search with Swedish stemming, filters and scoping."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

from django.core.management import call_command

from narvaro.archive.capture import EventInput
from narvaro.archive.models import Item
from narvaro.archive.selectors import record_search_for_user
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture, a_deletion, an_image
from narvaro.lib.testing import NarvaroTestCase


def at(day: int, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, 12, 0, tzinfo=dt.UTC)


class RecordSearchTests(NarvaroTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        a, b = cls.account_a, cls.account_b
        capture_batch(
            account=a,
            captures=[
                a_capture("a1", "Vi har byggt ett nytt bibliotek i stan.", created_at=at(5)),
                a_capture(
                    "a2",
                    "Välkommen till konserten!",
                    kind="post",
                    direction="drawn_up",
                    author_handle="@kultur@social.example",
                    author_name="Kultur",
                    created_at=at(10, 4),
                    media=(an_image(),),
                ),
                a_capture(
                    "a3",
                    "Parkeringen är full.",
                    kind="dm",
                    author_handle="@bertil@social.example",
                    author_name="Bertil",
                    created_at=at(20),
                ),
                a_capture("a4", "Min adress till biblioteket är hemlig.", created_at=at(21)),
            ],
            source="test",
        )
        # a2 edited: a second version; a3 deleted; a4 flagged secret.
        capture_batch(
            account=a,
            captures=[
                a_capture(
                    "a2",
                    "Välkommen till konserten i kväll!",
                    kind="post",
                    direction="drawn_up",
                    author_handle="@kultur@social.example",
                    created_at=at(10, 4),
                    media=(an_image(),),
                )
            ],
            events=[
                a_deletion("a3"),
                EventInput(platform="mastodon", remote_id="a4", type="secret", occurred_at=at(22)),
            ],
            source="test",
        )
        capture_batch(
            account=b,
            captures=[a_capture("b1", "Bänkarna vid biblioteket i parken.", created_at=at(6))],
            source="test",
        )

    def found(self, user: Any = None, **filters: Any) -> set[str]:
        items = record_search_for_user(user or self.rita, **filters)
        return {item.remote_id for item in items}

    def test_a_word_finds_its_other_swedish_forms(self) -> None:
        self.assertEqual(self.found(q="bibliotekets"), {"a1", "a4", "b1"})
        self.assertEqual(self.found(q="Biblioteken"), {"a1", "a4", "b1"})

    def test_a_common_word_finds_the_same_items_newest_first(self) -> None:
        from unittest import mock

        from narvaro.archive import search

        expected = [i.remote_id for i in record_search_for_user(self.rita, q="bibliotekets")]
        # Treat every word as common, as a word in most of a million items would be.
        with mock.patch.object(search, "COMMON_MATCHES", 0):
            found = [i.remote_id for i in record_search_for_user(self.rita, q="bibliotekets")]
            self.assertEqual(self.found(q="bibliotek parken"), {"b1"})
        self.assertEqual(found, expected)
        self.assertEqual(set(found), {"a1", "a4", "b1"})

    def test_every_word_must_match(self) -> None:
        self.assertEqual(self.found(q="bibliotek parken"), {"b1"})
        self.assertEqual(self.found(q="bibliotek simhall"), set())

    def test_query_syntax_is_taken_as_plain_words(self) -> None:
        self.assertEqual(self.found(q='"bibliotek" OR* NEAR(:'), set())
        self.assertEqual(self.found(q="!!!"), {"a1", "a2", "a3", "a4", "b1"})

    def test_words_an_edit_removed_still_find_the_record(self) -> None:
        capture_batch(
            account=self.account_a,
            captures=[a_capture("a1", "Simhallen är stängd.", created_at=at(5))],
            source="test",
        )
        self.assertEqual(self.found(q="simhallen"), {"a1"})
        self.assertIn("a1", self.found(q="bibliotek"))

    def test_by_author_handle_or_name(self) -> None:
        self.assertEqual(self.found(author="@bertil@social.example"), {"a3"})
        self.assertEqual(self.found(author="bertil"), {"a3"})
        self.assertEqual(self.found(author="Bertil"), {"a3"})
        self.assertEqual(self.found(author="bert"), set())

    def test_by_date_range_in_whole_days(self) -> None:
        march = {"date_from": dt.date(2026, 3, 1), "date_to": dt.date(2026, 3, 31)}
        self.assertEqual(self.found(**march), {"a1", "a3", "a4", "b1"})
        self.assertEqual(self.found(date_from=dt.date(2026, 3, 20)), {"a2", "a3", "a4"})
        self.assertEqual(self.found(date_to=dt.date(2026, 3, 5)), {"a1"})

    def test_by_direction_and_kind(self) -> None:
        self.assertEqual(self.found(direction="drawn_up"), {"a2"})
        self.assertEqual(self.found(kind="dm"), {"a3"})
        self.assertEqual(self.found(direction="received", kind="comment"), {"a1", "a4", "b1"})

    def test_deleted_edited_and_media_filters(self) -> None:
        self.assertEqual(self.found(deleted=True), {"a3"})
        self.assertEqual(self.found(deleted=False), {"a1", "a2", "a4", "b1"})
        self.assertEqual(self.found(edited=True), {"a2"})
        self.assertEqual(self.found(edited=False), {"a1", "a3", "a4", "b1"})
        self.assertEqual(self.found(has_media=True), {"a2"})

    def test_by_unit_account_and_thread(self) -> None:
        self.assertEqual(self.found(unit=self.unit_b.pk), {"b1"})
        # A unit includes the units below it: kultur holds bibliotek's account.
        self.assertEqual(self.found(unit=self.unit_a.pk), {"a1", "a2", "a3", "a4"})
        self.assertEqual(self.found(account=self.account_b.pk, q="bibliotek"), {"b1"})
        self.assertEqual(self.found(thread="none"), set())

    def test_people_see_only_the_items_of_their_units(self) -> None:
        self.assertEqual(self.found(self.vera), {"a1", "a2", "a3"})
        self.assertEqual(self.found(self.bob), {"b1"})
        self.assertEqual(self.found(self.oscar), set())
        self.assertEqual(self.found(self.bob, q="bibliotek", unit=self.unit_a.pk), set())

    def test_secret_items_are_for_registrars_and_admins_only(self) -> None:
        self.assertNotIn("a4", self.found(self.vera, q="hemlig"))
        self.assertNotIn("a4", self.found(self.alice, q="hemlig"))
        self.assertEqual(self.found(self.rita, q="hemlig"), {"a4"})
        self.assertEqual(self.found(self.adam, q="hemlig"), {"a4"})

    def test_rows_carry_their_latest_text_and_flags(self) -> None:
        rows = {i.remote_id: i for i in record_search_for_user(self.rita)}
        self.assertEqual(rows["a2"].latest_text, "Välkommen till konserten i kväll!")
        self.assertEqual(rows["a2"].version_count, 2)
        self.assertTrue(rows["a3"].is_deleted)
        self.assertTrue(rows["a4"].is_secret)

    def test_the_index_can_be_rebuilt_from_the_archive(self) -> None:
        out = StringIO()
        call_command("archive_reindex", stdout=out)
        self.assertIn(f"Indexed {Item.objects.count()} item(s).", out.getvalue())
        self.assertEqual(self.found(q="bibliotekets"), {"a1", "a4", "b1"})
