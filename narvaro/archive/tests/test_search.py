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

    def test_a_word_finds_the_same_items_newest_first_on_every_page(self) -> None:
        everything = [i.remote_id for i in record_search_for_user(self.rita)]
        expected = [r for r in everything if r in {"a1", "a4", "b1"}]
        found = record_search_for_user(self.rita, q="bibliotekets")
        self.assertEqual([i.remote_id for i in found], expected)
        self.assertEqual(found.count(), 3)
        for low, high in [(0, 1), (0, 2), (1, 2), (1, 3), (2, 10), (3, 5)]:
            self.assertEqual([i.remote_id for i in found[low:high]], expected[low:high])
        self.assertEqual(found.first().remote_id, expected[0])  # type: ignore[union-attr]
        self.assertEqual(found.last().remote_id, expected[-1])  # type: ignore[union-attr]
        self.assertTrue(found.exists())
        self.assertFalse(record_search_for_user(self.rita, q="simhall").exists())

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


class SearchOrderTests(NarvaroTestCase):
    """Newest first, exactly, on every page: also within one second, for unknown and far dates."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        noon = dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC)
        captures = []
        for n in range(40):
            # Ten items share each second, their sub-second times running against their ids.
            created: dt.datetime | None = noon + dt.timedelta(
                seconds=n // 10, microseconds=999_999 - n * 1000
            )
            if n % 13 == 0:
                created = None  # the platform gave no time: last, newest first
            elif n == 7:
                created = dt.datetime(1850, 1, 1, tzinfo=dt.UTC)  # before the key's range
            elif n == 8:
                created = dt.datetime(2400, 1, 1, tzinfo=dt.UTC)  # after it
            word = "bibliotek" if n % 3 else "simhall"
            captures.append(
                a_capture(
                    f"o{n}",
                    f"{word} nummer {n}",
                    created_at=created,
                    direction="drawn_up" if n % 2 else "received",
                )
            )
        # Stored in a shuffled order, so ids do not follow the times.
        order = [(n * 17) % 40 for n in range(40)]
        capture_batch(account=cls.account_a, captures=[captures[n] for n in order], source="t")

    def expected(self, word: str, **filters: Any) -> list[str]:
        everything = record_search_for_user(self.rita, **filters)
        return [i.remote_id for i in everything if word in (i.latest_text or "")]

    def test_every_slice_is_the_slice_of_the_exact_order(self) -> None:
        for filters in [
            {},
            {"direction": "drawn_up"},
            {"direction": "received", "kind": "comment"},
        ]:
            expected = self.expected("bibliotek", **filters)
            found = record_search_for_user(self.rita, q="biblioteket", **filters)
            self.assertEqual([i.remote_id for i in found], expected)
            self.assertEqual(found.count(), len(expected))
            for low in range(0, len(expected) + 2, 3):
                for size in (1, 2, 5, 11):
                    with self.subTest(filters=filters, low=low, size=size):
                        page = [i.remote_id for i in found[low : low + size]]
                        self.assertEqual(page, expected[low : low + size])

    def test_a_page_of_the_search_page_is_the_same_slice(self) -> None:
        from django.core.paginator import Paginator

        expected = self.expected("simhall")
        pages = Paginator(record_search_for_user(self.rita, q="simhallen"), 4)
        self.assertEqual(pages.count, len(expected))
        seen = [i.remote_id for n in pages.page_range for i in pages.page(n).object_list]
        self.assertEqual(seen, expected)

    def test_a_capped_count_is_exact_under_the_cap_and_pages_up_to_it(self) -> None:
        from narvaro.lib.paging import CappedPaginator

        for filters in [{}, {"direction": "drawn_up"}]:
            expected = self.expected("bibliotek", **filters)
            total = len(expected)
            for cap in (1, total - 3, total - 1, total, total + 1, 1000):
                with self.subTest(filters=filters, cap=cap):
                    items = record_search_for_user(self.rita, q="biblioteket", **filters)
                    pages = CappedPaginator(items, 4, cap=cap)
                    self.assertEqual(pages.capped, total > cap)
                    self.assertEqual(pages.count, min(total, cap))
                    seen = [i.remote_id for n in pages.page_range for i in pages.page(n)]
                    # Every page holds the exact slice; over the cap the pages stop at it.
                    self.assertEqual(seen, expected[: min(total, cap)])
                    last = pages.page(pages.num_pages)
                    self.assertFalse(last.has_next())
                    self.assertEqual(last.end_index(), min(total, cap))

    def test_the_capped_count_reads_at_most_the_cap_plus_one(self) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from narvaro.lib.paging import CappedPaginator

        items = record_search_for_user(self.rita, q="biblioteket")
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(CappedPaginator(items, 4, cap=7).count, 7)
        self.assertEqual(len(queries), 1)
        sql = queries[0]["sql"]
        self.assertIn("LIMIT 8", sql)
        # Only the key is selected: no row values (latest text, versions) per counted match.
        self.assertNotIn("archive_itemversion", sql.split("LIMIT 8")[0].split("FROM", 1)[0])
