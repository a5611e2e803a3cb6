"""Every URL pattern, requested as each kind of person, answers the status the access model says.

A new URL pattern without a row here fails `test_every_url_pattern_is_in_the_matrix`, so no
page can be added without deciding who may see it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from narvaro.archive.models import Item
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture, an_image
from narvaro.lib.testing import NarvaroTestCase
from narvaro.organisation.models import Membership

ROLES = ["anonymous", "vera", "bob", "rita", "adam"]
# anonymous; vera = viewer of unit A; bob = publisher of unit B; rita = registrar; adam = admin

SIGNED_IN = {"anonymous": 302, "vera": 200, "bob": 200, "rita": 200, "adam": 200}
ADMIN_ONLY = {"anonymous": 302, "vera": 403, "bob": 403, "rita": 403, "adam": 200}
EVERYONE = dict.fromkeys(ROLES, 200)
# An object of unit A: vera sees it, bob does not know it exists, rita reads it, adam runs it.
UNIT_A_READ = {"anonymous": 302, "vera": 200, "bob": 404, "rita": 200, "adam": 200}
UNIT_A_WRITE = {"anonymous": 302, "vera": 403, "bob": 404, "rita": 403, "adam": 200}
# Unit B's own objects, from bob's side: he reads but does not manage them.
UNIT_B_WRITE = {"anonymous": 302, "vera": 404, "bob": 403, "rita": 403, "adam": 200}
# Records management (retention, holds, erasure, registry): registrars and admins only.
RECORDS_OFFICERS = {"anonymous": 302, "vera": 403, "bob": 403, "rita": 200, "adam": 200}
RECORDS_OFFICERS_POST = {"anonymous": 302, "vera": 403, "bob": 403, "rita": 405, "adam": 405}
# A request for public records: it does not exist for those who do not handle requests.
REQUEST_READ = {"anonymous": 302, "vera": 404, "bob": 404, "rita": 200, "adam": 200}
POST_ONLY = {"anonymous": 302, "vera": 405, "bob": 405, "rita": 405, "adam": 405}
# The radar: a section for those who moderate or manage a unit; unit A's alerts and items exist
# only for unit A's moderators and managers (and admins).
RADAR_SECTION = {"anonymous": 302, "vera": 403, "bob": 403, "rita": 403, "adam": 200}
RADAR_A = {"anonymous": 302, "vera": 404, "bob": 404, "rita": 404, "adam": 200}
# Moderation of unit A: vera views the unit but does not moderate; rita reads every log.
MODERATION_READ = {"anonymous": 302, "vera": 403, "bob": 404, "rita": 200, "adam": 200}


def retention_kwargs(case: NarvaroTestCase, item: Item) -> dict[str, dict[str, Any]]:
    """A rule with a dry run, a hold, an erasure request and a secret registry entry."""
    from narvaro.retention import services as retention

    rule = retention.rule_create(
        actor=None,
        name="r",
        record_class="minor_comments",
        decision_reference="KS 1",
        period_days=1,
    )
    run = retention.disposal_run_create(actor=None, rule=rule)
    hold = retention.hold_place(actor=None, scope="account", account=case.account_b, reason="x")
    erasure = retention.erasure_request_record(actor=None, scope="My comment")
    entry = retention.registry_flag(
        actor=None,
        item=item,
        kind="case",
        received_on=item.first_seen_at.date(),
        sender="Anna",
        description="Question",
    )
    return {
        "rule": {"pk": rule.pk},
        "run": {"pk": run.pk},
        "hold": {"pk": hold.pk},
        "erasure": {"pk": erasure.pk},
        "registry_entry": {"pk": entry.pk},
        "flag_a": {"pk": item.pk, "kind": "secret"},
    }


def disclosure_kwargs(case: NarvaroTestCase, item: Item) -> dict[str, dict[str, Any]]:
    """A request for public records holding `item`, with a masked passage and a delivery."""
    from narvaro.disclosure import services as disclosure

    records_request = disclosure.request_create(
        actor=case.rita, channel="email", scope="x", delivery_route="collect"
    )
    disclosure.request_items_add(actor=case.rita, records_request=records_request, items=[item])
    request_item = records_request.items.get()
    (redaction,) = disclosure.redaction_add(
        actor=case.rita,
        request_item=request_item,
        version=item.versions.get(),
        text="biblioteket",
        legal_ground="OSL 21 kap. 7 §",
    )
    disclosure.request_item_decide(
        actor=case.rita,
        request_item=request_item,
        decision="partly",
        legal_ground="OSL 21 kap. 7 §",
    )
    delivery = disclosure.delivery_create(actor=case.rita, records_request=records_request)
    disclosure.delivery_render(delivery_id=delivery.pk)  # the worker's task
    pk = records_request.pk
    return {
        "request": {"pk": pk},
        "request_item": {"pk": pk, "item_pk": item.pk},
        "redaction": {"pk": pk, "redaction_pk": redaction.pk},
        "delivery_file": {"pk": pk, "number": 1, "kind": "printout"},
        "delivery": {"pk": pk, "number": 1},
    }


def package_kwargs(case: NarvaroTestCase) -> dict[str, dict[str, Any]]:
    from narvaro.packages.services import package_export_to_storage

    export, _ = package_export_to_storage(actor=None, kind="bagit", account=case.account_a)
    return {"package": {"pk": export.pk}}


def moderation_kwargs(case: NarvaroTestCase) -> dict[str, dict[str, Any]]:
    """A threat on account A, hidden by adam (by hand): a decision and its escalation."""
    from narvaro.moderation.services import moderation_act

    capture_batch(account=case.account_a, captures=[a_capture("matrix-m")], source="test")
    action = moderation_act(
        actor=case.adam,
        item=Item.objects.get(remote_id="matrix-m"),
        action="hide",
        reason="threat",
        reason_text="Hot",
        by_hand=True,
    )
    return {"moderation_action": {"pk": action.pk}, "escalation": {"pk": action.escalation.pk}}


def radar_kwargs(case: NarvaroTestCase, item: Item) -> dict[str, dict[str, Any]]:
    """A radar alert on unit A's account, with `item`."""
    from django.utils import timezone

    from narvaro.radar.models import Alert

    now = timezone.now()
    alert = Alert.objects.create(
        scope="account", account=case.account_a, unit=case.account_a.unit, window_start=now,
        window_end=now, observed=20, expected=2.0, volume_p=1e-6, critique_observed=15,
        critique_expected_share=0.1, critique_p=1e-9, critique_spike=True,
    )  # fmt: skip
    alert.items.add(item)
    return {"alert_a": {"pk": alert.pk}}


