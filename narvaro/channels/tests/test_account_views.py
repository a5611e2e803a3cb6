"""The account pages: list with filters, detail, create, edit and lifecycle buttons."""

from __future__ import annotations

from django.urls import reverse

from narvaro.channels.models import Account
from narvaro.lib.testing import NarvaroTestCase, make_account


class AccountListTests(NarvaroTestCase):
    def test_a_viewer_sees_the_accounts_of_their_unit_and_below_only(self) -> None:
        response = self.client_for(self.vera).get(reverse("channels:account_list"))
        self.assertContains(response, self.account_a.handle)
        self.assertNotContains(response, self.account_b.handle)

    def test_filters_narrow_the_list(self) -> None:
        make_account(
            self.unit_a, self.policy, [self.alice], platform="bluesky", handle="kultur.example.se"
        )
        client = self.client_for(self.adam)
        response = client.get(reverse("channels:account_list"), {"platform": "bluesky"})
        self.assertContains(response, "kultur.example.se")
        self.assertNotContains(response, self.account_a.handle)
        response = client.get(reverse("channels:account_list"), {"unit": self.unit_a.pk})
        self.assertContains(response, self.account_a.handle)  # bibliotek is below kultur
        self.assertNotContains(response, self.account_b.handle)

    def test_an_htmx_request_gets_only_the_result_rows(self) -> None:
        response = self.client_for(self.adam).get(
            reverse("channels:account_list"), {"state": "proposed"}, HTTP_HX_REQUEST="true"
        )
        self.assertTemplateUsed(response, "channels/partials/account_rows.html")
        self.assertTemplateNotUsed(response, "base.html")

    def test_the_list_costs_the_same_number_of_queries_for_many_accounts(self) -> None:
        client = self.client_for(self.adam)
        url = reverse("channels:account_list")
        client.get(url)  # warm the session
        with self.assertNumQueries(6):
            client.get(url)
        for n in range(30):
            make_account(self.unit_b, self.policy, [self.bob], handle=f"@extra{n}@x.example")
        with self.assertNumQueries(6):
            client.get(url)


class AccountDetailTests(NarvaroTestCase):
    def test_a_proposed_account_lists_what_is_missing_before_activation(self) -> None:
        account = make_account(
            self.unit_a, self.policy, [self.alice], handle="@x@x.example", dpia_ref=""
        )
        response = self.client_for(self.alice).get(account.get_absolute_url())
        self.assertContains(response, "Enter the reference of the data protection assessment.")

    def test_the_detail_page_costs_a_fixed_number_of_queries(self) -> None:
        client = self.client_for(self.alice)
        client.get(self.account_a.get_absolute_url())
        with self.assertNumQueries(10):
            client.get(self.account_a.get_absolute_url())

    def test_a_viewer_sees_no_edit_or_state_buttons(self) -> None:
        response = self.client_for(self.vera).get(self.account_a.get_absolute_url())
        self.assertNotContains(response, reverse("channels:account_edit", args=[self.account_a.pk]))
        self.assertNotContains(response, "Activate")


