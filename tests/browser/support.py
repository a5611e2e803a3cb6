"""Helpers for the browser checks: the cast, signing in, running axe-core, reading focus."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, BrowserContext, Page

from narvaro.channels import services as channel_services
from narvaro.channels.models import Account, CommentPolicy
from narvaro.core.models import User
from narvaro.lib.testing import PASSWORD, make_account, make_person, make_policy, make_unit
from narvaro.organisation import services as org_services
from narvaro.organisation.models import Membership, Unit

REPO_DIR = Path(__file__).resolve().parents[2]
AXE_SCRIPT = REPO_DIR / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("NARVARO_CHROMIUM", "/usr/bin/chromium")
# Without the networking flags Chromium keeps retrying refused connections on a machine
# without internet, and pages hang.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LANGUAGES = ["sv", "en"]
# WCAG 2.1 level A and AA. axe's best-practice rules are advice, not the requirement.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Role → the person of the cast who holds it. `anonymous` is nobody signed in.
ROLE_PEOPLE = {
    "viewer": "vera",
    "responder": "ruth",
    "publisher": "bob",
    "moderator": "max",
    "approver": "agnes",
    "manager": "alice",
    "registrar": "rita",
    "admin": "adam",
}
ROLES = ["anonymous", *ROLE_PEOPLE]


@dataclass
class Cast:
    """The objects the browser checks point at (see `build_cast`)."""

    units: dict[str, Unit]
    people: dict[str, User]
    accounts: dict[str, Account]
    policies: dict[str, CommentPolicy]
    memberships: dict[str, Membership]
    devices: dict[str, TOTPDevice]

    def home_unit(self, role: str) -> Unit:
        """The unit a role's pages are about: bob's is gata-park, everyone else's kultur."""
        return self.units["gata-park" if role == "publisher" else "kultur"]

    def home_account(self, role: str) -> Account:
        return self.accounts["gata-park" if role == "publisher" else "kultur"]

    def home_membership(self, role: str) -> Membership:
        """A membership in the home unit that is not the role's own (bob's unit has only his)."""
        return self.memberships["bob" if role == "publisher" else "vera"]


def build_cast() -> Cast:
    """The named cast of narvaro.lib.testing, plus one person for each remaining unit role.

        kommunledning
        ├── kultur            alice manager, vera viewer, ruth responder,
        │   └── bibliotek     max moderator, agnes approver
        └── gata-park         bob publisher

    rita is registrar and adam admin, both with a confirmed authenticator app; oscar has no
    role. kultur has its own comment policy with a published version 1 and a draft version 2.
    Accounts: a complete proposed one in kultur and in gata-park, an incomplete proposed one in
    kultur and an active one in bibliotek.
    """
    root = make_unit("kommunledning", name="Kommunledningen")
    kultur = make_unit("kultur", root, name="Kultur")
    bibliotek = make_unit("bibliotek", kultur, name="Biblioteket")
    gata = make_unit("gata-park", root, name="Gata och park")
    people = {
        name: make_person(name)
        for name in ("alice", "vera", "ruth", "max", "agnes", "bob", "oscar")
    }
    people["rita"] = make_person("rita", org_role=User.OrgRole.REGISTRAR)
    people["adam"] = make_person("adam", org_role=User.OrgRole.ADMIN)
    memberships = {
        username: org_services.membership_grant(
            actor=None, unit=unit, user=people[username], role=role
        )
        for username, unit, role in [
            ("alice", kultur, Membership.Role.MANAGER),
            ("vera", kultur, Membership.Role.VIEWER),
            ("ruth", kultur, Membership.Role.RESPONDER),
            ("max", kultur, Membership.Role.MODERATOR),
            ("agnes", kultur, Membership.Role.APPROVER),
            ("bob", gata, Membership.Role.PUBLISHER),
        ]
    }
    devices = {
        username: TOTPDevice.objects.create(user=people[username], name="test", confirmed=True)
        for username in ("rita", "adam")
    }
    organisation_policy = make_policy()
    kultur_policy = channel_services.policy_create(
        actor=None, name="Kulturens kommentarspolicy", text="Håll god ton.", unit=kultur
    )
    channel_services.policy_version_publish(actor=None, version=kultur_policy.versions.get())
    channel_services.policy_version_add(
        actor=None,
        policy=kultur_policy,
        text="Håll god ton. Inga personangrepp.",
        change_note="Skärpt",
    )
    accounts = {
        "kultur": make_account(kultur, organisation_policy, [people["alice"]]),
        "gata-park": make_account(gata, organisation_policy, [people["bob"]]),
        "incomplete": channel_services.account_create(
            actor=None, unit=kultur, platform="instagram", handle="kultur_sthlm"
        ),
        "active": make_account(
            bibliotek,
            organisation_policy,
            [people["alice"], people["vera"]],
            opened_on=dt.date(2023, 5, 2),
        ),
    }
    channel_services.account_transition(
        actor=None, account=accounts["active"], to_state=Account.State.ACTIVE
    )
    return Cast(
        units={"kommunledning": root, "kultur": kultur, "bibliotek": bibliotek, "gata-park": gata},
        people=people,
        accounts=accounts,
        policies={"organisation": organisation_policy, "kultur": kultur_policy},
        memberships=memberships,
        devices=devices,
    )


