"""Unit pages: the tree, creating and editing units, giving and removing roles."""

from __future__ import annotations

from django.urls import reverse

from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase, make_unit
from narvaro.organisation.models import Membership, Unit


class UnitListTests(NarvaroTestCase):
    def test_the_tree_costs_the_same_number_of_queries_for_many_units(self) -> None:
        client = self.client_for(self.adam)
        url = reverse("organisation:unit_list")
        client.get(url)
        with self.assertNumQueries(4):
            client.get(url)
        for n in range(25):
            make_unit(f"skola-{n}", self.root)
        with self.assertNumQueries(4):
            response = client.get(url)
        self.assertContains(response, "Skola-24")

    def test_the_detail_page_costs_a_fixed_number_of_queries(self) -> None:
        client = self.client_for(self.alice)
        url = self.unit_a.get_absolute_url()
        client.get(url)
        # 10, plus the business calendar, the response targets and who is on duty today (2).
        with self.assertNumQueries(14):
            client.get(url)


class UnitCreateTests(NarvaroTestCase):
    def test_a_manager_adds_a_subunit_below_a_unit_they_manage(self) -> None:
        response = self.client_for(self.alice).post(
            reverse("organisation:unit_create"),
            {"name": "Museum", "slug": "museum", "parent": self.unit_a.pk},
        )
        unit = Unit.objects.get(slug="museum")
        self.assertRedirects(response, unit.get_absolute_url())
        self.assertEqual(unit.parent, self.unit_a)
        self.assertTrue(
            AuditEvent.objects.filter(
                target_type="organisation.unit", target_id=str(unit.pk), action="create"
            ).exists()
        )

    def test_a_manager_cannot_add_a_unit_at_the_top_or_elsewhere(self) -> None:
        client = self.client_for(self.alice)
        response = client.post(reverse("organisation:unit_create"), {"name": "Top", "slug": "top"})
        self.assertContains(response, 'id="id_parent_error"')
        response = client.post(
            reverse("organisation:unit_create"),
            {"name": "X", "slug": "x", "parent": self.unit_b.pk},
        )
        self.assertContains(response, 'id="id_parent_error"')
        self.assertFalse(Unit.objects.filter(slug__in=["top", "x"]).exists())

    def test_a_taken_short_name_is_reported_next_to_the_field(self) -> None:
        response = self.client_for(self.adam).post(
            reverse("organisation:unit_create"), {"name": "Kultur 2", "slug": "kultur"}
        )
        self.assertContains(response, 'id="id_slug_error"')
        self.assertContains(response, "Unit with this Short name already exists.")


class UnitEditTests(NarvaroTestCase):
    def test_a_unit_cannot_be_moved_below_its_own_subunit(self) -> None:
        response = self.client_for(self.adam).post(
            reverse("organisation:unit_edit", args=[self.unit_a.pk]),
            {"name": "Kultur", "slug": "kultur", "parent": self.unit_a_child.pk},
        )
        self.assertContains(
            response, "A unit cannot be placed below itself or one of its subunits."
        )
        self.unit_a.refresh_from_db()
        self.assertEqual(self.unit_a.parent, self.root)

    def test_a_change_is_logged_with_old_and_new_values(self) -> None:
        self.client_for(self.alice).post(
            reverse("organisation:unit_edit", args=[self.unit_a.pk]),
            {"name": "Kultur och fritid", "slug": "kultur", "parent": ""},
        )
        # alice may not move kultur to the top (she does not manage the root): the form says so.
        self.unit_a.refresh_from_db()
        self.assertEqual(self.unit_a.name, "Kultur")
        self.client_for(self.adam).post(
            reverse("organisation:unit_edit", args=[self.unit_a.pk]),
            {"name": "Kultur och fritid", "slug": "kultur", "parent": self.root.pk},
        )
        event = AuditEvent.objects.get(target_type="organisation.unit", action="update")
        self.assertEqual(event.changes, {"name": ["Kultur", "Kultur och fritid"]})


class MembershipTests(NarvaroTestCase):
    def test_a_manager_gives_a_person_a_role_and_it_is_logged(self) -> None:
        response = self.client_for(self.alice).post(
            reverse("organisation:membership_add", args=[self.unit_a.pk]),
            {"user": self.oscar.pk, "role": "publisher", "requires_approval": "on"},
        )
        self.assertRedirects(response, self.unit_a.get_absolute_url())
        membership = Membership.objects.get(user=self.oscar)
        self.assertTrue(membership.requires_approval)
        event = AuditEvent.objects.get(action="grant", target_id=str(membership.pk))
        self.assertEqual(event.actor, self.alice)
        self.assertEqual(event.unit_id, self.unit_a.pk)

    def test_giving_a_second_role_in_the_same_unit_replaces_the_first(self) -> None:
        self.client_for(self.alice).post(
            reverse("organisation:membership_add", args=[self.unit_a.pk]),
            {"user": self.vera.pk, "role": "responder"},
        )
        self.assertEqual(
            list(Membership.objects.filter(user=self.vera).values_list("role", flat=True)),
            ["responder"],
        )

    def test_removing_a_role_needs_a_post_and_leaves_a_log_line(self) -> None:
        membership = Membership.objects.get(user=self.vera)
        url = reverse("organisation:membership_revoke", args=[membership.pk])
        client = self.client_for(self.alice)
        self.assertContains(client.get(url), "will no longer be")
        self.assertTrue(Membership.objects.filter(pk=membership.pk).exists())
        client.post(url)
        self.assertFalse(Membership.objects.filter(pk=membership.pk).exists())
        self.assertTrue(
            AuditEvent.objects.filter(action="revoke", target_id=str(membership.pk)).exists()
        )