def organisation_kwargs(case: NarvaroTestCase) -> dict[str, dict[str, Any]]:
    """A dated exception to the business hours and a roster line in each unit (R14)."""
    import datetime as dt

    from narvaro.organisation import services as organisation

    day = organisation.calendar_day_set(actor=None, date=dt.date(2026, 12, 23), kind="closed")
    duty_a = organisation.duty_assign(
        actor=None, unit=case.unit_a, user=case.alice, dates=[dt.date(2026, 12, 21)]
    )[0]
    duty_b = organisation.duty_assign(
        actor=None, unit=case.unit_b, user=case.bob, dates=[dt.date(2026, 12, 21)]
    )[0]
    return {
        "calendar_day": {"pk": day.pk},
        "duty_a": {"pk": duty_a.pk},
        "duty_b": {"pk": duty_b.pk},
    }


def inbox_kwargs(case: NarvaroTestCase, item: Item) -> dict[str, dict[str, Any]]:
    """The conversation `item` (unit A's inbound comment) opens, a saved reply, a routing rule."""
    from narvaro.inbox.derive import conversations_derive
    from narvaro.inbox.models import Conversation, RoutingRule, SavedReply

    conversations_derive()
    conversation = Conversation.objects.get(root_item=item)
    saved = SavedReply.objects.create(unit=case.unit_a, title="Öppettider", body="Hej {name}!")
    rule = RoutingRule.objects.create(name="r", keywords="plogning", target_unit=case.unit_b)
    return {
        "conversation_a": {"pk": conversation.pk},
        "conversation_saved_reply_a": {"pk": conversation.pk, "saved_pk": saved.pk},
        "saved_reply_a": {"pk": saved.pk},
        "routing_rule": {"pk": rule.pk},
    }


