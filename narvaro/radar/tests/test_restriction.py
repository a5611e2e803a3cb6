"""R33: an inbound item with a valid personnummer is restricted in the archive's pages too."""

from __future__ import annotations

from django.urls import reverse

from narvaro.archive.models import Item
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture
from narvaro.lib.testing import NarvaroTestCase
from narvaro.organisation import services as org_services
from narvaro.organisation.models import Membership
from narvaro.radar import services

SECRET = "Hej, mitt personnummer är 811218-9876, när får jag svar om bygglovet?"


class RestrictionTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        capture_batch(
            account=self.account_a,
            captures=[a_capture("1", SECRET), a_capture("2", "När öppnar biblioteket?")],
            source="test",
        )
        self.items = dict(Item.objects.values_list("remote_id", "pk"))
        services.items_classify(list(self.items.values()))

    def test_a_viewer_of_the_unit_sees_the_record_but_not_its_text(self) -> None:
        url = reverse("archive:record_detail", args=[self.items["1"]])
        page = self.client_for(self.vera).get(url).content.decode()
        self.assertNotIn("811218-9876", page)
        self.assertNotIn("bygglovet", page)
        self.assertIn("contains a personal identity number", page)
        listing = self.client_for(self.vera).get(reverse("archive:record_list")).content.decode()
        self.assertNotIn("811218-9876", listing)
        self.assertIn("När öppnar biblioteket?", listing)  # the other item is untouched

    def test_the_units_manager_and_moderators_and_registrars_read_it(self) -> None:
        moderator = self.oscar
        org_services.membership_grant(
            actor=None, unit=self.unit_a_child, user=moderator, role=Membership.Role.MODERATOR
        )
        url = reverse("archive:record_detail", args=[self.items["1"]])
        for person in (self.alice, moderator, self.rita, self.adam):
            with self.subTest(person=person.username):
                page = self.client_for(person).get(url).content.decode()
                self.assertIn("811218-9876", page)
                self.assertNotIn("contains a personal identity number", page)

    def test_an_item_without_one_is_shown_to_viewers_as_before(self) -> None:
        url = reverse("archive:record_detail", args=[self.items["2"]])
        page = self.client_for(self.vera).get(url).content.decode()
        self.assertIn("När öppnar biblioteket?", page)
        self.assertNotIn("contains a personal identity number", page)
