"""Roles apply to a unit and every unit below it; registrars read everything; outsiders nothing."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from narvaro.lib.testing import NarvaroTestCase
from narvaro.organisation.roles import Capability, role_allows
from narvaro.organisation.selectors import get_unit_for_user, unit_access, unit_tree_for_user


class RoleTableTests(NarvaroTestCase):
    def test_only_managers_manage_and_moderators_do_not_publish(self) -> None:
        self.assertTrue(role_allows("manager", Capability.MANAGE))
        self.assertFalse(role_allows("approver", Capability.MANAGE))
        self.assertFalse(role_allows("moderator", Capability.PUBLISH))  # R4
        self.assertTrue(role_allows("moderator", Capability.MODERATE))
        self.assertTrue(role_allows("approver", Capability.APPROVE))
        self.assertFalse(role_allows("viewer", Capability.RESPOND))


class UnitAccessTests(NarvaroTestCase):
    def test_a_role_in_a_unit_reaches_its_subunits(self) -> None:
        access = unit_access(self.alice)
        self.assertTrue(access.allows(self.unit_a_child.pk, Capability.MANAGE))
        self.assertFalse(access.allows(self.unit_b.pk, Capability.VIEW))
        self.assertFalse(access.allows(self.root.pk, Capability.VIEW))

    def test_an_outsider_sees_no_unit(self) -> None:
        self.assertEqual(unit_tree_for_user(self.oscar), [])
        with self.assertRaises(Http404):
            get_unit_for_user(self.oscar, self.unit_a.pk)

    def test_a_registrar_reads_every_unit_and_manages_none(self) -> None:
        self.assertEqual(len(unit_tree_for_user(self.rita)), 4)
        with self.assertRaises(PermissionDenied):
            get_unit_for_user(self.rita, self.unit_a.pk, write=True)

    def test_a_viewer_gets_403_when_changing_a_unit_they_can_see(self) -> None:
        self.assertEqual(get_unit_for_user(self.vera, self.unit_a.pk), self.unit_a)
        with self.assertRaises(PermissionDenied):
            get_unit_for_user(self.vera, self.unit_a.pk, write=True)

    def test_the_tree_shows_visible_units_in_order_with_depth(self) -> None:
        rows = [(row.unit.slug, row.depth) for row in unit_tree_for_user(self.adam)]
        self.assertEqual(
            rows, [("kommunledning", 0), ("gata-park", 1), ("kultur", 1), ("bibliotek", 2)]
        )
        # A unit whose parent is hidden is shown as a root.
        self.assertEqual(
            [(r.unit.slug, r.depth) for r in unit_tree_for_user(self.vera)],
            [("kultur", 0), ("bibliotek", 1)],
        )
