"""`narvaro demo --load-only`: the demo municipality, loaded once however often it runs."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.test import TestCase

from narvaro.channels.models import Account
from narvaro.core.demo import DEMO_PASSWORD, demo_load
from narvaro.core.models import AuditEvent, User
from narvaro.organisation.models import Membership, Unit


class DemoTests(TestCase):
    def test_the_demo_has_units_accounts_and_one_person_per_role(self) -> None:
        logins = demo_load()
        self.assertEqual(Unit.objects.count(), 8)
        self.assertEqual(Account.objects.count(), 22)
        platforms = set(Account.objects.values_list("platform", flat=True))
        self.assertEqual(platforms, {"mastodon", "bluesky", "x", "facebook", "instagram"})
        self.assertEqual(
            set(Membership.objects.values_list("role", flat=True)), set(Membership.Role.values)
        )
        self.assertEqual(
            set(User.objects.exclude(org_role="").values_list("org_role", flat=True)),
            {"admin", "registrar"},
        )
        for login in logins:
            self.assertTrue(User.objects.get(username=login.username).check_password(DEMO_PASSWORD))
        admin = next(login for login in logins if login.username == "admin")
        self.assertEqual(len(admin.totp_secret), 32)
        self.assertEqual(len(admin.backup_codes), 5)

    def test_active_demo_accounts_meet_the_register_requirements(self) -> None:
        from narvaro.channels.lifecycle import activation_problems

        demo_load()
        for account in Account.objects.filter(state="active"):
            self.assertEqual(activation_problems(account), {}, account)

    def test_running_it_again_duplicates_nothing(self) -> None:
        demo_load()
        counts = (
            Unit.objects.count(),
            Account.objects.count(),
            User.objects.count(),
            Membership.objects.count(),
        )
        events = AuditEvent.objects.count()
        out = io.StringIO()
        call_command("demo", "--load-only", stdout=out)
        self.assertEqual(
            (
                Unit.objects.count(),
                Account.objects.count(),
                User.objects.count(),
                Membership.objects.count(),
            ),
            counts,
        )
        self.assertEqual(AuditEvent.objects.count(), events)
        self.assertIn("narvaro-demo", out.getvalue())
        self.assertIn("http://127.0.0.1:8000/", out.getvalue())


class DemoRecordsTests(TestCase):
    def test_the_demo_inbox_has_conversations_from_the_archive_loaded_once(self) -> None:
        from narvaro.archive.models import Item
        from narvaro.inbox.models import Conversation, SavedReply, Status

        demo_load()
        self.assertEqual(Item.objects.count(), 11)
        by_sender = {c.author_handle: c for c in Conversation.objects.select_related("unit")}
        self.assertEqual(
            set(by_sender),
            {
                "@karin@social.example",
                "@omar@social.example",
                "@lisa@social.example",
                "@per@social.example",
                "@maria@social.example",
                "@anders@social.example",
                "@eva@social.example",
                "@jonas@social.example",
            },
        )
        self.assertEqual(by_sender["@omar@social.example"].status, Status.ANSWERED)
        self.assertEqual(by_sender["@karin@social.example"].unit.slug, "bibliotek")
        self.assertEqual(by_sender["@anders@social.example"].unit.slug, "gata-park")
        self.assertTrue(by_sender["@maria@social.example"].restricted)  # a personnummer (R33)
        self.assertTrue(SavedReply.objects.filter(unit__slug="bibliotek").exists())
        demo_load()
        self.assertEqual(Item.objects.count(), 11)
        self.assertEqual(Conversation.objects.count(), 8)
