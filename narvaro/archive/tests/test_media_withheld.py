"""Media of an item moderated as child sexual abuse material are never shown or served (R20)."""

from __future__ import annotations

from narvaro.archive.events import item_event_record
from narvaro.archive.fixity import verify_archive
from narvaro.archive.models import Item
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
