"""The Swedish interface: key labels translate, and the catalogue is complete."""

from __future__ import annotations

import re
from pathlib import Path

import polib
from django.conf import settings
from django.test import TestCase
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext

from narvaro.channels.models import Account
from narvaro.core.models import User
from narvaro.organisation.models import Membership

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "sv" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


class SwedishLabelTests(TestCase):
    def test_unit_roles_are_swedish(self) -> None:
        with translation.override("sv"):
            labels = [str(label) for label in Membership.Role.labels]
        self.assertEqual(
            labels, ["Läsare", "Svarare", "Publicerare", "Moderator", "Godkännare", "Chef"]
        )

    def test_account_states_are_swedish(self) -> None:
        with translation.override("sv"):
            labels = [str(label) for label in Account.State.labels]
        self.assertEqual(labels, ["Föreslaget", "Aktivt", "Avvecklas", "Stängt"])

    def test_organisation_wide_roles_are_swedish(self) -> None:
        with translation.override("sv"):
            self.assertEqual(str(User.OrgRole.REGISTRAR.label), "Registrator")
            self.assertEqual(str(User.OrgRole.ADMIN.label), "Administratör")

    def test_plural_forms_follow_the_count(self) -> None:
        with translation.override("sv"):
            one = ngettext("%(counter)s account", "%(counter)s accounts", 1) % {"counter": 1}
            many = ngettext("%(counter)s account", "%(counter)s accounts", 3) % {"counter": 3}
        self.assertEqual(one, "1 konto")
        self.assertEqual(many, "3 konton")

    def test_english_is_left_untouched(self) -> None:
        with translation.override("en"):
            self.assertEqual(gettext("Audit log"), "Audit log")
        with translation.override("sv"):
            self.assertEqual(gettext("Audit log"), "Granskningslogg")


class SwedishPageTests(TestCase):
    def test_the_sign_in_page_is_swedish_with_the_language_cookie(self) -> None:
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
        response = self.client.get(reverse("core:login"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Logga in")
        self.assertContains(response, '<html lang="sv"')
        self.assertNotContains(response, "Sign in to Narvaro")

    def test_the_sign_in_page_is_english_without_the_cookie(self) -> None:
        response = self.client.get(reverse("core:login"), HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(response, "Sign in to Narvaro")


class CatalogueTests(TestCase):
    def setUp(self) -> None:
        self.po = polib.pofile(str(CATALOGUE))

    def test_every_message_has_a_swedish_translation(self) -> None:
        entries = [e for e in self.po if not e.obsolete]
        self.assertTrue(entries)
        empty = [
            e.msgid
            for e in entries
            if (not e.msgid_plural and not e.msgstr.strip())
            or (e.msgid_plural and not all(s.strip() for s in e.msgstr_plural.values()))
        ]
        self.assertEqual(empty, [])
        self.assertEqual([e.msgid for e in self.po.fuzzy_entries()], [])

    def test_plural_entries_have_both_swedish_forms(self) -> None:
        self.assertIn("nplurals=2; plural=(n != 1);", self.po.metadata["Plural-Forms"])
        for entry in self.po:
            if entry.msgid_plural and not entry.obsolete:
                self.assertEqual(sorted(entry.msgstr_plural), [0, 1], entry.msgid)

    def test_translations_keep_every_placeholder(self) -> None:
        for entry in self.po:
            if entry.obsolete:
                continue
            pairs = (
                [
                    (entry.msgid, entry.msgstr_plural[0]),
                    (entry.msgid_plural, entry.msgstr_plural[1]),
                ]
                if entry.msgid_plural
                else [(entry.msgid, entry.msgstr)]
            )
            for source, target in pairs:
                self.assertEqual(
                    sorted(PLACEHOLDER.findall(source)), sorted(PLACEHOLDER.findall(target)), source
                )

    def test_the_compiled_catalogue_exists(self) -> None:
        self.assertTrue(CATALOGUE.with_suffix(".mo").exists())
