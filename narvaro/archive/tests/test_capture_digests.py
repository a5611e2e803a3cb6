"""The capture hot path's hand-written canonical forms give the very bytes of the general ones.

`capture_batch` writes the content digest and the chain digest without building dictionaries
(bench/import_throughput.py); `narvaro verify` recomputes both with `canonical_json`. These
properties hold the two together for any text, so a stored archive always verifies.
"""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

from django.db import connection
from django.test import SimpleTestCase, TestCase
from hypothesis import given, settings
from hypothesis import strategies as st

from narvaro.archive.capture import canonical_json, content_digest, iso, sha256_hex
from narvaro.archive.chain import (
    chain_digest,
    item_identity,
    item_identity_json,
    version_chain_digest,
    version_entry,
)
from narvaro.archive.models import Item
from narvaro.archive.search import KEY_ID_BITS, newest_key, stem_words, stemmed

texts = st.text(max_size=60)
times = st.one_of(
    st.none(),
    st.datetimes(
        min_value=dt.datetime(1, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-5, minutes=-30))]),
    ),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


class CanonicalFormTests(SimpleTestCase):
    @settings(max_examples=60, deadline=None)
    @given(json_values)
    def test_canonical_json_is_json_dumps_with_sorted_keys(self, value: object) -> None:
        expected = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        self.assertEqual(canonical_json(value), expected.encode())

    @settings(max_examples=60, deadline=None)
    @given(texts, texts, st.lists(st.dictionaries(texts, json_values, max_size=3), max_size=3))
    def test_content_digest_is_the_digest_of_the_canonical_content(
        self, text: str, html: str, attachments: list[dict[str, object]]
    ) -> None:
        expected = {"text": text, "html": html, "attachments": attachments}
        self.assertEqual(
            content_digest(text, html, attachments), sha256_hex(canonical_json(expected))
        )

    @settings(max_examples=60, deadline=None)
    @given(
        item=st.fixed_dictionaries(
            dict.fromkeys(
                [
                    "platform",
                    "remote_id",
                    "kind",
                    "direction",
                    "author_handle",
                    "author_name",
                    "author_platform_id",
                    "parent_remote_id",
                    "thread_remote_id",
                    "permalink",
                    "visibility",
                ],
                texts,
            )
        ),
        created=times,
        seen=times.filter(lambda t: t is not None),
        number=st.integers(min_value=1, max_value=10**6),
        seq=st.integers(min_value=1, max_value=10**12),
        source=texts,
        previous=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    )
    def test_the_chain_digest_of_a_version_is_the_general_one(
        self,
        item: dict[str, str],
        created: dt.datetime | None,
        seen: dt.datetime,
        number: int,
        seq: int,
        source: str,
        previous: str,
    ) -> None:
        row = SimpleNamespace(**item, created_at=created, first_seen_at=seen)
        version = SimpleNamespace(
            number=number,
            recorded_at=seen,
            source=source,
            content_digest=sha256_hex(b"content"),
            payload_digest=sha256_hex(b"payload"),
        )
        identity = item_identity_json(row)
        self.assertEqual(identity.encode(), canonical_json(item_identity(row)))
        self.assertEqual(
            version_chain_digest(previous, seq, identity, version),
            chain_digest(previous, seq, version_entry(row, version)),
        )

    def test_iso_is_utc_whatever_the_offset(self) -> None:
        at = dt.datetime(2026, 3, 5, 17, 44, 51, tzinfo=dt.timezone(dt.timedelta(hours=1)))
        self.assertEqual(iso(at), "2026-03-05T16:44:51+00:00")
        self.assertIsNone(iso(None))


class NewestKeyTests(SimpleTestCase):
    @settings(max_examples=60, deadline=None)
    @given(
        st.tuples(times, st.integers(min_value=1, max_value=(1 << KEY_ID_BITS) - 1)),
        st.tuples(times, st.integers(min_value=1, max_value=(1 << KEY_ID_BITS) - 1)),
    )
    def test_the_key_never_orders_two_items_against_their_times(
        self, a: tuple[dt.datetime | None, int], b: tuple[dt.datetime | None, int]
    ) -> None:
        # Newest first with SQLite's NULLs last: an unknown time is older than any time.
        def older(x: tuple[dt.datetime | None, int], y: tuple[dt.datetime | None, int]) -> bool:
            return (x[0] is None and y[0] is not None) or (
                x[0] is not None and y[0] is not None and x[0] < y[0]
            )

        if older(a, b):
            self.assertLessEqual(
                newest_key(a[1], a[0]) >> KEY_ID_BITS, newest_key(b[1], b[0]) >> KEY_ID_BITS
            )
        self.assertEqual(newest_key(a[1], a[0]) & ((1 << KEY_ID_BITS) - 1), a[1])
        self.assertLess(newest_key(a[1], a[0]), 1 << 63)

    def test_an_id_beyond_the_key_is_refused(self) -> None:
        with self.assertRaises(ValueError):
            newest_key(1 << KEY_ID_BITS, None)


class StemmingTests(SimpleTestCase):
    def test_words_are_stemmed_the_same_with_and_without_the_cache(self) -> None:
        import snowballstemmer

        text = "Bibliotekets ÖPPETTIDER ändras; biblioteken och biblioteket_öppnar İstanbul"
        stemmer = snowballstemmer.stemmer("swedish")
        expected = stemmer.stemWords([w.lower() for w in text.replace(";", " ").split()])
        self.assertEqual(stem_words(text), expected)
        self.assertEqual(stem_words(text), expected)  # now from the cache
        self.assertEqual(stem_words("bibliotekets")[0], stem_words("bibliotek")[0])

    @settings(max_examples=100, deadline=None)
    @given(st.text(alphabet=st.sampled_from("aöB_1 \t\n\u00a0\u2003.,;–-'\"İß"), max_size=40))
    def test_the_token_cache_gives_the_stems_of_the_words(self, text: str) -> None:
        # The capture hot path stems token by token (`stemmed`); a query stems word by word.
        self.assertEqual(stemmed(text), " ".join(stem_words(text)))
        self.assertEqual(stemmed(text), " ".join(stem_words(text)))  # now from the cache


class DatetimeAdapterTests(TestCase):
    def test_the_fast_adapter_stores_what_the_backend_would(self) -> None:
        from narvaro.archive.services import _datetime_adapter

        adapt = _datetime_adapter()
        for value in [
            dt.datetime(2026, 3, 5, 16, 44, 51, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 5, 16, 44, 51, 120, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            dt.datetime(1850, 1, 1, tzinfo=dt.UTC),
            None,
        ]:
            self.assertEqual(adapt(value), connection.ops.adapt_datetimefield_value(value))
            self.assertEqual(adapt(value), connection.ops.adapt_datetimefield_value(value))
        self.assertEqual(Item._meta.get_field("created_at").get_internal_type(), "DateTimeField")

    def test_one_conversion_gives_the_chain_form_and_the_stored_form(self) -> None:
        from narvaro.archive.chain import _json_iso
        from narvaro.archive.services import _datetime_forms

        forms = _datetime_forms()
        for value in [
            dt.datetime(2026, 3, 5, 16, 44, 51, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 5, 16, 44, 51, 120, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            dt.datetime(2026, 3, 5, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
            dt.datetime(1850, 1, 1, tzinfo=dt.UTC),
            dt.datetime(1, 1, 2, 0, 0, 0, 1, tzinfo=dt.UTC),
            dt.datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 5, 16, 44, 51),  # naive, as an importer might pass it
            None,
        ]:
            self.assertEqual(
                forms(value), (_json_iso(value), connection.ops.adapt_datetimefield_value(value))
            )