def new_context(browser: Browser, base_url: str, *, locale: str = "sv-SE") -> BrowserContext:
    """A fresh browser profile with axe-core loaded into every page it opens.

    The app's Content Security Policy allows only its own scripts, so the context bypasses
    CSP to let the test inject axe; the app is served unchanged.
    """
    context = browser.new_context(base_url=base_url, bypass_csp=True, locale=locale)
    context.set_default_timeout(15_000)
    context.add_init_script(path=str(AXE_SCRIPT))
    return context


def set_language(context: BrowserContext, base_url: str, language: str) -> None:
    """Choose the interface language as the language switch does: with Django's cookie."""
    context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the person's authenticator app shows now (or `steps_ahead` steps later)."""
    code = totp(
        device.bin_key,
        step=device.step,
        t0=device.t0,
        digits=device.digits,
        drift=device.drift + steps_ahead,
    )
    return str(code).zfill(device.digits)


def fresh_totp_code(device: TOTPDevice) -> str:
    """A current code that has not been used yet: a code works only once, so maybe wait."""
    device.refresh_from_db()
    while device.last_t >= (int(time.time()) - device.t0) // device.step + device.drift:
        time.sleep(0.5)
    return totp_code(device)


def sign_in(page: Page, username: str, device: TOTPDevice | None = None) -> None:
    """Sign in through the real pages: the password form, then the two-factor code if asked."""
    page.goto("/sign-in/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "/sign-in/" not in page.url, f"{username} could not sign in"
    if device is not None:
        assert "/two-factor/verify/" in page.url, f"{username} was not asked for a code: {page.url}"
        page.fill("input[name=token]", fresh_totp_code(device))
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        assert "/two-factor/" not in page.url, f"{username}'s two-factor code was refused"


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now, for WCAG 2.1 A and AA."""
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    return page.evaluate(f"axe.run(document, {json.dumps(options)})")["violations"]


def format_violations(violations: list[dict[str, Any]]) -> str:
    """One block per rule: id, impact, help text and the offending elements."""
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"][:10]:
            lines.append(f"    at {' '.join(map(str, node['target']))}")
            lines.append(f"       {node['html'][:200]}")
            if node.get("failureSummary"):
                lines.append(f"       {node['failureSummary'].replace(chr(10), ' / ')[:300]}")
        if len(violation["nodes"]) > 10:
            lines.append(f"    … and {len(violation['nodes']) - 10} more elements")
    return "\n".join(lines)


def reset_link_path(user: User) -> str:
    """The path of a valid password-reset link for `user`, as the e-mail would carry it."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"/password/reset/{uid}/{default_token_generator.make_token(user)}/"


# Keyboard helpers. They only press keys; they read the page to know where focus is.

FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    name: el.getAttribute("name") || "",
    text: (el.innerText || el.value || "").trim().slice(0, 60),
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth) || 0,
    boxShadow: style.boxShadow,
    focusVisible: el.matches(":focus-visible"),
    width: box.width,
    height: box.height,
  };
}"""


def focused(page: Page) -> dict[str, Any]:
    """What has keyboard focus now, and how it is drawn."""
    return page.evaluate(FOCUSED)


def tab_to(page: Page, selector: str, *, limit: int = 80) -> dict[str, Any]:
    """Press Tab until the element matching `selector` has focus (at most `limit` times)."""
    visited = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return focused(page)
        now = focused(page)
        visited.append(now["id"] or now["name"] or f"{now['tag']} {now['text']!r}")
    raise AssertionError(f"Tab never reached {selector} on {page.url}; visited: {visited}")


def assert_focus_visible(page: Page) -> None:
    """The focused element has a visible focus indicator: an outline or a focus ring shadow."""
    now = focused(page)
    has_outline = now["outlineStyle"] != "none" and now["outlineWidth"] > 0
    has_ring = now["boxShadow"] not in ("none", "")
    assert now["focusVisible"], f"{now} does not match :focus-visible"
    assert has_outline or has_ring, f"no visible focus indicator on {now}"


def choose_option(page: Page, value: str, *, limit: int = 40) -> None:
    """In the focused <select>, move with the arrow keys to the option with `value`."""
    page.keyboard.press("Home")
    for _ in range(limit):
        if page.evaluate("document.activeElement.value") == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"no option {value!r} in {focused(page)}")
