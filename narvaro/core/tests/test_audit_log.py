"""The audit log page: who may read which events, filters, and its cost in queries."""

from __future__ import annotations

from django.urls import reverse

from narvaro.core.models import AuditEvent
from narvaro.core.services import audit_record
from narvaro.lib.testing import NarvaroTestCase


class AuditLogTests(NarvaroTestCase):
    def test_a_manager_reads_only_the_events_of_the_units_they_manage(self) -> None:
        audit_record(
            actor=self.adam,
            action="update",
            target=self.unit_b,
            unit_id=self.unit_b.pk,
            summary="secret-b",
        )
        audit_record(
            actor=self.adam,
            action="update",
            target=self.unit_a,
            unit_id=self.unit_a.pk,
            summary="visible-a",
        )
        response = self.client_for(self.alice).get(reverse("core:audit_log"))
        self.assertContains(response, "visible-a")
        self.assertNotContains(response, "secret-b")

    def test_a_registrar_reads_everything(self) -> None:
        audit_record(
            actor=self.adam,
            action="update",
            target=self.unit_b,
            unit_id=self.unit_b.pk,
            summary="secret-b",
        )
        self.assertContains(self.client_for(self.rita).get(reverse("core:audit_log")), "secret-b")

    def test_filters_by_action_and_text(self) -> None:
        audit_record(actor=self.adam, action="export", summary="register exported")
        client = self.client_for(self.adam)
        response = client.get(reverse("core:audit_log"), {"action": "export"})
        self.assertContains(response, "register exported")
        self.assertNotContains(response, "account proposed")
        response = client.get(reverse("core:audit_log"), {"q": "proposed"})
        self.assertContains(response, "account proposed")
        self.assertNotContains(response, "register exported")

    def test_the_log_costs_the_same_number_of_queries_for_many_events(self) -> None:
        client = self.client_for(self.adam)
        url = reverse("core:audit_log")
        client.get(url)
        with self.assertNumQueries(5):
            client.get(url)
        for n in range(60):
            audit_record(actor=self.alice, action="view", summary=f"look {n}")
        with self.assertNumQueries(5):
            client.get(url)

    def test_the_log_cannot_be_changed_in_the_django_admin(self) -> None:
        event = AuditEvent.objects.first()
        assert event is not None
        client = self.client_for(self.adam)
        url = reverse("admin:core_auditevent_delete", args=[event.pk])
        self.assertEqual(client.post(url, {"post": "yes"}).status_code, 403)
        self.assertTrue(AuditEvent.objects.filter(pk=event.pk).exists())


class OverviewTests(NarvaroTestCase):
    def test_the_overview_shows_the_persons_roles_and_accounts_waiting_for_them(self) -> None:
        response = self.client_for(self.alice).get(reverse("core:overview"))
        self.assertContains(response, "Manager")
        self.assertContains(response, self.account_a.handle)  # proposed, in a unit alice manages

    def test_the_overview_costs_a_fixed_number_of_queries(self) -> None:
        client = self.client_for(self.alice)
        client.get(reverse("core:overview"))
        with self.assertNumQueries(8):
            client.get(reverse("core:overview"))


