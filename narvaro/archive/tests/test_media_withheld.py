"""Media of an item moderated as child sexual abuse material are never shown or served (R20)."""

from __future__ import annotations

import hashlib

from narvaro.archive.capture import MediaInput
from narvaro.archive.events import item_event_record
from narvaro.archive.fixity import verify_archive
from narvaro.archive.models import Item, MediaFile, VersionMedia
from narvaro.archive.selectors import media_withheld_digests, media_withheld_ids
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture, an_image
from narvaro.lib.testing import NarvaroTestCase


class MediaWithheldTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        capture_batch(
            account=self.account_a,
            captures=[
                a_capture("1", media=(an_image("a.jpg"),)),
                a_capture("2", media=(an_image("b.jpg", content=b"\xff\xd8\xff other"),)),
            ],
            source="test",
        )
        self.item = Item.objects.get(remote_id="1")
        item_event_record(
            item=self.item,
            type="hidden",
            details={"reason": "csam", "reason_group": "bbs"},
            actor=self.adam,
            source="moderation",
        )

    def test_the_record_page_shows_no_media_and_says_why_for_anyone(self) -> None:
        for person in (self.adam, self.rita, self.alice):
            response = self.client_for(person).get(self.item.get_absolute_url())
            self.assertEqual(response.status_code, 200)
            body = response.content.decode()
            self.assertNotIn("<img", body)
            self.assertIn("withheld", body)
            media = self.client_for(person).get(f"/records/{self.item.pk}/versions/1/media/0/")
            self.assertEqual(media.status_code, 404)

    def test_other_items_media_are_served_and_the_archive_verifies(self) -> None:
        other = Item.objects.get(remote_id="2")
        response = self.client_for(self.adam).get(other.get_absolute_url())
        self.assertIn("<img", response.content.decode())
        self.assertTrue(verify_archive().intact)

    def test_the_same_file_on_another_item_is_withheld_there_too(self) -> None:
        capture_batch(
            account=self.account_a,
            captures=[a_capture("3", media=(an_image("again.jpg"),))],  # item 1's bytes
            source="test",
        )
        again = Item.objects.get(remote_id="3")
        self.assertEqual(media_withheld_ids([again.pk]), set())  # not itself moderated
        response = self.client_for(self.adam).get(again.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("<img", response.content.decode())
        self.assertContains(response, "1 attachment is withheld")
        media = self.client_for(self.adam).get(f"/records/{again.pk}/versions/1/media/0/")
        self.assertEqual(media.status_code, 404)

    def test_the_withheld_files_are_known_by_digest_wherever_attached(self) -> None:
        withheld = hashlib.sha256(b"\xff\xd8\xff fake jpeg bytes").hexdigest()
        kept = hashlib.sha256(b"\xff\xd8\xff other").hexdigest()
        self.assertEqual(media_withheld_digests(), {withheld})
        self.assertEqual(media_withheld_digests([withheld, kept]), {withheld})
        self.assertEqual(media_withheld_digests([kept]), set())
        self.assertEqual(media_withheld_ids([self.item.pk, self.item.pk + 1]), {self.item.pk})


class MediaNotHeldTests(NarvaroTestCase):
    """A file known only by its digest (restored from a package that withheld it)."""

    def test_it_is_stored_as_its_record_and_the_archive_verifies(self) -> None:
        content = b"\xff\xd8\xff withheld bytes"
        digest = hashlib.sha256(content).hexdigest()
        known = MediaInput(
            original_name="x.jpg", content_type="image/jpeg", sha256=digest, size=len(content)
        )
        capture_batch(account=self.account_a, captures=[a_capture("1", media=(known,))], source="t")
        row = VersionMedia.objects.select_related("media").get(version__item__remote_id="1")
        self.assertFalse(row.missing)
        self.assertEqual(
            (row.media.sha256, row.media.size, row.media.storage_name), (digest, len(content), "")
        )
        report = verify_archive()
        self.assertTrue(report.intact, report.problems)
        self.assertEqual((report.media_files, report.media_not_held), (1, 1))
        # Captured later with its bytes, the file is held from then on.
        capture_batch(
            account=self.account_a,
            captures=[a_capture("2", media=(MediaInput(original_name="y.jpg", content=content),))],
            source="t",
        )
        self.assertNotEqual(MediaFile.objects.get(sha256=digest).storage_name, "")
        report = verify_archive()
        self.assertTrue(report.intact, report.problems)
        self.assertEqual(report.media_not_held, 0)
