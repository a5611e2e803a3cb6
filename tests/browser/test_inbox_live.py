"""The inbox keeps up without a reload: new messages on the list and in an open conversation.

alice (kultur's manager) has her inbox open in Swedish when a new question is harvested: the
poll says so in the live region, "show" (pressed with the keyboard) refreshes the tabs and the
list in place and puts her on the newest conversation. With a conversation open and a reply
half typed, a colleague's answer found by the harvest appears in the messages, and the text
in the reply box stays. The poll runs every 20–30 s; the test fires it at once with the
`narvaro:poll` event the pollers also listen to.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from narvaro.archive.services import capture_batch
from narvaro.inbox.derive import conversations_derive
from narvaro.inbox.models import Conversation
from tests.browser import inbox_support
from tests.browser.support import (
    Cast,
    assert_focus_visible,
    axe_violations,
    focused,
    format_violations,
    sign_in,
    tab_to,
)


def poll_now(page: Page, poller: str) -> None:
    page.evaluate("(s) => htmx.trigger(document.querySelector(s), 'narvaro:poll')", poller)


@pytest.mark.browser
@pytest.mark.django_db
def test_new_conversations_are_shown_in_place(page: Page, cast: Cast) -> None:
    newest, _late, _answered = inbox_support.home_conversations(cast, "manager")
    sign_in(page, "alice")
    page.goto("/inbox/")
    page.wait_for_function("() => window.htmx !== undefined")
    rows_before = page.locator("[data-shortcut-row]").count()
    badge_before = page.locator("#inbox-tabs a[aria-current] .ds-tag").inner_text()

    account = cast.home_account("manager")
    capture_batch(
        account=account,
        captures=[
            inbox_support._capture(f"live-{account.pk}", "Hej! Är simhallen öppen på juldagen?", 0)
        ],
        source="browser",
    )
    conversations_derive()
    fresh = Conversation.objects.get(root_item__remote_id=f"live-{account.pk}")

    poll_now(page, "#news-poll")
    link = page.locator("#news [data-show-news]")
    link.wait_for()
    assert "1 konversation har ett nytt meddelande" in page.locator("#news").inner_text()
    url_before = page.url

    # Reached and pressed with the keyboard; the page is not reloaded.
    page.evaluate("() => { window.notReloaded = true; }")
    tab_to(page, "#news [data-show-news]")
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "(n) => document.querySelectorAll('[data-shortcut-row]').length === n", arg=rows_before + 1
    )
    assert page.evaluate("() => window.notReloaded === true")
    assert page.url == url_before
    # Focus is on the newest conversation (the new one), and the live region says it is done.
    page.wait_for_function(
        "(pk) => (document.activeElement.getAttribute('href') || '').includes(`/inbox/${pk}/`)",
        arg=fresh.pk,
    )
    assert "Listan är uppdaterad" in page.locator("#news").inner_text()
    badge_after = page.locator("#inbox-tabs a[aria-current] .ds-tag").inner_text()
    assert int(badge_after) == int(badge_before) + 1
    assert page.locator(f"a[href*='/inbox/{newest}/']").count() == 1
    violations = axe_violations(page)
    assert not violations, format_violations(violations)

    # The next poll counts from the refresh: nothing new (204), nothing announced.
    with page.expect_response(lambda r: "/inbox/news/" in r.url) as polled:
        poll_now(page, "#news-poll")
    assert polled.value.status == 204
    assert page.locator("#news [data-show-news]").count() == 0


@pytest.mark.browser
@pytest.mark.django_db
def test_an_open_conversation_shows_a_colleagues_answer_and_keeps_the_draft(
    page: Page, cast: Cast
) -> None:
    newest, _late, _answered = inbox_support.home_conversations(cast, "manager")
    inbox_support.connected_conversation(cast, "manager")  # so the reply box is offered
    sign_in(page, "alice")
    page.goto(f"/inbox/{newest}/")
    page.wait_for_function("() => window.htmx !== undefined")
    page.keyboard.press("r")
    assert focused(page)["id"] == "id_text"
    page.keyboard.type("Hej Anna, vi har öppet")

    conversation = Conversation.objects.select_related("account", "root_item").get(pk=newest)
    capture_batch(
        account=conversation.account,
        captures=[
            inbox_support._capture(
                f"colleague-{newest}",
                "Hej! Lördagar 10–14.",
                0,
                kind="reply",
                direction="drawn_up",
                author_handle=conversation.account.handle,
                author_name="Kultur",
                parent_remote_id=conversation.root_item.remote_id,
            )
        ],
        source="browser",
    )
    conversations_derive()

    poll_now(page, "#conversation-poll")
    page.wait_for_function(
        "() => document.getElementById('conversation-messages').textContent"
        ".includes('Lördagar 10–14')"
    )
    assert "1 nytt meddelande i konversationen" in page.locator("#conversation-news").inner_text()
    # What was typed, and where the cursor was, are kept.
    assert page.input_value("#id_text") == "Hej Anna, vi har öppet"
    assert focused(page)["id"] == "id_text"
    assert "Besvarad" in page.locator("#conversation-facts").inner_text()
    violations = axe_violations(page)
    assert not violations, format_violations(violations)

    # Moved to a unit alice has no part in: the page says so once and stops asking.
    from narvaro.inbox import services as inbox_services

    inbox_services.conversation_move(
        actor=cast.people["adam"], conversation=conversation, unit=cast.home_unit("publisher")
    )
    poll_now(page, "#conversation-poll")
    page.wait_for_function(
        "() => document.getElementById('conversation-news').textContent"
        ".includes('inte längre i dina enheter')"
    )
    assert page.locator("#conversation-poll[hx-get]").count() == 0
    assert page.input_value("#id_text") == "Hej Anna, vi har öppet"
    assert page.locator("#conversation-news a[href='/inbox/']").count() == 1
    # Its actions would answer "not found": they are turned off.
    assert page.locator("main form[action$='/reply/'] button[type=submit]").is_disabled()


@pytest.mark.browser
@pytest.mark.django_db
def test_an_ended_session_stops_the_polling_and_keeps_the_draft(page: Page, cast: Cast) -> None:
    newest, _late, _answered = inbox_support.home_conversations(cast, "manager")
    inbox_support.connected_conversation(cast, "manager")
    sign_in(page, "alice")
    page.goto(f"/inbox/{newest}/")
    page.wait_for_function("() => window.htmx !== undefined")
    page.fill("#id_text", "Ett svar under arbete")
    page.context.clear_cookies()  # the session ends (signed out elsewhere, or timed out)
    with page.expect_response(lambda r: "/updates/" in r.url) as polled:
        poll_now(page, "#conversation-poll")
    assert polled.value.status == 401
    page.wait_for_function(
        "() => document.getElementById('conversation-news').textContent.includes('Logga in igen')"
    )
    assert page.locator("#conversation-poll[hx-get]").count() == 0
    assert page.locator("main #id_username").count() == 0  # no sign-in page swapped in
    sign_in_link = page.locator("#conversation-news a").get_attribute("href") or ""
    assert sign_in_link == f"/sign-in/?next=%2Finbox%2F{newest}%2F"
    assert page.input_value("#id_text") == "Ett svar under arbete"


@pytest.mark.browser
@pytest.mark.django_db
def test_a_quiet_poll_leaves_the_focus_where_the_person_puts_it(page: Page, cast: Cast) -> None:
    """A poll that finds nothing (204) must not move the focus on a later, unrelated swap."""
    newest, _late, _answered = inbox_support.home_conversations(cast, "manager")
    inbox_support.connected_conversation(cast, "manager")
    sign_in(page, "alice")
    page.goto(f"/inbox/{newest}/")
    page.wait_for_function("() => window.htmx !== undefined")
    tab_to(page, "#conversation-messages a")
    with page.expect_response(lambda r: "/updates/" in r.url) as polled:
        poll_now(page, "#conversation-poll")
    assert polled.value.status == 204
    # A saved reply chosen with the keyboard puts the cursor in the reply box, and it stays.
    tab_to(page, ".saved-replies li:first-child button")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'id_text'")
    page.wait_for_timeout(300)  # past htmx's settle delay, when a stale place would be used
    assert focused(page)["id"] == "id_text"