class PeopleTests(NarvaroTestCase):
    def test_an_admin_adds_a_person_who_gets_a_password_link(self) -> None:
        from django.core import mail

        response = self.client_for(self.adam).post(
            reverse("core:person_create"),
            {
                "username": "nils",
                "first_name": "Nils",
                "email": "nils@example.org",
                "org_role": "registrar",
            },
        )
        self.assertRedirects(response, reverse("core:person_list"))
        self.assertEqual(len(mail.outbox), 1)
        self.assertIn("/password/reset/", mail.outbox[0].body)
        self.assertTrue(AuditEvent.objects.filter(target_repr="Nils", action="create").exists())
        self.assertEqual(mail.outbox[0].subject, "Set your Narvaro password")
        # The link is built from the request: the host the admin is using.
        self.assertIn("Use this link to choose a password for Narvaro:", mail.outbox[0].body)
        self.assertIn("http://testserver/password/reset/", mail.outbox[0].body)

    def test_the_password_link_is_in_the_organisations_language_not_the_admins(self) -> None:
        from django.conf import settings
        from django.core import mail

        client = self.client_for(self.adam)
        # adam has switched Narvaro to English for himself.
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        with self.settings(LANGUAGE_CODE="sv"):
            response = client.post(
                reverse("core:person_create"),
                {"username": "nils", "email": "nils@example.org", "org_role": "registrar"},
            )
        self.assertRedirects(response, reverse("core:person_list"))
        (message,) = mail.outbox
        self.assertEqual(message.subject, "Välj ditt lösenord till Narvaro")
        self.assertIn(
            "Använd den här länken för att välja ett lösenord till Narvaro:", message.body
        )
        self.assertIn("http://testserver/password/reset/", message.body)

    def test_making_someone_admin_gives_django_admin_access_and_is_logged_as_a_grant(self) -> None:
        self.client_for(self.adam).post(
            reverse("core:person_edit", args=[self.oscar.pk]),
            {
                "first_name": "Oscar",
                "email": "oscar@example.org",
                "org_role": "admin",
                "is_active": "on",
            },
        )
        self.oscar.refresh_from_db()
        self.assertTrue(self.oscar.is_staff and self.oscar.is_superuser)
        event = AuditEvent.objects.get(action="grant", target_id=str(self.oscar.pk))
        self.assertEqual(event.changes["org_role"], ["", "admin"])

    def test_the_people_list_costs_the_same_number_of_queries_for_many_people(self) -> None:
        from narvaro.lib.testing import make_person

        client = self.client_for(self.adam)
        client.get(reverse("core:person_list"))
        with self.assertNumQueries(5):
            client.get(reverse("core:person_list"))
        for n in range(20):
            make_person(f"person{n}")
        with self.assertNumQueries(5):
            client.get(reverse("core:person_list"))


class PolicyListTests(NarvaroTestCase):
    def test_the_policy_list_costs_the_same_number_of_queries_for_many_policies(self) -> None:
        from narvaro.lib.testing import make_policy

        client = self.client_for(self.vera)
        client.get(reverse("channels:policy_list"))
        with self.assertNumQueries(6):
            client.get(reverse("channels:policy_list"))
        for n in range(10):
            make_policy(f"Policy {n}")
        with self.assertNumQueries(6):
            response = client.get(reverse("channels:policy_list"))
        self.assertContains(response, "Policy 9")


class OverviewPerRoleTests(NarvaroTestCase):
    def test_an_admin_sees_who_still_lacks_a_second_factor(self) -> None:
        response = self.client_for(self.adam).get(reverse("core:overview"))
        self.assertContains(response, "Waiting for two-factor authentication")
        self.assertContains(response, reverse("core:person_edit", args=[self.rita.pk]))

    def test_a_registrar_is_offered_the_register_download(self) -> None:
        response = self.client_for(self.rita).get(reverse("core:overview"))
        self.assertContains(response, reverse("channels:account_export", args=["csv"]))
        self.assertNotContains(response, "Waiting for two-factor authentication")

    def test_a_viewer_sees_neither(self) -> None:
        response = self.client_for(self.vera).get(reverse("core:overview"))
        self.assertNotContains(response, reverse("channels:account_export", args=["csv"]))
        self.assertNotContains(response, "Waiting for two-factor authentication")

    def test_an_admin_can_deactivate_a_person_and_it_is_logged(self) -> None:
        self.client_for(self.adam).post(
            reverse("core:person_edit", args=[self.oscar.pk]),
            {"first_name": "Oscar", "email": "oscar@example.org", "org_role": ""},
        )
        self.oscar.refresh_from_db()
        self.assertFalse(self.oscar.is_active)
        event = AuditEvent.objects.get(action="update", target_id=str(self.oscar.pk))
        self.assertEqual(event.changes["is_active"], [True, False])

    def test_an_admin_cannot_lock_themselves_out(self) -> None:
        response = self.client_for(self.adam).post(
            reverse("core:person_edit", args=[self.adam.pk]),
            {
                "first_name": "Adam",
                "email": "adam@example.org",
                "org_role": "registrar",
                "is_active": "on",
            },
        )
        self.assertContains(response, "You cannot remove your own administrator role or access.")
        self.adam.refresh_from_db()
        self.assertEqual(self.adam.org_role, "admin")