def url_kwargs(case: NarvaroTestCase) -> dict[str, dict[str, Any]]:
    m_a = Membership.objects.get(user=case.vera, unit=case.unit_a)
    m_b = Membership.objects.get(user=case.bob, unit=case.unit_b)
    capture_batch(
        account=case.account_a,
        captures=[a_capture("matrix-a", media=(an_image(),))],
        source="test",
    )
    item_a = Item.objects.get(remote_id="matrix-a")
    return {
        **organisation_kwargs(case),
        "unit_a": {"pk": case.unit_a.pk},
        "person": {"pk": case.oscar.pk},
        "unit_b": {"pk": case.unit_b.pk},
        "membership_a": {"pk": m_a.pk},
        "membership_b": {"pk": m_b.pk},
        "account_a": {"pk": case.account_a.pk},
        "account_b": {"pk": case.account_b.pk},
        "policy": {"pk": case.policy.pk},
        "policy_version": {"pk": case.policy.pk, "number": 1},
        "reset": {"uidb64": "MQ", "token": "set-password"},
        "csv": {"fmt": "csv"},
        "json": {"fmt": "json"},
        "item_a": {"pk": item_a.pk},
        **retention_kwargs(case, item_a),
        **disclosure_kwargs(case, item_a),
        "media_a": {"pk": item_a.pk, "number": 1, "position": 0},
        **package_kwargs(case),
        **moderation_kwargs(case),
        **radar_kwargs(case, item_a),
        "item_id_a": {"item_id": item_a.pk},
        **inbox_kwargs(case, item_a),
    }