class AccountFormTests(NarvaroTestCase):
    def test_a_manager_proposes_an_account_for_their_unit(self) -> None:
        response = self.client_for(self.alice).post(
            reverse("channels:account_create"),
            {
                "unit": self.unit_a.pk,
                "platform": "instagram",
                "handle": "kultur_strandvik",
                "kind": "unit",
            },
        )
        account = Account.objects.get(handle="kultur_strandvik")
        self.assertRedirects(response, account.get_absolute_url())
        self.assertEqual(account.state, "proposed")

    def test_a_manager_cannot_place_an_account_in_a_unit_they_do_not_manage(self) -> None:
        response = self.client_for(self.alice).post(
            reverse("channels:account_create"),
            {"unit": self.unit_b.pk, "platform": "instagram", "handle": "smuggled", "kind": "unit"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertFalse(Account.objects.filter(handle="smuggled").exists())
        self.assertContains(response, 'id="id_unit_error"')

    def test_a_wrong_field_shows_its_error_next_to_the_field(self) -> None:
        response = self.client_for(self.alice).post(
            reverse("channels:account_create"),
            {
                "unit": self.unit_a.pk,
                "platform": "instagram",
                "handle": "",
                "kind": "unit",
                "profile_url": "not a url",
            },
        )
        html = response.content.decode()
        self.assertIn('id="id_handle_error"', html)
        self.assertIn('aria-describedby="id_handle_helptext id_handle_error"', html)
        self.assertIn(
            '<a class="ds-link" href="#id_handle">', html
        )  # the error summary links to it
        self.assertIn('aria-invalid="true"', html)
        self.assertIn('id="id_profile_url_error"', html)
        self.assertIn("Enter a valid URL.", html)

    def test_emptying_a_required_field_of_an_active_account_is_refused_with_the_reason(
        self,
    ) -> None:
        from narvaro.channels import services

        services.account_transition(actor=self.alice, account=self.account_a, to_state="active")
        url = reverse("channels:account_edit", args=[self.account_a.pk])
        data = {
            "unit": self.unit_a_child.pk,
            "platform": "mastodon",
            "handle": self.account_a.handle,
            "profile_url": self.account_a.profile_url,
            "kind": "unit",
            "purpose": "",
            "audience": "Residents",
            "responsible": [self.alice.pk],
            "moderators": [self.alice.pk],
            "opened_on": "2024-01-15",
            "retention_decision_ref": "KS 2024/1",
            "dpia_ref": "KS 2024/2",
            "comment_policy_version": self.account_a.comment_policy_version_id,
        }
        response = self.client_for(self.alice).post(url, data)
        self.assertContains(response, "Describe the purpose of the account.")
        self.account_a.refresh_from_db()
        self.assertEqual(self.account_a.purpose, "News and answers")


class AccountTransitionViewTests(NarvaroTestCase):
    def test_activate_moves_the_account_and_says_so(self) -> None:
        url = reverse("channels:account_transition", args=[self.account_a.pk, "active"])
        response = self.client_for(self.alice).post(url, follow=True)
        self.assertContains(response, "The account is now active.")
        self.account_a.refresh_from_db()
        self.assertEqual(self.account_a.state, "active")

    def test_a_refused_activation_shows_what_is_missing(self) -> None:
        account = make_account(
            self.unit_a, self.policy, [self.alice], handle="@y@x.example", audience=""
        )
        url = reverse("channels:account_transition", args=[account.pk, "active"])
        response = self.client_for(self.alice).post(url, follow=True)
        self.assertContains(response, "Describe the audience of the account.")

    def test_an_unknown_state_is_404(self) -> None:
        url = reverse("channels:account_transition", args=[self.account_a.pk, "archived"])
        self.assertEqual(self.client_for(self.alice).post(url).status_code, 404)


class AccountEditAuditTests(NarvaroTestCase):
    def test_an_edit_through_the_form_logs_the_old_and_new_value(self) -> None:
        from narvaro.core.models import AuditEvent

        data = {
            "unit": self.unit_a_child.pk,
            "platform": "mastodon",
            "handle": self.account_a.handle,
            "profile_url": self.account_a.profile_url,
            "kind": "unit",
            "purpose": "Boktips och öppettider",
            "audience": "Residents",
            "responsible": [self.alice.pk],
            "moderators": [self.alice.pk, self.vera.pk],
        }
        self.client_for(self.alice).post(
            reverse("channels:account_edit", args=[self.account_a.pk]), data
        )
        event = AuditEvent.objects.get(target_type="channels.account", action="update")
        self.assertEqual(event.changes["purpose"], ["News and answers", "Boktips och öppettider"])
        self.assertEqual(event.changes["moderators"], [["Alice"], ["Alice", "Vera"]])
        self.assertEqual(event.unit_id, self.unit_a_child.pk)
