"""Comment policy pages: writing, versioning and recording publication (R6)."""

from __future__ import annotations

from django.urls import reverse

from narvaro.channels.models import CommentPolicy
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase


class PolicyViewTests(NarvaroTestCase):
    def test_a_manager_writes_a_policy_for_their_unit_and_publishes_it(self) -> None:
        client = self.client_for(self.alice)
        response = client.post(
            reverse("channels:policy_create"),
            {"name": "Bibliotekets policy", "unit": self.unit_a_child.pk, "text": "Håll god ton."},
        )
        policy = CommentPolicy.objects.get(name="Bibliotekets policy")
        self.assertRedirects(response, policy.get_absolute_url())
        self.assertContains(client.get(policy.get_absolute_url()), "Not published.")
        url = reverse("channels:policy_version_publish", args=[policy.pk, 1])
        response = client.post(url, {"published_url": "https://example.org/policy"})
        self.assertRedirects(response, policy.get_absolute_url())
        version = policy.versions.get()
        self.assertIsNotNone(version.published_at)
        self.assertEqual(version.published_url, "https://example.org/policy")
        self.assertTrue(
            AuditEvent.objects.filter(action="transition", target_id=str(version.pk)).exists()
        )

    def test_a_manager_cannot_write_an_organisation_wide_policy(self) -> None:
        response = self.client_for(self.alice).post(
            reverse("channels:policy_create"), {"name": "Allmän", "unit": "", "text": "x"}
        )
        self.assertContains(response, 'id="id_unit_error"')
        self.assertFalse(CommentPolicy.objects.filter(name="Allmän").exists())

    def test_a_new_version_starts_from_the_latest_text_and_keeps_the_old_one(self) -> None:
        client = self.client_for(self.adam)
        url = reverse("channels:policy_version_create", args=[self.policy.pk])
        self.assertContains(client.get(url), "Var schysst.")
        client.post(url, {"text": "Var vänlig.", "change_note": "Mjukare ton"})
        self.assertEqual(
            list(self.policy.versions.order_by("number").values_list("text", flat=True)),
            ["Var schysst.", "Var vänlig."],
        )

    def test_publishing_twice_is_refused_with_a_message(self) -> None:
        url = reverse("channels:policy_version_publish", args=[self.policy.pk, 1])
        response = self.client_for(self.adam).post(url, {})
        self.assertContains(response, "This version was already published.")

    def test_an_unknown_version_is_404(self) -> None:
        url = reverse("channels:policy_version_detail", args=[self.policy.pk, 99])
        self.assertEqual(self.client_for(self.adam).get(url).status_code, 404)

    def test_the_policy_page_costs_the_same_number_of_queries_for_many_versions(self) -> None:
        from narvaro.channels import services

        client = self.client_for(self.vera)
        url = self.policy.get_absolute_url()
        client.get(url)
        with self.assertNumQueries(6):
            client.get(url)
        for n in range(10):
            services.policy_version_add(actor=self.adam, policy=self.policy, text=f"Text {n}")
        with self.assertNumQueries(6):
            client.get(url)