# (url name, kwargs key or None, expected status per role). GET requests.
MATRIX: list[tuple[str, str | None, dict[str, int]]] = [
    ("core:overview", None, SIGNED_IN),
    ("core:login", None, {"anonymous": 200, "vera": 302, "bob": 302, "rita": 302, "adam": 302}),
    ("core:logout", None, dict.fromkeys(ROLES, 405)),
    ("core:password_reset", None, EVERYONE),
    ("core:password_reset_done", None, EVERYONE),
    ("core:password_reset_confirm", "reset", EVERYONE),
    ("core:password_reset_complete", None, EVERYONE),
    ("core:password_change", None, SIGNED_IN),
    ("core:two_factor_setup", None, SIGNED_IN),
    ("core:two_factor_verify", None, SIGNED_IN),
    # Only a session verified with a second factor; the others are sent to set one up.
    (
        "core:two_factor_backup_codes",
        None,
        {"anonymous": 302, "vera": 302, "bob": 302, "rita": 200, "adam": 200},
    ),
    ("core:set_language", None, dict.fromkeys(ROLES, 302)),
    ("core:audit_log", None, {"anonymous": 302, "vera": 403, "bob": 403, "rita": 200, "adam": 200}),
    ("core:person_list", None, ADMIN_ONLY),
    ("core:person_create", None, ADMIN_ONLY),
    ("core:person_edit", "person", ADMIN_ONLY),
    ("core:accessibility", None, EVERYONE),
    ("core:health", None, EVERYONE),
    ("organisation:unit_list", None, SIGNED_IN),
    ("organisation:unit_create", None, ADMIN_ONLY),
    ("organisation:unit_detail", "unit_a", UNIT_A_READ),
    ("organisation:unit_edit", "unit_a", UNIT_A_WRITE),
    ("organisation:membership_add", "unit_a", UNIT_A_WRITE),
    ("organisation:membership_edit", "membership_a", UNIT_A_WRITE),
    ("organisation:membership_revoke", "membership_a", UNIT_A_WRITE),
    ("organisation:membership_revoke", "membership_b", UNIT_B_WRITE),
    ("organisation:business_hours", None, SIGNED_IN),
    ("organisation:opening_hours_edit", None, ADMIN_ONLY),
    ("organisation:calendar_day_add", None, ADMIN_ONLY),
    ("organisation:calendar_day_remove", "calendar_day", ADMIN_ONLY),
    ("organisation:roster", "unit_a", UNIT_A_READ),
    ("organisation:duty_add", "unit_a", UNIT_A_WRITE),
    ("organisation:duty_remove", "duty_a", UNIT_A_WRITE),
    ("organisation:duty_remove", "duty_b", UNIT_B_WRITE),
    ("channels:account_list", None, SIGNED_IN),
    ("channels:account_create", None, ADMIN_ONLY),
    ("channels:account_export", "csv", SIGNED_IN),
    ("channels:account_export", "json", SIGNED_IN),
    ("channels:account_detail", "account_a", UNIT_A_READ),
    (
        "channels:account_detail",
        "account_b",
        {"anonymous": 302, "vera": 404, "bob": 200, "rita": 200, "adam": 200},
    ),
    ("channels:account_edit", "account_a", UNIT_A_WRITE),
    ("channels:account_capture", "account_a", UNIT_A_READ),
    ("channels:account_reconnect", "account_a", UNIT_A_WRITE),
    ("channels:account_oauth_start", "account_a", POST_ONLY),
    # Without a sign-in of one's own in the session, the instance's redirect back goes nowhere.
    ("channels:oauth_callback", None, dict.fromkeys(ROLES, 302)),
    ("channels:account_completeness", "account_a", UNIT_A_READ),
    ("channels:account_completeness_csv", "account_a", UNIT_A_READ),
    ("channels:account_edit", "account_b", UNIT_B_WRITE),
    ("channels:policy_list", None, SIGNED_IN),
    ("channels:policy_create", None, ADMIN_ONLY),
    ("channels:policy_detail", "policy", SIGNED_IN),
    ("channels:policy_version_create", "policy", ADMIN_ONLY),
    ("channels:policy_version_detail", "policy_version", SIGNED_IN),
    ("channels:policy_version_publish", "policy_version", ADMIN_ONLY),
    ("archive:record_list", None, SIGNED_IN),
    ("archive:record_export", None, SIGNED_IN),
    ("archive:record_detail", "item_a", UNIT_A_READ),
    ("archive:record_media", "media_a", UNIT_A_READ),
    # Archival packages: registrars and admins; an account's snapshots with the account.
    ("packages:export_list", None, RECORDS_OFFICERS),
    ("packages:export_download", "package", RECORDS_OFFICERS),
    ("packages:account_snapshots", "account_a", UNIT_A_READ),
    (
        "packages:account_snapshot_create",
        "account_a",
        {"anonymous": 302, "vera": 405, "bob": 405, "rita": 405, "adam": 405},
    ),
    ("retention:rule_list", None, RECORDS_OFFICERS),
    ("retention:rule_create", None, RECORDS_OFFICERS),
    ("retention:rule_detail", "rule", RECORDS_OFFICERS),
    ("retention:rule_deactivate", "rule", RECORDS_OFFICERS_POST),
    ("retention:run_create", "rule", RECORDS_OFFICERS_POST),
    ("retention:run_detail", "run", RECORDS_OFFICERS),
    ("retention:run_commit", "run", RECORDS_OFFICERS),
    ("retention:disposal_log", None, RECORDS_OFFICERS),
    ("retention:hold_list", None, RECORDS_OFFICERS),
    ("retention:hold_create", None, RECORDS_OFFICERS),
    ("retention:hold_release", "hold", RECORDS_OFFICERS),
    ("retention:erasure_list", None, RECORDS_OFFICERS),
    ("retention:erasure_create", None, RECORDS_OFFICERS),
    ("retention:erasure_detail", "erasure", RECORDS_OFFICERS),
    ("retention:erasure_decide", "erasure", RECORDS_OFFICERS),
    ("retention:registry_list", None, RECORDS_OFFICERS),
    ("retention:registry_export", None, RECORDS_OFFICERS),
    ("retention:registry_detail", "registry_entry", RECORDS_OFFICERS),
    ("retention:registry_lift", "registry_entry", RECORDS_OFFICERS),
    ("retention:registry_flag", "flag_a", RECORDS_OFFICERS),
    ("disclosure:request_list", None, RECORDS_OFFICERS),
    ("disclosure:request_create", None, RECORDS_OFFICERS),
    ("disclosure:request_detail", "request", REQUEST_READ),
    ("disclosure:request_compile", "request", REQUEST_READ),
    ("disclosure:request_compile_add", "request", POST_ONLY),
    ("disclosure:request_close", "request", POST_ONLY),
    ("disclosure:request_reassign", "request", POST_ONLY),
    ("disclosure:delivery_create", "request", POST_ONLY),
    ("disclosure:delivery_file", "delivery_file", REQUEST_READ),
    ("disclosure:delivery_status", "request", REQUEST_READ),
    ("disclosure:delivery_retry", "delivery", POST_ONLY),
    ("disclosure:request_item", "request_item", REQUEST_READ),
    ("disclosure:request_item_decide", "request_item", POST_ONLY),
    ("disclosure:request_item_remove", "request_item", POST_ONLY),
    ("disclosure:redaction_add", "request_item", POST_ONLY),
    ("disclosure:redaction_accept", "redaction", POST_ONLY),
    ("disclosure:redaction_reject", "redaction", POST_ONLY),
    # Moderation: moderators of the unit act; registrars read; escalations for managers.
    ("moderation:overview", None, SIGNED_IN),
    ("moderation:queue", "account_a", MODERATION_READ),
    ("moderation:queue_review", "account_a", POST_ONLY),
    ("moderation:log", "account_a", MODERATION_READ),
    ("moderation:item_moderate", "item_id_a", UNIT_A_WRITE),
    ("moderation:action_detail", "moderation_action", MODERATION_READ),
    ("moderation:action_rendering", "moderation_action", MODERATION_READ),
    ("moderation:escalation_list", None, RECORDS_OFFICERS),
    ("moderation:escalation_detail", "escalation", REQUEST_READ),
    ("moderation:escalation_bundle", "escalation", REQUEST_READ),
    ("moderation:escalation_close", "escalation", POST_ONLY),
    # The critique radar: the moderators and managers of a unit, and admins.
    ("radar:alert_list", None, RADAR_SECTION),
    ("radar:classifier", None, RADAR_SECTION),
    ("radar:classifier_train", None, POST_ONLY),
    ("radar:alert_detail", "alert_a", RADAR_A),
    ("radar:alert_acknowledge", "alert_a", POST_ONLY),
    ("radar:item_explain", "item_a", RADAR_A),
    ("radar:item_category", "item_a", POST_ONLY),
    # The inbox: conversations of the units one views, answered by those who respond there.
    ("inbox:inbox", None, SIGNED_IN),
    ("inbox:inbox_news", None, SIGNED_IN),
    ("inbox:inbox_bulk", None, POST_ONLY),
    ("inbox:response_times", None, SIGNED_IN),
    ("inbox:conversation_detail", "conversation_a", UNIT_A_READ),
    ("inbox:conversation_updates", "conversation_a", UNIT_A_READ),
    ("inbox:conversation_suggestions", "conversation_a", UNIT_A_WRITE),
    ("inbox:conversation_saved_reply", "conversation_saved_reply_a", UNIT_A_WRITE),
    ("inbox:conversation_reply", "conversation_a", POST_ONLY),
    ("inbox:conversation_assign", "conversation_a", POST_ONLY),
    ("inbox:conversation_assign_me", "conversation_a", POST_ONLY),
    ("inbox:conversation_move", "conversation_a", POST_ONLY),
    ("inbox:conversation_status", "conversation_a", POST_ONLY),
    ("inbox:conversation_answered", "conversation_a", POST_ONLY),
    ("inbox:conversation_category", "conversation_a", POST_ONLY),
    ("inbox:conversation_note", "conversation_a", POST_ONLY),
    ("inbox:conversation_register", "conversation_a", POST_ONLY),
    ("inbox:saved_reply_list", None, SIGNED_IN),
    ("inbox:saved_reply_create", None, ADMIN_ONLY),  # managers of a unit, none of the four
    ("inbox:saved_reply_edit", "saved_reply_a", UNIT_A_WRITE),
    ("inbox:routing_rule_list", None, ADMIN_ONLY),
    ("inbox:routing_rule_create", None, ADMIN_ONLY),
    ("inbox:routing_rule_edit", "routing_rule", ADMIN_ONLY),
    ("admin:index", None, {"anonymous": 302, "vera": 302, "bob": 302, "rita": 302, "adam": 200}),
]

