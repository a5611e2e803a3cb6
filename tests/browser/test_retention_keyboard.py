"""A registrar registers a record as secret and disposes of old records with the keyboard alone.

R13: flag a record as secret from its page (the form refuses it without a case number), after
which a viewer no longer finds it. R27: make a gallring rule, a dry run that lists exactly the
old records outside the hold, and commit it after the confirmation; the gallring log lists the
disposal. Tab, typing, the arrow keys and Enter only, in Swedish, with visible focus.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page

from narvaro.archive.capture import CaptureInput
from narvaro.archive.fixity import verify_archive
from narvaro.archive.models import Item, ItemVersion
from narvaro.archive.selectors import record_search_for_user
from narvaro.archive.services import capture_batch
from narvaro.core.models import User
from narvaro.lib.testing import make_person
from narvaro.retention.models import DisposalLogEntry, DisposalRun, RegistryEntry, RetentionRule
from tests.browser.support import (
    Cast,
    assert_focus_visible,
    choose_option,
    tab_to,
)
from tests.browser.test_keyboard_flows import follow_link, keyboard_sign_in, type_into

# The browser's own locale: its date fields take month, day and year.
BROWSER_LOCALE = "en-US"


def old_comments(cast: Cast, *remote_ids: str) -> dict[str, Item]:
    capture_batch(
        account=cast.accounts["kultur"],
        captures=[
            CaptureInput(
                platform="mastodon",
                remote_id=remote_id,
                kind="comment",
                direction="received",
                text=f"Kommentar {remote_id}",
                raw_payload='{"id": "' + remote_id + '"}',
                author_handle="@greta@social.example",
                created_at=dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC),
            )
            for remote_id in remote_ids
        ],
        source="browser",
    )
    return {item.remote_id: item for item in Item.objects.filter(remote_id__in=remote_ids)}


def registrar_signs_in(page: Page, username: str) -> None:
    # A registrar of their own: the cast's people have used this period's codes already.
    person = make_person(username, org_role=User.OrgRole.REGISTRAR)
    device = TOTPDevice.objects.create(user=person, name="test", confirmed=True)
    keyboard_sign_in(page, username, device)


@pytest.mark.browser
@pytest.mark.django_db
def test_a_registrar_flags_a_record_secret_with_the_keyboard_r13(page: Page, cast: Cast) -> None:
    item = old_comments(cast, "keyboard-secret")["keyboard-secret"]
    registrar_signs_in(page, "sara")
    page.goto(item.get_absolute_url())
    follow_link(page, f"main a[href='/records-management/records/{item.pk}/flag/secret/']")
    type_into(page, "description", "Uppgifter om hälsa")
    # Sent without a case number: refused, nothing registered.
    follow_link(page, "main form button[type=submit]")
    assert page.locator("[data-error-summary]").count() == 1
    assert not RegistryEntry.objects.exists()
    type_into(page, "case_number", "SN 2024/17")
    assert_focus_visible(page)
    follow_link(page, "main form button[type=submit]")
    entry = RegistryEntry.objects.get()
    assert (entry.kind, entry.case_number, entry.sender) == (
        "secret",
        "SN 2024/17",
        "@greta@social.example",
    )
    assert page.url.endswith(entry.get_absolute_url())
    vera = cast.people["vera"]
    assert not record_search_for_user(vera).filter(pk=item.pk).exists()


@pytest.mark.browser
@pytest.mark.django_db
def test_a_registrar_disposes_of_old_records_with_the_keyboard_r27(page: Page, cast: Cast) -> None:
    items = old_comments(cast, "keyboard-old-1", "keyboard-old-2")
    registrar_signs_in(page, "arvid")
    page.goto("/records-management/")
    follow_link(page, "main a[href='/records-management/rules/new/']")
    type_into(page, "name", "Kommentarer av ringa betydelse")
    tab_to(page, "main select[name=record_class]")
    choose_option(page, "minor_comments")
    type_into(page, "decision_reference", "KS 2025/118")
    type_into(page, "period_days", "365")
    tab_to(page, "main select[name=account]")
    choose_option(page, str(cast.accounts["kultur"].pk))
    follow_link(page, "main form button[type=submit]")
    rule = RetentionRule.objects.get()
    assert page.url.endswith(rule.get_absolute_url())

    follow_link(page, f"main form[action='/records-management/rules/{rule.pk}/runs/'] button")
    run = DisposalRun.objects.get()
    assert set(run.entries.values_list("item__remote_id", flat=True)) == set(items)
    follow_link(page, f"main a[href='/records-management/runs/{run.pk}/commit/']")
    follow_link(page, "main form button[type=submit]")
    run.refresh_from_db()
    assert (run.state, run.disposed_count) == ("committed", 2)
    assert not ItemVersion.objects.filter(item__in=items.values(), raw_payload__isnull=False)
    assert verify_archive().intact
    assert DisposalLogEntry.objects.count() == 2
    page.goto("/records-management/log/")
    assert page.locator("main table tbody tr").count() == 2
