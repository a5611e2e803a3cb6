"""The inbox with the keyboard alone: move through the list, open, reply, close; shortcuts off.

alice (kultur's manager) works through kultur's inbox in Swedish. The one-key shortcuts
(j / k, r, a, c, u) are checked, and that they can be turned off (WCAG 2.1.4 Character Key
Shortcuts). The account's connection points at no real server, so the saved reply is put in
the reply box and the conversation is then closed with 'c' and marked answered another way,
rather than sent (sending is tested end to end against mastodon-mock in narvaro/inbox/tests).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from narvaro.inbox.models import Conversation, ConversationEvent, Status
from tests.browser import inbox_support
from tests.browser.support import (
    Cast,
    assert_focus_visible,
    focused,
    sign_in,
    tab_to,
)


def focused_href(page: Page) -> str:
    return page.evaluate("document.activeElement.getAttribute('href') || ''")


def shift_tab_to(page: Page, selector: str, *, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Shift+Tab never reached {selector}")


def press_and_wait(page: Page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


@pytest.mark.browser
@pytest.mark.django_db
def test_the_inbox_with_the_keyboard_alone(page: Page, cast: Cast) -> None:
    newest, late, _answered = inbox_support.home_conversations(cast, "manager")
    inbox_support.connected_conversation(cast, "manager")
    sign_in(page, "alice")
    page.goto("/inbox/")

    # j and k move between the conversations of the list; the row link shows its focus.
    page.keyboard.press("j")
    assert f"/inbox/{newest}/" in focused_href(page)
    assert_focus_visible(page)
    page.keyboard.press("j")
    assert f"/inbox/{late}/" in focused_href(page)
    page.keyboard.press("j")  # the last stays the last
    assert f"/inbox/{late}/" in focused_href(page)
    page.keyboard.press("k")
    assert f"/inbox/{newest}/" in focused_href(page)

    # Enter opens it.
    press_and_wait(page, "Enter")
    assert re.search(rf"/inbox/{newest}/", page.url)
    page.wait_for_selector("#suggestions .suggestions, #suggestions [data-no-suggestions]")
    # A screen reader hears how many arrived (a status message), not every suggestion read out.
    page.wait_for_function(
        "() => document.getElementById('suggestions-status').textContent.includes('föreslag')"
    )
    assert page.locator("#suggestions[aria-live]").count() == 0

    # r puts the cursor in the reply box; typing there types, it triggers no shortcut.
    page.keyboard.press("r")
    assert focused(page)["id"] == "id_text"
    page.keyboard.type("jkcu")
    assert page.input_value("#id_text") == "jkcu"
    assert f"/inbox/{newest}/" in page.url

    # A saved reply, chosen with the keyboard, is filled in and the cursor is put in the box.
    page.fill("#id_text", "")
    shift_tab_to(page, ".saved-replies li:first-child button")
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.activeElement.id === 'id_text' && document.activeElement.value"
    )
    assert page.input_value("#id_text").startswith("Hej Anna! Våra öppettider")
    assert "Alice, Kultur" in page.input_value("#id_text")

    # a goes to the assignee field.
    tab_to(page, "main form[action$='/reply/'] button[type=submit]")
    page.keyboard.press("a")
    assert focused(page)["id"] == "id_assignee"

    # c closes the conversation (from a button: shortcuts work wherever nothing is typed).
    tab_to(page, "main form[action$='/reply/'] button[type=submit]")
    press_and_wait(page, "c")
    conversation = Conversation.objects.get(pk=newest)
    assert conversation.status == Status.CLOSED
    assert page.locator(".messages [data-color=success]").is_visible()

    # "Answered another way" with Tab and Enter.
    tab_to(page, "main form[action$='/answered/'] button[type=submit]")
    assert_focus_visible(page)
    press_and_wait(page, "Enter")
    conversation.refresh_from_db()
    assert conversation.status == Status.ANSWERED
    assert conversation.events.filter(
        type=ConversationEvent.Type.STATUS, details__elsewhere="yes"
    ).exists()

    # j goes to the next conversation in the list it came from, u back to the list.
    press_and_wait(page, "u")
    assert page.url.rstrip("/").endswith("/inbox")


@pytest.mark.browser
@pytest.mark.django_db
def test_the_one_key_shortcuts_can_be_turned_off(page: Page, cast: Cast) -> None:
    newest, late, _answered = inbox_support.home_conversations(cast, "manager")
    sign_in(page, "alice")
    page.goto(f"/inbox/{newest}/")

    # The setting is in the shortcuts' help, reached with the keyboard.
    tab_to(page, "[data-shortcuts-help] summary")
    page.keyboard.press("Enter")
    tab_to(page, "[data-shortcuts-off]")
    assert_focus_visible(page)
    page.keyboard.press("Space")
    assert page.is_checked("[data-shortcuts-off]")

    # Now c, u and j do nothing here...
    page.evaluate("document.activeElement.blur()")
    for key in ("c", "u", "j", "r"):
        page.keyboard.press(key)
    page.wait_for_timeout(300)
    assert f"/inbox/{newest}/" in page.url
    assert Conversation.objects.get(pk=newest).status == Status.NEW

    # ...nor in the list, and the choice is remembered across pages.
    page.goto("/inbox/")
    assert page.is_checked("[data-shortcuts-off]")
    page.keyboard.press("j")
    assert focused_href(page) == ""

    # Turned on again, they work.
    tab_to(page, "[data-shortcuts-help] summary")
    page.keyboard.press("Enter")
    tab_to(page, "[data-shortcuts-off]")
    page.keyboard.press("Space")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("j")
    assert f"/inbox/{newest}/" in focused_href(page)
    page.keyboard.press("j")
    assert f"/inbox/{late}/" in focused_href(page)
