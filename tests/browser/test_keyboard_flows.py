"""The main flows work with the keyboard alone: sign in, create a unit, add an account, activate it.

No mouse clicks: the tests press Tab, type and press Enter, Space or the arrow keys, as a
person without a mouse would. They run in Swedish, the production language. Along the way they
check that the element with focus shows a visible focus indicator.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page

from narvaro.channels.models import Account
from narvaro.core.models import User
from narvaro.lib.testing import PASSWORD, make_person
from narvaro.organisation.models import Unit
from tests.browser.support import (
    Cast,
    assert_focus_visible,
    choose_option,
    focused,
    fresh_totp_code,
    tab_to,
)

LANGUAGE = "sv"


# The browser's own locale: its date fields take month, day and year.
BROWSER_LOCALE = "en-US"


def keyboard_sign_in(page: Page, username: str, device: TOTPDevice | None = None) -> None:
    page.goto("/sign-in/")
    # The username field has autofocus, so the person can type at once.
    assert focused(page)["name"] == "username"
    assert_focus_visible(page)
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "password"
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    if device is not None:
        assert "/two-factor/verify/" in page.url
        # The code field has autofocus, so the person can type at once.
        assert focused(page)["name"] == "token"
        page.keyboard.type(fresh_totp_code(device))
        with page.expect_navigation():
            page.keyboard.press("Enter")
    assert page.url.endswith("/"), f"{username} did not reach the overview: {page.url}"


def follow_link(page: Page, selector: str) -> None:
    """Tab to a link or button and press Enter on it."""
    tab_to(page, selector)
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def type_into(page: Page, name: str, text: str) -> None:
    tab_to(page, f"main [name={name}]")
    page.keyboard.type(text)


def select_with_keys(page: Page, name: str, value: str) -> None:
    tab_to(page, f"main select[name={name}]")
    choose_option(page, value)


def type_date(page: Page, name: str, date: dt.date) -> None:
    """Fill a date field segment by segment (en-US order: month, day, year)."""
    tab_to(page, f"main input[name={name}]")
    page.keyboard.type(f"{date:%m%d%Y}")
    assert page.evaluate("document.activeElement.value") == date.isoformat()


def assert_skip_link_comes_first(page: Page) -> None:
    page.keyboard.press("Tab")
    skip = focused(page)
    assert skip["tag"] == "a", f"the first tab stop is {skip}, not the skip link"
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    # Designsystemet's skip link is hidden until it has focus; then it is shown in full.
    assert skip["width"] > 50 and skip["height"] > 10, (
        f"the skip link is not shown on focus: {skip}"
    )
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")
    assert_focus_visible(page)


@pytest.mark.browser
@pytest.mark.django_db
def test_the_skip_link_is_the_first_tab_stop_and_leads_to_the_main_content(
    page: Page, cast: Cast
) -> None:
    page.goto("/accessibility/")
    assert_skip_link_comes_first(page)
    keyboard_sign_in(page, "alice")
    assert_skip_link_comes_first(page)


@pytest.mark.browser
@pytest.mark.django_db
def test_sign_in_with_the_keyboard(page: Page, cast: Cast) -> None:
    keyboard_sign_in(page, "alice")
    assert page.locator("h1").inner_text().endswith("Alice")


@pytest.mark.browser
@pytest.mark.django_db
def test_sign_in_with_a_second_factor_with_the_keyboard(page: Page, cast: Cast) -> None:
    # A person of their own: the cast's admin has used this period's code already.
    tove = make_person("tove", org_role=User.OrgRole.ADMIN)
    device = TOTPDevice.objects.create(user=tove, name="test", confirmed=True)
    keyboard_sign_in(page, "tove", device)
    assert page.locator("h1").inner_text().endswith("Tove")


@pytest.mark.browser
@pytest.mark.django_db
def test_a_manager_creates_a_unit_with_the_keyboard(page: Page, cast: Cast) -> None:
    kultur = cast.units["kultur"]
    keyboard_sign_in(page, "alice")
    follow_link(page, "nav a[href='/units/']")
    follow_link(page, "main a[href='/units/new/']")

    type_into(page, "name", "Konsthallen")
    assert_focus_visible(page)
    type_into(page, "slug", "konsthallen")
    select_with_keys(page, "parent", str(kultur.pk))
    assert_focus_visible(page)
    type_into(page, "description", "Utställningar och visningar.")
    type_into(page, "audience", "Besökare och skolor.")
    type_into(page, "voice", "Nyfiken och varm.")
    type_into(page, "contact_email", "konsthallen@example.org")
    follow_link(page, "main form button[type=submit]")

    unit = Unit.objects.get(slug="konsthallen")
    assert unit.parent == kultur
    assert unit.contact_email == "konsthallen@example.org"
    assert page.url.endswith(unit.get_absolute_url())
    assert page.locator("h1").inner_text() == "Konsthallen"


@pytest.mark.browser
@pytest.mark.django_db
def test_a_manager_adds_an_account_and_activates_it_with_the_keyboard(
    page: Page, cast: Cast
) -> None:
    kultur = cast.units["kultur"]
    alice, vera = cast.people["alice"], cast.people["vera"]
    version = cast.policies["organisation"].versions.get(number=1)
    keyboard_sign_in(page, "alice")
    follow_link(page, "nav a[href='/accounts/']")
    follow_link(page, "main a[href='/accounts/new/']")

    select_with_keys(page, "unit", str(kultur.pk))
    select_with_keys(page, "platform", "bluesky")
    type_into(page, "handle", "kulturchefen.bsky.example")
    type_into(page, "display_name", "Kulturchefen")
    type_into(page, "profile_url", "https://bsky.example/profile/kulturchefen")
    # The radio group is one tab stop; the arrow keys choose within it.
    tab_to(page, "main input[name=kind]:checked")
    assert_focus_visible(page)
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.value") == Account.Kind.ROLE
    type_into(page, "officeholder_title", "Kulturchef")
    type_into(page, "purpose", "Nyheter från kulturförvaltningen.")
    type_into(page, "audience", "Kommunens invånare.")
    for field, person in [("responsible", alice), ("responsible", vera), ("moderators", alice)]:
        tab_to(page, f"main input[name={field}][value='{person.pk}']")
        page.keyboard.press("Space")
        assert_focus_visible(page)
    type_date(page, "opened_on", dt.date(2024, 3, 1))
    type_into(page, "retention_decision_ref", "KS 2024/113")
    type_into(page, "dpia_ref", "DS 2024/7")
    select_with_keys(page, "comment_policy_version", str(version.pk))
    select_with_keys(page, "verification", Account.Verification.VERIFIED)
    follow_link(page, "main form button[type=submit]")

    account = Account.objects.get(platform="bluesky", handle="kulturchefen.bsky.example")
    assert page.url.endswith(account.get_absolute_url())
    assert account.state == Account.State.PROPOSED
    assert set(account.responsible.all()) == {alice, vera}
    assert list(account.moderators.all()) == [alice]
    assert account.opened_on == dt.date(2024, 3, 1)
    assert account.kind == Account.Kind.ROLE
    assert account.comment_policy_version == version

    follow_link(page, f"main form[action$='/state/{Account.State.ACTIVE}/'] button")
    account.refresh_from_db()
    assert account.state == Account.State.ACTIVE
    with translation.override(LANGUAGE):
        state_label = str(Account.State.ACTIVE.label)
    assert state_label in page.locator("main").inner_text()
    # The next step in the lifecycle is offered, and reachable, from the keyboard too.
    tab_to(page, f"main form[action$='/state/{Account.State.CLOSING}/'] button")


@pytest.mark.browser
@pytest.mark.django_db
def test_the_language_switch_works_with_the_keyboard(page: Page, cast: Cast) -> None:
    page.goto("/accessibility/")
    assert page.locator("html").get_attribute("lang") == "sv"
    follow_link(page, "form.language-switch button[value=en]")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.url.endswith("/accessibility/")
    follow_link(page, "form.language-switch button[value=sv]")
    assert page.locator("html").get_attribute("lang") == "sv"
