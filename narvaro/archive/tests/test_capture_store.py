"""capture_batch: the only writer of the archive. Idempotent, append-only, chained (R7–R10)."""

from __future__ import annotations

from django.core.files.storage import default_storage

from narvaro.archive.capture import MediaInput
from narvaro.archive.models import ChainHead, Item, ItemEvent, ItemVersion, MediaFile
from narvaro.archive.services import capture_batch, capture_store
from narvaro.archive.tests.support import a_capture, a_deletion, an_image
from narvaro.lib.testing import NarvaroTestCase


class CaptureStoreTests(NarvaroTestCase):
    def test_a_new_item_is_stored_with_its_raw_payload_verbatim_and_both_timestamps(self) -> None:
        capture = a_capture()
        result = capture_store(account=self.account_a, capture=capture, source="test")
        self.assertEqual((result.items, result.versions), (1, 1))
        item = Item.objects.get()
        version = item.versions.get()
        self.assertEqual(version.raw_payload, capture.raw_payload)
        self.assertEqual(item.created_at, capture.created_at)
        self.assertIsNotNone(item.first_seen_at)
        self.assertEqual(len(version.content_digest), 64)

    def test_capturing_the_same_content_again_adds_nothing(self) -> None:
        capture_store(account=self.account_a, capture=a_capture(), source="test")
        again = capture_store(account=self.account_a, capture=a_capture(likes=7), source="test")
        self.assertEqual((again.items, again.versions, again.duplicates_skipped), (0, 0, 1))
        self.assertEqual(ItemVersion.objects.count(), 1)

    def test_r8_an_edit_is_a_new_version_and_a_deletion_an_event(self) -> None:
        capture_store(account=self.account_a, capture=a_capture(text="Öppet 10–16"), source="test")
        capture_store(account=self.account_a, capture=a_capture(text="Öppet 10–18"), source="test")
        capture_store(account=self.account_a, capture=a_capture(text="Öppet 10–19"), source="test")
        capture_batch(account=self.account_a, events=[a_deletion()], source="test")
        item = Item.objects.get()
        self.assertEqual(
            list(item.versions.values_list("number", "text")),
            [(1, "Öppet 10–16"), (2, "Öppet 10–18"), (3, "Öppet 10–19")],
        )
        self.assertEqual(list(item.events.values_list("type", flat=True)), ["deleted"])

    def test_a_repeated_deletion_is_recorded_once(self) -> None:
        capture_store(account=self.account_a, capture=a_capture(), source="test")
        capture_batch(account=self.account_a, events=[a_deletion()], source="test")
        again = capture_batch(account=self.account_a, events=[a_deletion()], source="test")
        self.assertEqual(again.duplicates_skipped, 1)
        self.assertEqual(ItemEvent.objects.count(), 1)

    def test_an_event_for_an_item_never_captured_is_refused_and_nothing_is_written(self) -> None:
        with self.assertRaisesMessage(
            ValueError, "event 'deleted' for mastodon:404, which the archive does not hold"
        ):
            capture_batch(
                account=self.account_a,
                captures=[a_capture("1")],
                events=[a_deletion("404")],
                source="test",
            )
        self.assertFalse(Item.objects.exists())
        self.assertFalse(ChainHead.objects.filter(seq__gt=0).exists())

    def test_media_are_stored_once_by_digest_and_missing_media_are_reported(self) -> None:
        image = an_image()
        first = a_capture("1", media=(image, MediaInput(original_name="gone.png")))
        second = a_capture("2", media=(image,))
        result = capture_batch(account=self.account_a, captures=[first, second], source="test")
        self.assertEqual((result.media, result.media_missing), (2, 1))
        self.assertEqual(result.missing_media_names, ["gone.png"])
        media = MediaFile.objects.get()
        self.assertTrue(default_storage.exists(media.storage_name))
        self.assertEqual(media.size, len(image.content or b""))

    def test_a_changed_alt_text_is_a_new_version(self) -> None:
        capture_store(
            account=self.account_a,
            capture=a_capture(media=(an_image(alt="A library"),)),
            source="t",
        )
        capture_store(
            account=self.account_a,
            capture=a_capture(media=(an_image(alt="The city library"),)),
            source="t",
        )
        self.assertEqual(ItemVersion.objects.count(), 2)

    def test_each_account_has_one_linear_chain(self) -> None:
        capture_batch(account=self.account_a, captures=[a_capture("1"), a_capture("2")], source="t")
        capture_batch(account=self.account_a, events=[a_deletion("1")], source="t")
        capture_store(account=self.account_b, capture=a_capture("3"), source="t")
        head_a = ChainHead.objects.get(account=self.account_a)
        self.assertEqual(head_a.seq, 3)
        self.assertEqual(head_a.digest, ItemEvent.objects.get().chain_digest)
        self.assertEqual(ChainHead.objects.get(account=self.account_b).seq, 1)


class InterruptedMediaWriteTests(NarvaroTestCase):
    def test_a_partial_file_left_by_a_killed_import_is_replaced_not_reused(self) -> None:
        from django.core.files.base import ContentFile

        from narvaro.archive.capture import sha256_hex
        from narvaro.archive.fixity import verify_archive
        from narvaro.archive.services import media_storage_name

        image = an_image(content=b"\xff\xd8\xff" + b"x" * 5000)
        name = media_storage_name(sha256_hex(image.content or b""))
        default_storage.save(name, ContentFile((image.content or b"")[:100]))  # cut short
        capture_store(account=self.account_a, capture=a_capture(media=(image,)), source="test")
        with default_storage.open(name, "rb") as handle:
            self.assertEqual(handle.read(), image.content)
        self.assertTrue(verify_archive().intact)
