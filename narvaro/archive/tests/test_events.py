"""Events appended after capture and the disposal of a version's content (R10, R27)."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from narvaro.archive.events import item_event_record, version_dispose, versions_dispose
from narvaro.archive.fixity import verify_archive
from narvaro.archive.models import ChainHead, Item, ItemEvent, ItemVersion, MediaFile, VersionMedia
from narvaro.archive.selectors import record_search_for_user
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture, a_deletion, an_image
from narvaro.lib.testing import NarvaroTestCase


def raw_update(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


class ItemEventRecordTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        capture_batch(
            account=self.account_a,
            captures=[a_capture("1"), a_capture("2", text="Tack!")],
            events=[a_deletion("1")],
            source="test",
        )
        self.item = Item.objects.get(remote_id="2")

    def test_an_event_takes_the_next_place_in_the_accounts_chain(self) -> None:
        head = ChainHead.objects.get(account=self.account_a)
        event = item_event_record(
            item=self.item,
            type=ItemEvent.Type.FLAGGED_CASE,
            details={"case_number": "KS 2026/12"},
            actor=self.rita,
            source="registration",
        )
        head.refresh_from_db()
        self.assertEqual((event.seq, head.seq, head.digest), (4, 4, event.chain_digest))
        self.assertEqual(event.actor_name, str(self.rita))
        self.assertIsNotNone(event.occurred_at)
        report = verify_archive()
        self.assertTrue(report.intact, report.problems)
        self.assertEqual(report.events, 2)

    def test_capture_after_an_appended_event_continues_the_same_chain(self) -> None:
        item_event_record(
            item=self.item, type="secret", details={}, actor=None, source="registration"
        )
        capture_batch(
            account=self.account_a, captures=[a_capture("2", text="Tack igen!")], source="test"
        )
        self.assertTrue(verify_archive().intact)
        self.assertEqual(ChainHead.objects.get(account=self.account_a).seq, 5)

    def test_a_changed_detail_of_an_appended_event_is_named(self) -> None:
        event = item_event_record(
            item=self.item, type="case", details={"case_number": "A"}, actor=None, source="x"
        )
        raw_update(
            "UPDATE archive_itemevent SET details = %s WHERE id = %s",
            ['{"case_number": "B"}', event.pk],
        )
        problems = [f"{p.kind}: {p.reference}" for p in verify_archive().problems]
        self.assertEqual(problems, ["chain: mastodon:2 event case"])

    def test_an_unknown_type_is_refused(self) -> None:
        with self.assertRaisesMessage(ValueError, "unknown item event type 'liked'"):
            item_event_record(item=self.item, type="liked", details={}, actor=None, source="x")
        self.assertEqual(ChainHead.objects.get(account=self.account_a).seq, 3)


class VersionDisposeTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        shared = an_image("shared.jpg", b"\xff\xd8\xff shared bytes", alt="Shared")
        own = an_image("own.jpg", b"\xff\xd8\xff only here", alt="Biblioteksfasaden")
        capture_batch(
            account=self.account_a,
            captures=[
                a_capture("1", text="Hemligt ord kanelbulle", media=(own, shared)),
                a_capture("2", text="Tack!", media=(shared,)),
            ],
            source="test",
        )
        capture_batch(
            account=self.account_a, captures=[a_capture("1", text="Ändrad text")], source="test"
        )
        self.version = ItemVersion.objects.get(item__remote_id="1", number=1)
        self.own_media = MediaFile.objects.get(size=len(b"\xff\xd8\xff only here"))
        self.shared_media = MediaFile.objects.get(size=len(b"\xff\xd8\xff shared bytes"))

    def dispose(self) -> ItemEvent:
        return version_dispose(
            version=self.version,
            actor=self.rita,
            details={"rule": 1, "decision": "KS 2026/7"},
        )

    def test_disposal_empties_the_content_and_keeps_every_digest_r27(self) -> None:
        before = ItemVersion.objects.values().get(pk=self.version.pk)
        with self.captureOnCommitCallbacks(execute=True):
            event = self.dispose()
        after = ItemVersion.objects.values().get(pk=self.version.pk)
        self.assertEqual((after["text"], after["html"], after["raw_payload"]), (None, None, None))
        for kept in ("content_digest", "payload_digest", "chain_digest", "seq", "number"):
            self.assertEqual(after[kept], before[kept], kept)
        self.assertEqual(event.type, ItemEvent.Type.DISPOSED)
        self.assertEqual(event.details["version_id"], self.version.pk)
        self.assertEqual(event.details["decision"], "KS 2026/7")
        self.assertEqual(event.details["attachments_removed"], 2)

    def test_narvaro_verify_passes_after_disposal_r10(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            self.dispose()
        report = verify_archive()
        self.assertTrue(report.intact, report.problems)
        self.assertEqual((report.versions, report.events), (3, 1))

    def test_media_only_this_version_used_is_deleted_and_shared_media_is_kept(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            self.dispose()
        self.assertFalse(VersionMedia.objects.filter(version=self.version).exists())
        self.assertFalse(MediaFile.objects.filter(pk=self.own_media.pk).exists())
        self.assertFalse(default_storage.exists(self.own_media.storage_name))
        self.assertTrue(MediaFile.objects.filter(pk=self.shared_media.pk).exists())
        self.assertTrue(default_storage.exists(self.shared_media.storage_name))

    def test_a_rolled_back_disposal_keeps_the_files(self) -> None:
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            self.dispose()
        self.assertEqual(len(callbacks), 1)
        self.assertTrue(default_storage.exists(self.own_media.storage_name))

    def test_changing_any_other_byte_still_fails_verify_r10(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            self.dispose()
        other = ItemVersion.objects.get(item__remote_id="2")
        raw_update("UPDATE archive_itemversion SET text = %s WHERE id = %s", ["Tack?", other.pk])
        raw_update(
            "UPDATE archive_itemversion SET content_digest = %s WHERE id = %s",
            ["0" * 64, self.version.pk],
        )
        problems = sorted(f"{p.kind}: {p.reference}" for p in verify_archive().problems)
        self.assertEqual(problems, ["chain: mastodon:1 version 1", "content: mastodon:2 version 1"])

    def test_a_forged_disposal_event_breaks_the_chain(self) -> None:
        """Emptying content and writing a DISPOSED row by hand is not a disposal."""
        item = self.version.item
        raw_update(
            "UPDATE archive_itemversion SET text = NULL, raw_payload = NULL WHERE id = %s",
            [self.version.pk],
        )
        ItemEvent.objects.create(
            account=self.account_a,
            item=item,
            type=ItemEvent.Type.DISPOSED,
            seq=99,
            chain_digest="f" * 64,
            details={"version_id": self.version.pk},
        )
        self.assertFalse(verify_archive().intact)

    def test_a_disposed_version_cannot_be_disposed_again(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            self.dispose()
        self.version.refresh_from_db()
        with self.assertRaisesMessage(ValueError, "has already been disposed of"):
            self.dispose()

    def test_two_versions_of_one_item_disposed_at_once_each_get_an_event(self) -> None:
        second = ItemVersion.objects.get(item__remote_id="1", number=2)
        with self.captureOnCommitCallbacks(execute=True):
            self.dispose()
            version_dispose(version=second, actor=None, details={})
        events = ItemEvent.objects.filter(type="disposed").order_by("seq")
        self.assertEqual([e.details["version_id"] for e in events], [self.version.pk, second.pk])
        self.assertTrue(verify_archive().intact)

    def test_search_no_longer_finds_disposed_words(self) -> None:
        self.assertEqual(record_search_for_user(self.rita, q="kanelbulle").count(), 1)
        with self.captureOnCommitCallbacks(execute=True):
            self.dispose()
        self.assertEqual(record_search_for_user(self.rita, q="kanelbulle").count(), 0)
        self.assertEqual(record_search_for_user(self.rita, q="ändrad").count(), 1)


class VersionsDisposeTests(NarvaroTestCase):
    def test_versions_of_two_accounts_go_into_their_own_chains(self) -> None:
        for account, prefix in ((self.account_a, "a"), (self.account_b, "b")):
            capture_batch(
                account=account,
                captures=[a_capture(f"{prefix}{i}", f"Text {i}") for i in range(3)],
                source="test",
            )
        versions = list(ItemVersion.objects.order_by("pk"))
        with self.captureOnCommitCallbacks(execute=True):
            events = versions_dispose(versions=versions, actor=self.rita, details={"run": 1})
        self.assertEqual([e.details["version_id"] for e in events], [v.pk for v in versions])
        self.assertEqual(
            sorted((e.account_id, e.seq) for e in events),
            sorted(
                (account.pk, seq)
                for account in (self.account_a, self.account_b)
                for seq in (4, 5, 6)
            ),
        )
        self.assertFalse(ItemVersion.objects.filter(raw_payload__isnull=False).exists())
        report = verify_archive()
        self.assertTrue(report.intact, report.problems)

    def test_the_query_count_does_not_grow_with_the_number_of_versions(self) -> None:
        capture_batch(
            account=self.account_a,
            captures=[
                a_capture(str(i), f"Text {i}", media=(an_image(f"{i}.jpg", bytes([i]) * 9),))
                for i in range(12)
            ],
            source="test",
        )
        versions = list(ItemVersion.objects.order_by("pk"))

        def count(chunk: list[ItemVersion]) -> int:
            with CaptureQueriesContext(connection) as queries:
                versions_dispose(versions=chunk, actor=None, details={})
            return len(queries)

        self.assertEqual(count(versions[:2]), count(versions[2:12]))
