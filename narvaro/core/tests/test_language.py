"""The interface speaks the organisation's language until a person picks another."""

from __future__ import annotations

from django.test import Client, TestCase, override_settings
from django.urls import reverse


@override_settings(LANGUAGE_CODE="sv")
class LanguageTests(TestCase):
    def test_an_english_browser_still_gets_the_organisations_language(self) -> None:
        response = Client().get(reverse("core:login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
        self.assertContains(response, 'lang="sv"')

    @override_settings(NARVARO_BROWSER_LANGUAGE=True)
    def test_the_browser_language_can_be_followed_when_configured(self) -> None:
        response = Client().get(reverse("core:login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
        self.assertContains(response, 'lang="en"')

    def test_the_language_switch_keeps_the_choice_and_returns_to_the_page(self) -> None:
        client = Client()
        response = client.post(
            reverse("core:set_language"), {"language": "en", "next": "/sign-in/"}
        )
        self.assertRedirects(response, "/sign-in/", fetch_redirect_response=False)
        self.assertContains(client.get(reverse("core:login")), 'lang="en"')
