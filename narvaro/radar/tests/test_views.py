"""The radar's pages: who reaches them, what they show, and a bounded number of queries."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from narvaro.archive.models import Item
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase
from narvaro.organisation import services as org_services
from narvaro.organisation.models import Membership
from narvaro.radar import services
from narvaro.radar.models import Alert, Label

ALERT_LIST_QUERIES = 10


class RadarViewTests(NarvaroTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        capture_batch(
            account=cls.account_a,
            captures=[
                a_capture("1", "Skandal! Usel skötsel av parken."),
                a_capture("2", "Mitt personnummer är 811218-9876, när kommer beslutet?"),
            ],
            source="test",
        )
        capture_batch(
            account=cls.account_b, captures=[a_capture("3", "Tack för hjälpen!")], source="test"
        )
        cls.items = dict(Item.objects.values_list("remote_id", "pk"))
        services.items_classify(list(cls.items.values()))
        cls.alert_a = cls.make_alert(cls.account_a)
        cls.alert_b = cls.make_alert(cls.account_b)
        cls.moderator = cls.oscar
        org_services.membership_grant(
            actor=None, unit=cls.unit_a_child, user=cls.moderator, role=Membership.Role.MODERATOR
        )

    @classmethod
    def make_alert(cls, account: object) -> Alert:
        now = dt.datetime(2026, 3, 5, 17, 0, tzinfo=dt.UTC)
        alert = Alert.objects.create(
            scope="account",
            account=account,
            unit=account.unit,  # type: ignore[attr-defined]
            raised_at=now,
            last_seen_at=now,
            window_start=now - dt.timedelta(hours=1),
            window_end=now,
            critique_spike=True,
            observed=25,
            expected=2.5,
            volume_p=1e-9,
            critique_observed=20,
            critique_expected_share=0.1,
            critique_p=1e-12,
        )
        alert.items.set(Item.objects.filter(account=account))
        return alert

    def test_who_reaches_the_alert_list(self) -> None:
        url = reverse("radar:alert_list")
        # Managers and moderators of a unit, and admins; not viewers, publishers, registrars.
        for person, status in [
            (self.alice, 200),
            (self.moderator, 200),
            (self.adam, 200),
            (self.vera, 403),
            (self.bob, 403),
            (self.rita, 403),
        ]:
            with self.subTest(person=person.username):
                self.assertEqual(self.client_for(person).get(url).status_code, status)
        self.assertEqual(self.client_for(None).get(url).status_code, 302)

    def test_the_list_shows_only_the_alerts_of_ones_units(self) -> None:
        page = self.client_for(self.alice).get(reverse("radar:alert_list"))
        self.assertContains(page, reverse("radar:alert_detail", args=[self.alert_a.pk]))
        self.assertNotContains(page, reverse("radar:alert_detail", args=[self.alert_b.pk]))
        everything = self.client_for(self.adam).get(reverse("radar:alert_list"))
        self.assertContains(everything, reverse("radar:alert_detail", args=[self.alert_b.pk]))
        # Filtered to open alerts of one unit.
        self.alert_a.acknowledged_at = self.alert_a.raised_at
        self.alert_a.save()
        filtered = self.client_for(self.adam).get(
            reverse("radar:alert_list"), {"unit": self.unit_b.pk, "open": "on"}
        )
        self.assertContains(filtered, reverse("radar:alert_detail", args=[self.alert_b.pk]))
        self.assertNotContains(filtered, reverse("radar:alert_detail", args=[self.alert_a.pk]))

    def test_the_alert_list_uses_a_constant_number_of_queries(self) -> None:
        client = self.client_for(self.adam)
        url = reverse("radar:alert_list")
        client.get(url)
        with CaptureQueriesContext(connection) as few:
            client.get(url)
        for _ in range(15):
            self.make_alert(self.account_a)
        with CaptureQueriesContext(connection) as many:
            client.get(url)
        self.assertEqual(len(many), len(few))
        self.assertLessEqual(len(many), ALERT_LIST_QUERIES)

    def test_an_alert_shows_its_items_and_can_be_acknowledged_once(self) -> None:
        url = reverse("radar:alert_detail", args=[self.alert_a.pk])
        page = self.client_for(self.moderator).get(url)
        self.assertContains(page, "Usel skötsel av parken")
        # The moderator of the unit reads the restricted item's text.
        self.assertContains(page, "811218-9876")
        response = self.client_for(self.moderator).post(
            reverse("radar:alert_acknowledge", args=[self.alert_a.pk]),
            {"note": "Svarat i tråden."},
        )
        self.assertRedirects(response, url)
        self.alert_a.refresh_from_db()
        self.assertEqual(self.alert_a.acknowledged_by, self.moderator)
        self.assertEqual(self.alert_a.note, "Svarat i tråden.")
        self.assertTrue(
            AuditEvent.objects.filter(target_type="radar.alert", target_id=str(self.alert_a.pk))
        )
        page = self.client_for(self.alice).get(url)
        self.assertContains(page, "Acknowledged")
        self.assertContains(page, "Svarat i tråden.")

    def test_another_units_alert_is_not_found(self) -> None:
        for name in ("radar:alert_detail", "radar:alert_acknowledge"):
            with self.subTest(name=name):
                url = reverse(name, args=[self.alert_b.pk])
                client = self.client_for(self.alice)
                response = client.post(url) if name.endswith("acknowledge") else client.get(url)
                self.assertEqual(response.status_code, 404)
        self.assertEqual(
            self.client_for(self.vera)
            .get(reverse("radar:alert_detail", args=[self.alert_a.pk]))
            .status_code,
            404,
        )

    def test_the_classifier_page_with_no_training_yet(self) -> None:
        page = self.client_for(self.moderator).get(reverse("radar:classifier"))
        self.assertContains(page, "The rules")
        self.assertContains(page, "<dt>Labels</dt><dd>0</dd>", html=False)
        # Moderators do not start training; managers do.
        self.assertNotContains(page, "Train now")
        self.assertContains(
            self.client_for(self.alice).get(reverse("radar:classifier")), "Train now"
        )
        self.assertEqual(
            self.client_for(self.moderator).post(reverse("radar:classifier_train")).status_code,
            403,
        )

    def test_the_classifier_page_uses_a_constant_number_of_queries(self) -> None:
        client = self.client_for(self.alice)
        url = reverse("radar:classifier")
        client.get(url)
        with CaptureQueriesContext(connection) as few:
            client.get(url)
        capture_batch(
            account=self.account_a,
            captures=[a_capture(f"m{n}", f"Fråga nummer {n}?") for n in range(15)],
            source="test",
        )
        services.items_classify(list(Item.objects.values_list("pk", flat=True)))
        with CaptureQueriesContext(connection) as many:
            client.get(url)
        self.assertEqual(len(many), len(few))

    def test_a_correction_from_the_item_page_is_a_label(self) -> None:
        item_id = self.items["1"]
        page = self.client_for(self.moderator).get(reverse("radar:item_explain", args=[item_id]))
        self.assertContains(page, "It has words of critique:")
        self.assertContains(page, "Skandal")
        response = self.client_for(self.moderator).post(
            reverse("radar:item_category", args=[item_id]), {"category": "other"}
        )
        self.assertRedirects(response, reverse("radar:item_explain", args=[item_id]))
        self.assertEqual(Label.objects.get().category, "other")

    def test_the_item_page_offers_hiding_a_restricted_item(self) -> None:
        page = self.client_for(self.alice).get(
            reverse("radar:item_explain", args=[self.items["2"]])
        )
        self.assertContains(page, "Personal identity number")
        self.assertContains(page, "contains a personal identity number")
        self.assertContains(page, "/moderation/items/")

    def test_item_pages_of_other_units_are_not_found(self) -> None:
        for person, item in [(self.alice, "3"), (self.vera, "1"), (self.bob, "3")]:
            with self.subTest(person=person.username, item=item):
                url = reverse("radar:item_explain", args=[self.items[item]])
                self.assertEqual(self.client_for(person).get(url).status_code, 404)

    def test_a_viewer_cannot_label_through_the_service_either(self) -> None:
        with self.assertRaises(PermissionDenied):
            services.item_category_set(item_id=self.items["1"], category="other", actor=self.vera)

    def test_the_menu_offers_the_radar_to_those_who_may_open_it(self) -> None:
        link = f'href="{reverse("radar:alert_list")}"'
        for person, shown in [
            (self.alice, True),
            (self.moderator, True),
            (self.adam, True),
            (self.vera, False),
            (self.rita, False),
        ]:
            with self.subTest(person=person.username):
                html = self.client_for(person).get(reverse("core:overview")).content.decode()
                self.assertEqual(link in html, shown)
