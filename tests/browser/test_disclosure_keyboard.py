"""A registrar answers a request for public records with the keyboard alone (R23–R25).

Log the request without a name, find the records with the archive's filters, add them, mask
the suggested personnummer with its legal ground, decide, and make the delivery: Tab, typing,
the arrow keys and Enter only, in Swedish, with a visible focus indicator along the way.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page

from narvaro.archive.capture import CaptureInput
from narvaro.archive.services import capture_batch
from narvaro.core.models import User
from narvaro.disclosure import services
from narvaro.disclosure.models import DeliveryFile, RecordsRequest, Redaction
from narvaro.lib.testing import make_person
from tests.browser.support import (
    Cast,
    assert_focus_visible,
    choose_option,
    tab_to,
)
from tests.browser.test_keyboard_flows import follow_link, keyboard_sign_in, type_into

# The browser's own locale: its date fields take month, day and year.
BROWSER_LOCALE = "en-US"


@pytest.mark.browser
@pytest.mark.django_db
def test_a_registrar_answers_a_request_with_the_keyboard(page: Page, cast: Cast) -> None:
    capture_batch(
        account=cast.accounts["kultur"],
        captures=[
            CaptureInput(
                platform="mastodon",
                remote_id="keyboard-request-1",
                kind="comment",
                direction="received",
                text="Mitt personnummer är 19811218-9876.",
                raw_payload='{"id": "keyboard-request-1"}',
                author_handle="@greta@social.example",
                created_at=dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC),
            )
        ],
        source="browser",
    )
    # A registrar of their own: the cast's people have used this period's codes already.
    regina = make_person("regina", org_role=User.OrgRole.REGISTRAR)
    device = TOTPDevice.objects.create(user=regina, name="test", confirmed=True)
    keyboard_sign_in(page, "regina", device)

    page.goto("/requests/")
    follow_link(page, "main a[href='/requests/new/']")
    tab_to(page, "main select[name=channel]")
    choose_option(page, "phone")
    type_into(page, "scope", "Allt @greta skrev till kultur 2024.")
    tab_to(page, "main select[name=delivery_route]")
    choose_option(page, "collect")
    assert_focus_visible(page)
    follow_link(page, "main form button[type=submit]")
    records_request = RecordsRequest.objects.get(scope="Allt @greta skrev till kultur 2024.")
    assert records_request.requester_name == ""
    assert page.url.endswith(f"/requests/{records_request.pk}/compile/")

    # Search with the archive's filters: Enter in a field sends the search form (htmx
    # swaps in the results).
    type_into(page, "author", "@greta")
    page.keyboard.press("Enter")
    page.wait_for_selector("main form[action$='/compile/add/'] button[type=submit]")
    follow_link(page, "main form[action$='/compile/add/'] button[type=submit]")
    assert list(records_request.items.values_list("item__remote_id", flat=True)) == [
        "keyboard-request-1"
    ]

    page.goto(records_request.get_absolute_url())
    follow_link(page, "main a[href*='/records/']")
    # The suggested personnummer: choose the ground with the arrow keys, then mask it.
    tab_to(page, "main select[name=legal_ground]")
    choose_option(page, "OSL 21 kap. 7 §")
    follow_link(page, "main form[action$='/accept/'] button")
    redaction = Redaction.objects.get(request_item__request=records_request)
    assert (redaction.status, redaction.legal_ground) == ("accepted", "OSL 21 kap. 7 §")

    # The decision: the radio group is one tab stop; the arrow keys choose within it.
    tab_to(page, "main input[name=decision]:checked")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.value") == "partly"
    tab_to(page, "main form[action$='/decide/'] select[name=legal_ground]")
    choose_option(page, "OSL 21 kap. 7 §")
    follow_link(page, "main form[action$='/decide/'] button[type=submit]")
    assert records_request.items.get().decision == "partly"

    page.goto(records_request.get_absolute_url())
    follow_link(page, "main form[action$='/deliveries/'] button[type=submit]")
    # The delivery is queued for the worker; the page says so and polls until it is ready.
    delivery = records_request.deliveries.get()
    assert delivery.status == "queued"
    page.wait_for_selector("main [aria-live=polite] #deliveries-list[hx-trigger]")
    assert "Väntar på att skapas" in page.inner_text("main #deliveries-list")
    button = "main form[action$='/deliveries/'] button[type=submit]"
    page.focus(button)
    services.delivery_render(delivery_id=delivery.pk)  # the worker's task
    page.wait_for_selector("main a[href$='/deliveries/1/printout/']", timeout=15_000)
    assert page.evaluate("(s) => document.activeElement.matches(s)", button)  # focus stays
    assert page.locator("main #deliveries-list[hx-trigger]").count() == 0  # polling stopped
    kinds = set(
        DeliveryFile.objects.filter(delivery__request=records_request).values_list(
            "kind", flat=True
        )
    )
    assert kinds == {"printout", "decision"}
    tab_to(page, "main a[href$='/deliveries/1/printout/']")
    assert_focus_visible(page)
