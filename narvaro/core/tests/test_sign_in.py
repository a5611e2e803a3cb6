"""Signing in: passwords, the second factor for admins and registrars (R5), throttling, logging."""

from __future__ import annotations

from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from narvaro.core import two_factor
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import PASSWORD, NarvaroTestCase


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


class SignInTests(NarvaroTestCase):
    def test_a_unit_member_signs_in_with_a_password_and_is_logged(self) -> None:
        client = Client()
        response = client.post(reverse("core:login"), {"username": "vera", "password": PASSWORD})
        self.assertRedirects(response, reverse("core:overview"))
        self.assertTrue(AuditEvent.objects.filter(actor=self.vera, action="sign_in").exists())

    def test_a_wrong_password_is_refused_and_logged_without_the_password(self) -> None:
        response = Client().post(reverse("core:login"), {"username": "vera", "password": "wrong"})
        self.assertContains(response, "Please enter a correct username and password.")
        event = AuditEvent.objects.get(action="sign_in_failed")
        self.assertIn("vera", event.summary)
        self.assertNotIn("wrong", str(event.changes) + event.summary)

    def test_r5_an_admin_without_a_second_factor_is_sent_to_set_one_up(self) -> None:
        client = Client()
        client.post(reverse("core:login"), {"username": "adam", "password": PASSWORD})
        setup = reverse("core:two_factor_setup")
        self.assertRedirects(client.get(reverse("core:overview")), setup + "?next=%2F")
        self.assertRedirects(client.get(reverse("core:audit_log")), setup + "?next=%2Faudit%2F")

    @override_settings(OTP_TOTP_THROTTLE_FACTOR=0)  # django-otp slows down retries after a miss
    def test_r5_a_registrar_with_an_authenticator_must_enter_a_code(self) -> None:
        device = two_factor.totp_device_create_confirmed(user=self.rita)
        client = Client()
        client.post(reverse("core:login"), {"username": "rita", "password": PASSWORD})
        verify = reverse("core:two_factor_verify") + "?next=%2Faudit%2F"
        self.assertRedirects(client.get(reverse("core:audit_log")), verify)
        response = client.post(verify, {"token": "000000"})
        self.assertContains(response, "That code is not valid.")
        self.assertRedirects(client.get(reverse("core:audit_log")), verify)
        response = client.post(verify, {"token": current_code(device)})
        self.assertRedirects(response, reverse("core:audit_log"))  # back where they were going

    def test_the_second_factor_never_redirects_to_another_site(self) -> None:
        device = two_factor.totp_device_create_confirmed(user=self.rita)
        client = Client()
        client.post(reverse("core:login"), {"username": "rita", "password": PASSWORD})
        url = reverse("core:two_factor_verify") + "?next=https://evil.example/phish"
        response = client.post(url, {"token": current_code(device)})
        self.assertRedirects(response, reverse("core:overview"), fetch_redirect_response=False)

    def test_a_backup_code_works_once(self) -> None:
        two_factor.totp_device_create_confirmed(user=self.rita)
        code = two_factor.backup_codes_create(user=self.rita, count=1)[0]
        first = Client()
        first.post(reverse("core:login"), {"username": "rita", "password": PASSWORD})
        first.post(reverse("core:two_factor_verify"), {"token": code})
        self.assertEqual(first.get(reverse("core:audit_log")).status_code, 200)
        second = Client()
        second.post(reverse("core:login"), {"username": "rita", "password": PASSWORD})
        response = second.post(reverse("core:two_factor_verify"), {"token": code})
        self.assertContains(response, "That code is not valid.")

    def test_setting_up_an_authenticator_confirms_it_with_a_code(self) -> None:
        client = Client()
        client.post(reverse("core:login"), {"username": "adam", "password": PASSWORD})
        page = client.get(reverse("core:two_factor_setup"))
        self.assertContains(page, "<svg")
        device = TOTPDevice.objects.get(user=self.adam, confirmed=False)
        client.post(reverse("core:two_factor_setup"), {"token": current_code(device)})
        device.refresh_from_db()
        self.assertTrue(device.confirmed)
        self.assertEqual(client.get(reverse("core:person_list")).status_code, 200)
        self.assertTrue(AuditEvent.objects.filter(actor=self.adam, action="security").exists())

    def test_a_unit_member_needs_no_second_factor(self) -> None:
        self.assertFalse(self.alice.requires_two_factor)
        self.assertTrue(self.adam.requires_two_factor)
        self.assertTrue(self.rita.requires_two_factor)


