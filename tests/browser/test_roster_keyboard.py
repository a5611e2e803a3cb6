"""Business hours and the duty roster (R14) with the keyboard alone.

A manager puts a responder on the unit's roster for the weekdays of a week and takes one day
off again; an admin shortens Fridays and closes a klämdag. Tab, typing, the arrow keys and
Enter only, in Swedish, with visible focus.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page

from narvaro.core.models import User
from narvaro.lib.testing import make_person
from narvaro.organisation.models import CalendarDay, DutyAssignment, OpeningHours
from tests.browser.support import (
    Cast,
    assert_focus_visible,
    tab_to,
)
from tests.browser.test_keyboard_flows import (
    follow_link,
    keyboard_sign_in,
    select_with_keys,
    type_date,
    type_into,
)

# The browser's own locale: its date fields take month, day and year.
BROWSER_LOCALE = "en-US"


def press_submit(page: Page) -> None:
    tab_to(page, "main form[method=post] button[type=submit]")
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.mark.browser
@pytest.mark.django_db
def test_a_manager_rosters_a_responder_and_takes_a_day_off_with_the_keyboard(
    page: Page, cast: Cast
) -> None:
    kultur, ruth = cast.units["kultur"], cast.people["ruth"]
    # Next week's Monday to Sunday: five weekdays are rostered, the weekend is not.
    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday())
    keyboard_sign_in(page, "alice")
    page.goto(kultur.get_absolute_url())
    follow_link(page, f"main a[href='/units/{kultur.pk}/roster/']")
    follow_link(page, f"main a[href='/units/{kultur.pk}/roster/new/']")
    select_with_keys(page, "user", str(ruth.pk))
    type_date(page, "first", monday)
    type_date(page, "last", monday + dt.timedelta(days=6))
    type_into(page, "note", "Förmiddag")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    lines = DutyAssignment.objects.filter(unit=kultur, user=ruth).order_by("date")
    assert [line.date for line in lines] == [monday + dt.timedelta(days=n) for n in range(5)]
    assert page.locator("main table").get_by_text("Förmiddag").count() == 5
    # Take Wednesday off again.
    wednesday = lines[2]
    follow_link(page, f"main a[href='/units/roster/{wednesday.pk}/remove/']")
    press_submit(page)
    assert not DutyAssignment.objects.filter(pk=wednesday.pk).exists()
    assert page.locator("main table").get_by_text("Förmiddag").count() == 4


@pytest.mark.browser
@pytest.mark.django_db
def test_an_admin_shortens_fridays_and_closes_a_klamdag_with_the_keyboard(
    page: Page, cast: Cast
) -> None:
    # An admin of their own: the cast's people have used this period's codes already.
    person = make_person("ada", org_role=User.OrgRole.ADMIN)
    device = TOTPDevice.objects.create(user=person, name="test", confirmed=True)
    keyboard_sign_in(page, "ada", device)
    page.goto("/units/business-hours/")
    follow_link(page, "main a[href='/units/business-hours/week/']")
    tab_to(page, "main [name=day_4]")
    page.keyboard.press("Control+A")
    page.keyboard.type("08:00–12:00, 13:00–15:00")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/units/business-hours/")
    assert list(OpeningHours.objects.filter(weekday=4).values_list("opens", "closes")) == [
        (dt.time(8), dt.time(12)),
        (dt.time(13), dt.time(15)),
    ]
    assert page.locator("main table").first.get_by_text("08:00–12:00, 13:00–15:00").count() == 1
    follow_link(page, "main a[href='/units/business-hours/days/new/']")
    type_date(page, "date", dt.date(2027, 5, 7))
    # "Closed all day" is chosen already; the note, then Enter.
    type_into(page, "note", "Klämdag")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    day = CalendarDay.objects.get(date=dt.date(2027, 5, 7))
    assert (day.kind, day.note) == ("closed", "Klämdag")
    assert page.locator("main").get_by_text("Klämdag").count() >= 1
