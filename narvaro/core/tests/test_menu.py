"""The main menu shows each person exactly the sections they may open."""

from __future__ import annotations

from django.urls import reverse

from narvaro.core.models import User
from narvaro.lib.testing import NarvaroTestCase

DESK = ("disclosure:request_list", "retention:rule_list", "packages:export_list")


class MenuTests(NarvaroTestCase):
    def menu_links(self, user: User) -> set[str]:
        html = self.client_for(user).get(reverse("core:overview")).content.decode()
        return {name for name in DESK if f'href="{reverse(name)}"' in html}

    def test_registrars_and_admins_find_the_records_desk_in_the_menu(self) -> None:
        self.assertEqual(self.menu_links(self.rita), set(DESK))
        self.assertEqual(self.menu_links(self.adam), set(DESK))

    def test_staff_without_a_records_role_do_not(self) -> None:
        # They would get 403 there (tests/test_access_matrix.py); the menu does not offer it.
        self.assertEqual(self.menu_links(self.alice), set())
        self.assertEqual(self.menu_links(self.bob), set())

    def test_moderation_is_offered_to_those_who_moderate_or_receive_escalations(self) -> None:
        def offers(user: User) -> bool:
            html = self.client_for(user).get(reverse("core:overview")).content.decode()
            return f'href="{reverse("moderation:overview")}"' in html

        self.assertTrue(offers(self.alice))  # manager of Kultur: moderates its accounts
        self.assertTrue(offers(self.rita))  # registrar: escalations
        self.assertFalse(offers(self.vera))  # viewer
        self.assertFalse(offers(self.bob))  # publisher
