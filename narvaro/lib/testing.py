"""The named cast every test starts from, encoding Narvaro's permission model.

The organisation (a small municipality):

    kommunledning
    ├── kultur            ← unit A
    │   └── bibliotek
    └── gata-park         ← unit B

The people:

- alice, manager of kultur (unit A): manages kultur and bibliotek
- vera, viewer of kultur (unit A): sees kultur and bibliotek, changes nothing
- bob, publisher of gata-park (unit B): sees only gata-park
- rita, registrar: sees every unit, changes no unit
- adam, admin: does everything (with a verified second factor)
- oscar, an outsider with no role anywhere
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from typing import Any

from django.test import Client, TestCase, override_settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from narvaro.channels import services as channel_services
from narvaro.channels.models import Account, CommentPolicy
from narvaro.core import services as core_services
from narvaro.core.models import User
from narvaro.organisation import services as org_services
from narvaro.organisation.models import Membership, Unit

PASSWORD = "correct horse battery staple"


def make_person(username: str, org_role: str = "", **extra: Any) -> User:
    return core_services.user_create(
        actor=None,
        username=username,
        first_name=username.capitalize(),
        email=f"{username}@example.org",
        org_role=org_role,
        password=PASSWORD,
        **extra,
    )


def make_unit(slug: str, parent: Unit | None = None, **extra: Any) -> Unit:
    return org_services.unit_create(
        actor=None, slug=slug, name=extra.pop("name", slug.capitalize()), parent=parent, **extra
    )


def make_policy(name: str = "Kommentarspolicy", *, published: bool = True) -> CommentPolicy:
    policy = channel_services.policy_create(actor=None, name=name, text="Var schysst.")
    if published:
        channel_services.policy_version_publish(actor=None, version=policy.versions.get())
    return policy


def complete_account_fields(
    unit: Unit, policy: CommentPolicy, people: list[User], **overrides: Any
) -> dict[str, Any]:
    """Every register field an active account needs (R1, R6)."""
    fields: dict[str, Any] = {
        "unit": unit,
        "platform": "mastodon",
        "handle": f"@{unit.slug}@social.example",
        "display_name": unit.name,
        "profile_url": f"https://social.example/@{unit.slug}",
        "purpose": "News and answers",
        "audience": "Residents",
        "opened_on": dt.date(2024, 1, 15),
        "retention_decision_ref": "KS 2024/1",
        "dpia_ref": "KS 2024/2",
        "comment_policy_version": policy.versions.order_by("-number").first(),
        "responsible": people,
        "moderators": people,
    }
    fields.update(overrides)
    return fields


def make_account(
    unit: Unit, policy: CommentPolicy, people: list[User], **overrides: Any
) -> Account:
    return channel_services.account_create(
        actor=None, **complete_account_fields(unit, policy, people, **overrides)
    )


class NarvaroTestCase(TestCase):
    """Base test case: the cast above, created once per test class."""

    root: Unit
    unit_a: Unit
    unit_a_child: Unit
    unit_b: Unit
    alice: User
    vera: User
    bob: User
    rita: User
    adam: User
    oscar: User
    policy: CommentPolicy
    account_a: Account
    account_b: Account

    @classmethod
    def setUpTestData(cls) -> None:
        cls.root = make_unit("kommunledning", name="Kommunledningen")
        cls.unit_a = make_unit("kultur", cls.root, name="Kultur")
        cls.unit_a_child = make_unit("bibliotek", cls.unit_a, name="Biblioteket")
        cls.unit_b = make_unit("gata-park", cls.root, name="Gata och park")
        cls.alice = make_person("alice")
        cls.vera = make_person("vera")
        cls.bob = make_person("bob")
        cls.rita = make_person("rita", org_role=User.OrgRole.REGISTRAR)
        cls.adam = make_person("adam", org_role=User.OrgRole.ADMIN)
        cls.oscar = make_person("oscar")
        for person, unit, role in [
            (cls.alice, cls.unit_a, Membership.Role.MANAGER),
            (cls.vera, cls.unit_a, Membership.Role.VIEWER),
            (cls.bob, cls.unit_b, Membership.Role.PUBLISHER),
        ]:
            org_services.membership_grant(actor=None, unit=unit, user=person, role=role)
        cls.policy = make_policy()
        cls.account_a = make_account(cls.unit_a_child, cls.policy, [cls.alice])
        cls.account_b = make_account(cls.unit_b, cls.policy, [cls.bob])

    def setUp(self) -> None:
        super().setUp()
        # Each test gets its own media folder: stored files are not rolled back with the
        # database, and a test that tampers with one must not break the next.
        media_root = tempfile.mkdtemp(prefix="narvaro-media-")
        self.addCleanup(shutil.rmtree, media_root, ignore_errors=True)
        self.enterContext(override_settings(MEDIA_ROOT=media_root))

    def client_for(self, user: User | None) -> Client:
        """A client signed in as `user` (with a verified second factor where required)."""
        client = Client()
        if user is None:
            return client
        client.force_login(user)
        if user.requires_two_factor:
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            if device is None:
                device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        return client