# POST-only actions: (url name, kwargs, expected status per role).
POST_MATRIX: list[tuple[str, dict[str, Any], dict[str, int]]] = []


def _all_url_names(resolver: URLResolver | None = None, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            names |= _all_url_names(entry, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(prefix + entry.name)
    return names


class AccessMatrixTests(NarvaroTestCase):
    def test_every_url_pattern_is_in_the_matrix(self) -> None:
        covered = {name for name, _, _ in MATRIX} | {"channels:account_transition"}
        own = {name for name in _all_url_names() if not name.startswith("admin:")}
        self.assertEqual(own - covered, set(), "URL patterns without an access rule")

    def test_each_role_gets_the_expected_status_on_every_page(self) -> None:
        kwargs = url_kwargs(self)
        clients = {
            role: self.client_for(None if role == "anonymous" else getattr(self, role))
            for role in ROLES
        }
        failures = []
        for name, key, expected in MATRIX:
            url = reverse(name, kwargs=kwargs[key] if key else None)
            for role in ROLES:
                status = clients[role].get(url).status_code
                if status != expected[role]:
                    failures.append(
                        f"{role} GET {url} ({name}): {status}, expected {expected[role]}"
                    )
        self.assertEqual(failures, [])

    def test_state_changes_answer_404_to_those_who_cannot_see_the_account(self) -> None:
        url = reverse("channels:account_transition", args=[self.account_a.pk, "closing"])
        expected = {"anonymous": 302, "vera": 403, "bob": 404, "rita": 403}
        for role, status in expected.items():
            client = self.client_for(None if role == "anonymous" else getattr(self, role))
            self.assertEqual(client.post(url).status_code, status, role)
        self.account_a.refresh_from_db()
        self.assertEqual(self.account_a.state, "proposed")

    def test_a_get_cannot_change_an_account_state(self) -> None:
        url = reverse("channels:account_transition", args=[self.account_a.pk, "active"])
        self.assertEqual(self.client_for(self.adam).get(url).status_code, 405)

    def test_django_admin_model_pages_are_for_admins_only(self) -> None:
        for model in admin.site._registry:
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            self.assertEqual(self.client_for(self.adam).get(url).status_code, 200, url)
            self.assertEqual(self.client_for(self.rita).get(url).status_code, 302, url)

    def test_unknown_objects_answer_404_even_to_admins(self) -> None:
        client = self.client_for(self.adam)
        for name in [
            "organisation:unit_detail",
            "channels:account_detail",
            "channels:policy_detail",
            "archive:record_detail",
        ]:
            self.assertEqual(client.get(reverse(name, args=[999999])).status_code, 404, name)


class DjangoAdminTests(NarvaroTestCase):
    def test_domain_objects_cannot_be_changed_past_their_services_in_the_django_admin(self) -> None:
        client = self.client_for(self.adam)
        url = reverse("admin:channels_account_change", args=[self.account_a.pk])
        self.assertEqual(client.get(url).status_code, 200)  # viewing is fine
        response = client.post(url, {"state": "active", "handle": "@hijacked@x.example"})
        self.assertEqual(response.status_code, 403)
        self.account_a.refresh_from_db()
        self.assertEqual(self.account_a.state, "proposed")

    def test_making_someone_admin_in_the_django_admin_is_logged_and_sets_the_flags(self) -> None:
        from narvaro.core.models import AuditEvent

        client = self.client_for(self.adam)
        url = reverse("admin:core_user_change", args=[self.oscar.pk])
        data = {
            "username": "oscar",
            "first_name": "Oscar",
            "email": "oscar@example.org",
            "org_role": "admin",
            "is_active": "on",
            "date_joined_0": "2024-01-01",
            "date_joined_1": "10:00:00",
        }
        response = client.post(url, data)
        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        self.oscar.refresh_from_db()
        self.assertTrue(self.oscar.is_superuser and self.oscar.is_staff)
        self.assertTrue(
            AuditEvent.objects.filter(action="grant", target_id=str(self.oscar.pk)).exists()
        )

    def test_an_admin_cannot_demote_themselves_in_the_django_admin(self) -> None:
        client = self.client_for(self.adam)
        url = reverse("admin:core_user_change", args=[self.adam.pk])
        data = {
            "username": "adam",
            "first_name": "Adam",
            "email": "adam@example.org",
            "org_role": "",
            "is_active": "on",
            "date_joined_0": "2024-01-01",
            "date_joined_1": "10:00:00",
        }
        response = client.post(url, data)
        self.assertContains(response, "You cannot remove your own administrator role or access.")
        self.adam.refresh_from_db()
        self.assertEqual(self.adam.org_role, "admin")

    def test_a_password_set_in_the_django_admin_is_logged(self) -> None:
        from narvaro.core.models import AuditEvent

        client = self.client_for(self.adam)
        url = reverse("admin:auth_user_password_change", args=[self.oscar.pk])
        new = "a fresh long passphrase 42"
        response = client.post(url, {"password1": new, "password2": new, "usable_password": "true"})
        self.assertEqual(response.status_code, 302)
        self.assertTrue(
            AuditEvent.objects.filter(action="security", target_id=str(self.oscar.pk)).exists()
        )
