"""The account lifecycle and the register fields an active account needs (R1, R6)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from narvaro.channels import services
from narvaro.channels.models import Account, AccountPolicyPublication
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase, make_account, make_policy


class AccountTransitionTests(NarvaroTestCase):
    def test_a_complete_account_with_a_published_policy_can_be_activated(self) -> None:
        account = services.account_transition(
            actor=self.alice, account=self.account_a, to_state="active"
        )
        self.assertEqual(account.state, Account.State.ACTIVE)

    def test_r1_an_account_with_an_empty_register_field_cannot_become_active(self) -> None:
        for field in ["purpose", "audience", "retention_decision_ref", "dpia_ref", "profile_url"]:
            with self.subTest(field=field):
                account = make_account(
                    self.unit_a,
                    self.policy,
                    [self.alice],
                    handle=f"@{field}@x.example",
                    **{field: ""},
                )
                with self.assertRaises(ValidationError) as raised:
                    services.account_transition(
                        actor=self.alice, account=account, to_state="active"
                    )
                self.assertIn(field, raised.exception.message_dict)
                account.refresh_from_db()
                self.assertEqual(account.state, Account.State.PROPOSED)

    def test_r1_an_account_without_responsible_staff_or_moderators_cannot_become_active(
        self,
    ) -> None:
        account = make_account(self.unit_a, self.policy, [], handle="@nobody@x.example")
        with self.assertRaises(ValidationError) as raised:
            services.account_transition(actor=self.alice, account=account, to_state="active")
        self.assertIn("responsible", raised.exception.message_dict)
        self.assertIn("moderators", raised.exception.message_dict)

    def test_r6_activation_requires_a_published_comment_policy_version(self) -> None:
        draft = make_policy("Utkast", published=False)
        account = make_account(self.unit_a, draft, [self.alice], handle="@draft@x.example")
        with self.assertRaises(ValidationError) as raised:
            services.account_transition(actor=self.alice, account=account, to_state="active")
        self.assertEqual(
            raised.exception.message_dict["comment_policy_version"],
            ["The chosen comment policy version has no publication date."],
        )

    def test_r6_activation_records_which_policy_version_was_published_on_the_account(self) -> None:
        services.account_transition(actor=self.alice, account=self.account_a, to_state="active")
        publication = AccountPolicyPublication.objects.get(account=self.account_a)
        self.assertEqual(publication.version, self.policy.versions.get(number=1))

    def test_a_new_policy_version_on_the_account_is_recorded_with_its_date(self) -> None:
        services.account_transition(actor=self.alice, account=self.account_a, to_state="active")
        version = services.policy_version_add(actor=self.adam, policy=self.policy, text="Ny text")
        services.policy_version_publish(actor=self.adam, version=version)
        services.account_update(
            actor=self.alice, account=self.account_a, comment_policy_version=version
        )
        versions = list(
            self.account_a.policy_publications.order_by("id").values_list(
                "version__number", flat=True
            )
        )
        self.assertEqual(versions, [1, 2])

    def test_a_role_account_names_its_office(self) -> None:
        account = make_account(
            self.unit_a, self.policy, [self.alice], handle="@dir@x.example", kind="role"
        )
        with self.assertRaises(ValidationError) as raised:
            services.account_transition(actor=self.alice, account=account, to_state="active")
        self.assertIn("officeholder_title", raised.exception.message_dict)

    def test_the_lifecycle_runs_from_proposed_to_closed_and_records_the_closing_date(self) -> None:
        for state in ["active", "closing", "closed"]:
            services.account_transition(actor=self.alice, account=self.account_a, to_state=state)
        self.account_a.refresh_from_db()
        self.assertEqual(self.account_a.state, "closed")
        self.assertIsNotNone(self.account_a.closed_on)

    def test_a_closed_account_cannot_be_reopened(self) -> None:
        for state in ["active", "closing", "closed"]:
            services.account_transition(actor=self.alice, account=self.account_a, to_state=state)
        with self.assertRaisesMessage(
            ValidationError, "An account cannot go from Closed to Active."
        ):
            services.account_transition(actor=self.alice, account=self.account_a, to_state="active")

    def test_an_active_account_cannot_lose_a_register_field(self) -> None:
        services.account_transition(actor=self.alice, account=self.account_a, to_state="active")
        with self.assertRaises(ValidationError):
            services.account_update(actor=self.alice, account=self.account_a, purpose="")
        self.account_a.refresh_from_db()
        self.assertEqual(self.account_a.purpose, "News and answers")

    def test_every_change_to_an_account_is_in_the_audit_log(self) -> None:
        services.account_update(
            actor=self.alice, account=self.account_a, purpose="Boktips", moderators=[self.vera]
        )
        services.account_transition(actor=self.alice, account=self.account_a, to_state="active")
        events = AuditEvent.objects.filter(
            target_type="channels.account", target_id=str(self.account_a.pk)
        )
        update = events.get(action="update")
        self.assertEqual(update.changes["purpose"], ["News and answers", "Boktips"])
        self.assertEqual(update.changes["moderators"], [["Alice"], ["Vera"]])
        self.assertEqual(update.actor, self.alice)
        self.assertEqual(events.get(action="transition").changes, {"state": ["proposed", "active"]})
        self.assertTrue(events.filter(action="create").exists())

    def test_a_handle_is_registered_once_per_platform(self) -> None:
        with self.assertRaises(ValidationError):
            make_account(self.unit_b, self.policy, [self.bob], handle=self.account_a.handle)


class CommentPolicyTests(NarvaroTestCase):
    def test_a_publication_date_once_set_is_final(self) -> None:
        version = self.policy.versions.get(number=1)
        with self.assertRaisesMessage(ValidationError, "This version was already published."):
            services.policy_version_publish(actor=self.adam, version=version)

    def test_editing_a_policy_adds_a_version_and_leaves_the_old_text(self) -> None:
        services.policy_version_add(
            actor=self.adam, policy=self.policy, text="Ny text", change_note="Kortare"
        )
        texts = list(self.policy.versions.order_by("number").values_list("number", "text"))
        self.assertEqual(texts, [(1, "Var schysst."), (2, "Ny text")])
