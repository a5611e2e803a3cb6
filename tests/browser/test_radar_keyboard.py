"""A manager handles a radar alert and corrects a category with the keyboard alone.

Tab, typing, the arrow keys and Enter only, in Swedish, with visible focus: from the radar's
alert list to the alert, acknowledge it with a note; from the alert's items to "why it was
classified so", and correct the category (a label the classifier learns from).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from narvaro.radar.models import Alert, Label
from tests.browser import radar_pages
from tests.browser.support import (
    Cast,
    assert_focus_visible,
    focused,
    tab_to,
)
from tests.browser.test_keyboard_flows import follow_link, keyboard_sign_in, type_into

# The browser's own locale: its date fields take month, day and year.
BROWSER_LOCALE = "en-US"


@pytest.mark.browser
@pytest.mark.django_db
def test_a_manager_acknowledges_an_alert_and_corrects_a_category_with_the_keyboard(
    page: Page, cast: Cast
) -> None:
    alert = radar_pages.radar_alert(cast)
    item = radar_pages.radar_items(cast)[3]  # "När öppnar badhuset igen?": a question
    keyboard_sign_in(page, "alice")
    page.goto("/")
    follow_link(page, "nav a[href='/radar/']")
    follow_link(page, f"main a[href='/radar/alerts/{alert.pk}/']")
    type_into(page, "note", "Svarat i tråden, info på webben.")
    assert_focus_visible(page)
    follow_link(page, "main form button[type=submit]")
    alert = Alert.objects.get(pk=alert.pk)
    assert alert.acknowledged_by == cast.people["alice"]
    assert alert.note == "Svarat i tråden, info på webben."
    assert page.locator("main form[method=post] textarea").count() == 0

    follow_link(page, f"main a[href='/radar/items/{item.pk}/']")
    # Into the radio group: focus lands on the checked category; the arrows move it.
    tab_to(page, "main input[name=category]")
    assert focused(page)["name"] == "category"
    assert page.evaluate("document.activeElement.value") == "question"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.value") == "critique"
    assert_focus_visible(page)
    follow_link(page, "main form[action$='/category/'] button[type=submit]")
    label = Label.objects.get(item=item)
    assert (label.category, label.previous, label.person) == (
        "critique",
        "question",
        cast.people["alice"],
    )
    assert page.url.endswith(f"/radar/items/{item.pk}/")