@override_settings(AXES_FAILURE_LIMIT=3)
class ThrottlingTests(NarvaroTestCase):
    def test_repeated_failures_lock_the_username_even_with_the_right_password(self) -> None:
        client = Client()
        for _ in range(3):
            client.post(reverse("core:login"), {"username": "vera", "password": "wrong"})
        response = client.post(reverse("core:login"), {"username": "vera", "password": PASSWORD})
        self.assertEqual(response.status_code, 429)
        self.assertContains(response, "Too many failed sign-in attempts", status_code=429)
        self.assertNotIn("_auth_user_id", client.session)


class BackupCodeTests(NarvaroTestCase):
    def test_a_person_creates_backup_codes_that_replace_the_earlier_ones(self) -> None:
        client = self.client_for(self.rita)
        url = reverse("core:two_factor_backup_codes")
        self.assertNotContains(client.get(url), 'class="secret"')
        first = client.post(url)
        old_codes = first.context["codes"]
        self.assertEqual(len(old_codes), 10)
        self.assertContains(first, old_codes[0])
        self.assertEqual(
            first["Cache-Control"], "max-age=0, no-cache, no-store, must-revalidate, private"
        )
        client.post(url)
        fresh = Client()
        fresh.post(reverse("core:login"), {"username": "rita", "password": PASSWORD})
        response = fresh.post(reverse("core:two_factor_verify"), {"token": old_codes[0]})
        self.assertContains(response, "That code is not valid.")
        self.assertEqual(AuditEvent.objects.filter(actor=self.rita, action="security").count(), 2)

    def test_after_setting_up_an_authenticator_the_person_is_offered_backup_codes(self) -> None:
        client = Client()
        client.post(reverse("core:login"), {"username": "adam", "password": PASSWORD})
        client.get(reverse("core:two_factor_setup"))
        device = TOTPDevice.objects.get(user=self.adam, confirmed=False)
        response = client.post(reverse("core:two_factor_setup"), {"token": current_code(device)})
        self.assertRedirects(
            response,
            reverse("core:two_factor_backup_codes") + "?next=%2F",
            fetch_redirect_response=False,
        )


class SecondFactorBypassTests(NarvaroTestCase):
    """A password alone must never get past, or replace, a registered second factor (R5)."""

    def signed_in_with_password_only(self, username: str) -> Client:
        client = Client()
        client.post(reverse("core:login"), {"username": username, "password": PASSWORD})
        return client

    def test_backup_codes_cannot_be_made_with_a_password_alone(self) -> None:
        two_factor.totp_device_create_confirmed(user=self.rita)
        client = self.signed_in_with_password_only("rita")
        response = client.post(reverse("core:two_factor_backup_codes"))
        self.assertTrue(response.url.startswith(reverse("core:two_factor_verify")))
        self.assertFalse(StaticToken.objects.filter(device__user=self.rita).exists())
        self.assertEqual(client.get(reverse("core:audit_log")).status_code, 302)

    def test_an_authenticator_cannot_be_replaced_with_a_password_alone(self) -> None:
        device = two_factor.totp_device_create_confirmed(user=self.rita)
        client = self.signed_in_with_password_only("rita")
        response = client.post(reverse("core:two_factor_setup"), {"token": "123456"})
        self.assertTrue(response.url.startswith(reverse("core:two_factor_verify")))
        self.assertEqual(list(TOTPDevice.objects.filter(user=self.rita)), [device])

    def test_a_unit_member_who_turned_on_a_second_factor_must_use_it(self) -> None:
        two_factor.totp_device_create_confirmed(user=self.alice)
        client = self.signed_in_with_password_only("alice")
        response = client.get(reverse("channels:account_list"))
        self.assertRedirects(response, reverse("core:two_factor_verify") + "?next=%2Faccounts%2F")

    def test_new_backup_codes_revoke_every_earlier_static_code(self) -> None:
        from django_otp.plugins.otp_static.models import StaticDevice

        other = StaticDevice.objects.create(user=self.rita, name="Backup Code")
        other.token_set.create(token="added-by-hand")
        two_factor.backup_codes_create(user=self.rita)
        self.assertFalse(StaticToken.objects.filter(token="added-by-hand").exists())
