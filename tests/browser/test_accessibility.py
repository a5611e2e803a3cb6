"""Every page, in Swedish and English, as each role that can open it, meets WCAG 2.1 A and AA.

axe-core checks each page in a real Chromium. Each page is listed by its URL name with the
roles that may open it (tests/test_access_matrix.py holds the access rules). Forms are also
checked after a failed submission, so the error summary and the errors next to the fields are
checked too. A new GET page without an entry here fails `test_every_page_is_checked`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from playwright.sync_api import Page

from tests.browser import inbox_support as inbox
from tests.browser import moderation_pages as moderation
from tests.browser import radar_pages as radar
from tests.browser.conftest import Session
from tests.browser.support import (
    LANGUAGES,
    ROLES,
    Cast,
    axe_violations,
    format_violations,
    reset_link_path,
    set_language,
    totp_code,
)

EVERYONE = frozenset(ROLES)
ANONYMOUS = frozenset({"anonymous"})
SIGNED_IN = EVERYONE - ANONYMOUS
ADMIN = frozenset({"admin"})
MANAGERS = frozenset({"manager", "admin"})
AUDIT_READERS = frozenset({"manager", "registrar", "admin"})
# bob (publisher) belongs to gata-park and cannot see kultur's or bibliotek's accounts.
KULTUR_READERS = SIGNED_IN - {"publisher"}
# Variants of a page (a failed submission, an empty result) are checked for one role: the
# least privileged role that can open the page.
VIEWER = frozenset({"viewer"})
MANAGER = frozenset({"manager"})

Kwargs = Callable[[Cast, str], dict[str, Any]]


def submit(page: Page, cast: Cast) -> None:
    """Send the page's form as it is (the forms have `novalidate`, so the server judges)."""
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").first.click()


def fill_and_submit(**fields: str) -> Callable[[Page, Cast], None]:
    def action(page: Page, cast: Cast) -> None:
        for name, value in fields.items():
            page.fill(f"main [name={name}]", value)
        submit(page, cast)

    return action


def wrong_two_factor_code(page: Page, cast: Cast) -> None:
    # Five steps ahead is outside django-otp's tolerance of one step, so the code is refused.
    fill_and_submit(token=totp_code(cast.devices["adam"], steps_ahead=5))(page, cast)


@dataclass(frozen=True)
class PageSpec:
    """A page: its URL, who may open it, and what to do on it before the check."""

    url_name: str
    roles: frozenset[str]
    kwargs: Kwargs | None = None
    query: str | Callable[[Cast, str], str] = ""
    status: int = 200
    then: Callable[[Page, Cast], None] | None = None
    # Whether `then` is a submission that the form refuses (then errors must be shown).
    refused: bool = True

    def path(self, cast: Cast, role: str) -> str:
        kwargs = self.kwargs(cast, role) if self.kwargs else None
        query = self.query(cast, role) if callable(self.query) else self.query
        return reverse(self.url_name, kwargs=kwargs) + query


def home_unit(cast: Cast, role: str) -> dict[str, Any]:
    return {"pk": cast.home_unit(role).pk}


def home_account(cast: Cast, role: str) -> dict[str, Any]:
    return {"pk": cast.home_account(role).pk}


def home_membership(cast: Cast, role: str) -> dict[str, Any]:
    return {"pk": cast.home_membership(role).pk}


def account(key: str) -> Kwargs:
    return lambda cast, role: {"pk": cast.accounts[key].pk}


def connected_account(cast: Cast, role: str) -> dict[str, Any]:
    """The role's home account, connected to Mastodon, with one open and one recovered gap."""
    import datetime as dt

    from django.utils import timezone

    from narvaro.channels.connectors.base import Profile
    from narvaro.channels.harvest import connection_save
    from narvaro.channels.models import CaptureGap, Connection

    account = cast.home_account(role)
    if not Connection.objects.filter(account=account).exists():
        connection_save(
            actor=None,
            account=account,
            base_url="https://social.example",
            credentials={"access_token": "browser-check"},
            profile=Profile(platform="mastodon", handle=account.handle, platform_id="1"),
        )
        now = timezone.now()
        CaptureGap.objects.create(
            account=account,
            start=now - dt.timedelta(days=3),
            end=now - dt.timedelta(days=2),
            reason="unavailable",
            status="recovered",
        )
        CaptureGap.objects.create(account=account, start=now - dt.timedelta(hours=2), reason="auth")
        Connection.objects.filter(account=account).update(status="reconnect")
    return {"pk": account.pk}


def calendar_day_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    """A klämdag with other hours, to remove (R14)."""
    import datetime as dt

    from narvaro.organisation import services as organisation

    day = organisation.calendar_day_set(
        actor=None, date=dt.date(2027, 5, 7), kind="closed", note="Klämdag"
    )
    return {"pk": day.pk}


def home_duty(cast: Cast, role: str) -> dict[str, Any]:
    """ruth on the home unit's roster today and tomorrow; the first day's line (R14)."""
    import datetime as dt

    from django.utils import timezone

    from narvaro.organisation import services as organisation

    today = timezone.localdate()
    lines = organisation.duty_assign(
        actor=None,
        unit=cast.home_unit(role),
        user=cast.people["ruth"],
        dates=[today, today + dt.timedelta(days=1)],
        note="Förmiddag",
    )
    return {"pk": lines[0].pk}


def home_unit_rostered(cast: Cast, role: str) -> dict[str, Any]:
    home_duty(cast, role)
    return home_unit(cast, role)


def kultur_policy(cast: Cast, role: str) -> dict[str, Any]:
    return {"pk": cast.policies["kultur"].pk}


def kultur_policy_version(number: int) -> Kwargs:
    return lambda cast, role: {"pk": cast.policies["kultur"].pk, "number": number}


def home_records(cast: Cast, role: str) -> list[int]:
    """Captures in the role's home account (a post, an edit, a reply deleted later), made
    in the test's own transaction; capture is idempotent, so each test may call it."""
    from narvaro.archive.capture import CaptureInput, EventInput
    from narvaro.archive.services import capture_batch

    account = cast.home_account(role)
    post, reply = f"browser-post-{account.pk}", f"browser-reply-{account.pk}"

    def capture(remote_id: str, text: str, **extra: Any) -> CaptureInput:
        fields = {
            "platform": "mastodon",
            "kind": "comment",
            "direction": "received",
            "author_handle": "@anna@social.example",
            "author_name": "Anna",
            "permalink": f"https://social.example/@anna/{remote_id}",
            "thread_remote_id": post,
            "raw_payload": '{"id": "' + remote_id + '"}',
            **extra,
        }
        return CaptureInput(remote_id=remote_id, text=text, **fields)

    for text in ["Öppet hus på lördag.", "Öppet hus på lördag kl. 10."]:
        capture_batch(
            account=account,
            captures=[capture(post, text, kind="post", direction="drawn_up")],
            source="browser",
        )
    capture_batch(
        account=account,
        captures=[capture(reply, "Välkommen!", parent_remote_id=post)],
        events=[EventInput(platform="mastodon", remote_id=reply, type="deleted")],
        source="browser",
    )
    from narvaro.archive.models import Item

    return list(Item.objects.filter(remote_id__in=[post, reply]).values_list("pk", flat=True))


def home_record(cast: Cast, role: str) -> dict[str, Any]:
    return {"pk": min(home_records(cast, role))}


def home_record_with_media(cast: Cast, role: str) -> dict[str, Any]:
    """A post with an image, a captioned video, a sound and a missing file (all inline)."""
    from narvaro.archive.capture import CaptureInput, MediaInput
    from narvaro.archive.models import Item
    from narvaro.archive.services import capture_batch

    account = cast.home_account(role)
    remote_id = f"browser-media-{account.pk}"
    png = Path(__file__).resolve().parents[2] / "narvaro/channels/tests/fixtures/mastodon"
    media = (
        MediaInput(
            original_name="lasesal.png",
            content=(png / "media__reading_room.png").read_bytes(),
            content_type="image/png",
            alt_text="Läsesalen med nya fåtöljer",
        ),
        MediaInput(
            original_name="film.mp4",
            content=b"\x00\x00\x00\x18ftypmp42",
            content_type="video/mp4",
            caption=b"WEBVTT\n\n00:00.000 --> 00:04.000\nV\xc3\xa4lkommen\n",
        ),
        MediaInput(original_name="intervju.mp3", content=b"ID3", content_type="audio/mpeg"),
        MediaInput(original_name="borta.jpg"),
    )
    capture_batch(
        account=account,
        captures=[
            CaptureInput(
                platform="mastodon",
                remote_id=remote_id,
                kind="post",
                direction="drawn_up",
                text="Bilder från läsesalen.",
                raw_payload='{"id": "' + remote_id + '"}',
                media=media,
            )
        ],
        source="browser",
    )
    return {"pk": Item.objects.get(remote_id=remote_id).pk}


def with_records(query: str) -> Callable[[Cast, str], str]:
    return lambda cast, role: (home_records(cast, role), query)[1]


def with_package(cast: Cast, role: str) -> str:
    """A package of kultur's account, so the list shows a row with its download."""
    from narvaro.packages.services import package_export_to_storage

    home_records(cast, role)
    package_export_to_storage(actor=None, kind="bagit", account=cast.accounts["kultur"])
    return ""


def reset_link(cast: Cast, role: str) -> dict[str, Any]:
    uidb64, token = reset_link_path(cast.people["oscar"]).strip("/").split("/")[-2:]
    return {"uidb64": uidb64, "token": token}


def oscar(cast: Cast, role: str) -> dict[str, Any]:
    return {"pk": cast.people["oscar"].pk}


# Records management (retention, holds, erasure requests, registration): registrars and admins.
RECORDS_OFFICERS = frozenset({"registrar", "admin"})
REGISTRAR = frozenset({"registrar"})


def old_record(cast: Cast) -> Any:
    """A comment from 2024 in kultur's account, old enough for a one-day rule (idempotent)."""
    import datetime as dt

    from narvaro.archive.capture import CaptureInput
    from narvaro.archive.models import Item
    from narvaro.archive.services import capture_batch

    capture_batch(
        account=cast.accounts["kultur"],
        captures=[
            CaptureInput(
                platform="mastodon",
                remote_id="browser-old-comment",
                kind="comment",
                direction="received",
                text="En gammal kommentar.",
                raw_payload='{"id": "browser-old-comment"}',
                author_handle="@anna@social.example",
                created_at=dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC),
            )
        ],
        source="browser",
    )
    return Item.objects.get(remote_id="browser-old-comment")


def retention_rule(cast: Cast) -> Any:
    from narvaro.retention import services

    return services.rule_create(
        actor=cast.people["rita"],
        name="Kommentarer av ringa betydelse",
        record_class="minor_comments",
        decision_reference="KS 2025/118",
        period_days=1,
    )


def rule_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    return {"pk": retention_rule(cast).pk}


def run_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    from narvaro.retention import services

    old_record(cast)
    return {"pk": services.disposal_run_create(actor=None, rule=retention_rule(cast)).pk}


def with_disposal_log(cast: Cast, role: str) -> str:
    from narvaro.retention import services

    old_record(cast)
    run = services.disposal_run_create(actor=None, rule=retention_rule(cast))
    services.disposal_run_commit(actor=cast.people["rita"], run=run)
    return ""


def hold_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    from narvaro.retention import services

    hold = services.hold_place(
        actor=None, scope="account", account=cast.accounts["kultur"], reason="Granskning"
    )
    return {"pk": hold.pk}


def with_holds(cast: Cast, role: str) -> str:
    hold_kwargs(cast, role)
    return ""


def erasure_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    from narvaro.retention import services

    return {"pk": services.erasure_request_record(actor=None, scope="Min kommentar").pk}


def with_erasure(cast: Cast, role: str) -> str:
    erasure_kwargs(cast, role)
    return ""


def registry_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    import datetime as dt

    from narvaro.retention import services

    entry = services.registry_flag(
        actor=cast.people["rita"],
        item=old_record(cast),
        kind="secret",
        received_on=dt.date(2024, 5, 1),
        sender="Anna",
        description="Uppgifter om hälsa",
        case_number="SN 2024/17",
        officer="Karin",
    )
    return {"pk": entry.pk}


def with_registry(cast: Cast, role: str) -> str:
    registry_kwargs(cast, role)
    return ""


def flag_kwargs(kind: str) -> Kwargs:
    return lambda cast, role: {"pk": old_record(cast).pk, "kind": kind}


def item_query(cast: Cast, role: str) -> str:
    return f"?item={old_record(cast).pk}"


# Requests for public records are handled by registrars and admins only.
REQUEST_HANDLERS = frozenset({"registrar", "admin"})
ONE_HANDLER = frozenset({"registrar"})


def records_request(cast: Cast) -> Any:
    """A request received four days ago (past day 3) holding two comments from kultur's
    account: one with a phone number and a personnummer suggested for masking, one withheld
    and delivered with its decision. The first names a diagnosis, so the request page and
    the first record's decision show the sensitive-data prompt (R26)."""
    import datetime as dt
    import json

    from django.utils import timezone

    from narvaro.archive.capture import CaptureInput
    from narvaro.archive.models import Item
    from narvaro.archive.services import capture_batch
    from narvaro.disclosure import services

    captures = [
        CaptureInput(
            platform="mastodon",
            remote_id=f"browser-request-{n}",
            kind="comment",
            direction="received",
            text=text,
            raw_payload=json.dumps({"id": f"browser-request-{n}"}),
            author_handle="@erik@social.example",
            created_at=dt.datetime(2024, 3, n + 1, 9, 0, tzinfo=dt.UTC),
        )
        for n, text in enumerate(
            [
                "Ring mig på 070-123 45 67 om min diagnos, mitt pnr är 19811218-9876.",
                "Om min hälsa.",
            ]
        )
    ]
    capture_batch(account=cast.accounts["kultur"], captures=captures, source="browser")
    rita = cast.people["rita"]
    request = services.request_create(
        actor=rita,
        received_at=timezone.now() - dt.timedelta(days=4),
        channel="email",
        scope="Allt som @erik skrev till kultur under 2024.",
        delivery_route="email",
        delivery_address="anonym@example.org",
    )
    items = Item.objects.filter(remote_id__startswith="browser-request-").order_by("remote_id")
    services.request_items_add(actor=rita, records_request=request, items=items)
    withheld = request.items.get(item=items[1])
    services.request_item_decide(
        actor=rita, request_item=withheld, decision="withhold", legal_ground="OSL 21 kap. 1 §"
    )
    delivery = services.delivery_create(actor=rita, records_request=request)
    services.delivery_render(delivery_id=delivery.pk)  # the worker's task (once)
    return request


def request_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    return {"pk": records_request(cast).pk}


def request_item_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    request = records_request(cast)
    return {"pk": request.pk, "item_pk": request.items.order_by("item_id").first().item_id}


def with_request(cast: Cast, role: str) -> str:
    records_request(cast)
    return ""


PAGES: dict[str, PageSpec] = {
    # Signed out.
    "sign-in": PageSpec("core:login", ANONYMOUS),
    "sign-in-failed": PageSpec(
        "core:login", ANONYMOUS, then=fill_and_submit(username="nobody", password="wrong")
    ),
    "password-reset": PageSpec("core:password_reset", ANONYMOUS),
    "password-reset-failed": PageSpec(
        "core:password_reset", ANONYMOUS, then=fill_and_submit(email="not an address")
    ),
    "password-reset-sent": PageSpec("core:password_reset_done", ANONYMOUS),
    "password-reset-link": PageSpec("core:password_reset_confirm", ANONYMOUS, reset_link),
    "password-reset-link-expired": PageSpec(
        "core:password_reset_confirm",
        ANONYMOUS,
        lambda cast, role: {"uidb64": "MQ", "token": "expired-token"},
    ),
    "password-reset-complete": PageSpec("core:password_reset_complete", ANONYMOUS),
    "accessibility-statement": PageSpec("core:accessibility", EVERYONE),
    # Signed in.
    "overview": PageSpec("core:overview", SIGNED_IN),
    "password-change": PageSpec("core:password_change", SIGNED_IN),
    "password-change-failed": PageSpec("core:password_change", VIEWER, then=submit),
    "two-factor-setup": PageSpec("core:two_factor_setup", SIGNED_IN),
    "two-factor-verify": PageSpec("core:two_factor_verify", SIGNED_IN),
    "two-factor-verify-failed": PageSpec(
        "core:two_factor_verify", ADMIN, then=wrong_two_factor_code
    ),
    "backup-codes": PageSpec("core:two_factor_backup_codes", SIGNED_IN),
    "backup-codes-created": PageSpec(
        "core:two_factor_backup_codes", ADMIN, then=submit, refused=False
    ),
    # Units and memberships.
    "unit-list": PageSpec("organisation:unit_list", SIGNED_IN),
    "unit-detail": PageSpec("organisation:unit_detail", SIGNED_IN, home_unit),
    "unit-create": PageSpec("organisation:unit_create", MANAGERS),
    "unit-create-failed": PageSpec("organisation:unit_create", MANAGER, then=submit),
    "unit-edit": PageSpec("organisation:unit_edit", MANAGERS, home_unit),
    "membership-add": PageSpec("organisation:membership_add", MANAGERS, home_unit),
    "membership-add-failed": PageSpec(
        "organisation:membership_add", MANAGER, home_unit, then=submit
    ),
    "membership-edit": PageSpec("organisation:membership_edit", MANAGERS, home_membership),
    "membership-revoke": PageSpec("organisation:membership_revoke", MANAGERS, home_membership),
    # Business hours, holidays and the duty roster (R14).
    "business-hours": PageSpec("organisation:business_hours", SIGNED_IN),
    "business-hours-days": PageSpec(
        "organisation:business_hours", ADMIN, query=lambda c, r: (calendar_day_kwargs(c, r), "")[1]
    ),
    "opening-hours-edit": PageSpec("organisation:opening_hours_edit", ADMIN),
    "opening-hours-edit-failed": PageSpec(
        "organisation:opening_hours_edit", ADMIN, then=fill_and_submit(day_0="8 to 4")
    ),
    "calendar-day-add": PageSpec("organisation:calendar_day_add", ADMIN),
    "calendar-day-add-failed": PageSpec("organisation:calendar_day_add", ADMIN, then=submit),
    "calendar-day-remove": PageSpec("organisation:calendar_day_remove", ADMIN, calendar_day_kwargs),
    "roster": PageSpec("organisation:roster", SIGNED_IN, home_unit),
    "roster-filled": PageSpec("organisation:roster", MANAGERS, home_unit_rostered),
    "duty-add": PageSpec("organisation:duty_add", MANAGERS, home_unit),
    "duty-add-failed": PageSpec("organisation:duty_add", MANAGER, home_unit, then=submit),
    "duty-remove": PageSpec("organisation:duty_remove", MANAGERS, home_duty),
    # The channel register.
    "account-list": PageSpec("channels:account_list", SIGNED_IN),
    "account-list-filtered": PageSpec(
        "channels:account_list",
        SIGNED_IN,
        query=lambda cast, role: (
            f"?q=social&unit={cast.home_unit(role).pk}&platform=mastodon&state=proposed&kind=unit"
        ),
    ),
    "account-list-no-match": PageSpec("channels:account_list", VIEWER, query="?q=nothing"),
    "account-detail": PageSpec("channels:account_detail", SIGNED_IN, home_account),
    "account-detail-incomplete": PageSpec(
        "channels:account_detail", KULTUR_READERS, account("incomplete")
    ),
    "account-detail-active": PageSpec("channels:account_detail", KULTUR_READERS, account("active")),
    "account-create": PageSpec("channels:account_create", MANAGERS),
    # Archival packages (R29, R31) and account snapshots (R11).
    "package-list": PageSpec("packages:export_list", RECORDS_OFFICERS, query=with_package),
    "package-list-failed": PageSpec(
        "packages:export_list",
        REGISTRAR,
        then=fill_and_submit(date_from="2025-02-01", date_to="2025-01-01"),
    ),
    "account-snapshots": PageSpec("packages:account_snapshots", SIGNED_IN, home_account),
    "account-create-failed": PageSpec("channels:account_create", MANAGER, then=submit),
    "account-edit": PageSpec("channels:account_edit", MANAGERS, home_account),
    "account-capture": PageSpec("channels:account_capture", SIGNED_IN, connected_account),
    "account-capture-unconnected": PageSpec("channels:account_capture", VIEWER, home_account),
    "account-reconnect": PageSpec("channels:account_reconnect", MANAGERS, connected_account),
    "account-reconnect-failed": PageSpec(
        "channels:account_reconnect", MANAGER, connected_account, then=submit
    ),
    "account-completeness": PageSpec("channels:account_completeness", SIGNED_IN, connected_account),
    # Comment policies.
    "policy-list": PageSpec("channels:policy_list", SIGNED_IN),
    "policy-detail": PageSpec("channels:policy_detail", SIGNED_IN, kultur_policy),
    "policy-create": PageSpec("channels:policy_create", MANAGERS),
    "policy-create-failed": PageSpec("channels:policy_create", MANAGER, then=submit),
    "policy-version-create": PageSpec("channels:policy_version_create", MANAGERS, kultur_policy),
    "policy-version": PageSpec(
        "channels:policy_version_detail", SIGNED_IN, kultur_policy_version(1)
    ),
    "policy-version-publish": PageSpec(
        "channels:policy_version_publish", MANAGERS, kultur_policy_version(2)
    ),
    "policy-version-publish-failed": PageSpec(
        "channels:policy_version_publish",
        MANAGER,
        kultur_policy_version(2),
        then=fill_and_submit(published_url="not an address"),
    ),
    # The records archive (R12).
    "record-list": PageSpec("archive:record_list", SIGNED_IN, query=with_records("")),
    "record-list-filtered": PageSpec(
        "archive:record_list", VIEWER, query=with_records("?q=hus&direction=drawn_up&edited=yes")
    ),
    "record-list-no-match": PageSpec("archive:record_list", VIEWER, query="?q=nothing"),
    "record-detail": PageSpec("archive:record_detail", SIGNED_IN, home_record),
    "record-detail-media": PageSpec("archive:record_detail", SIGNED_IN, home_record_with_media),
    # The audit log and people.
    "audit-log": PageSpec("core:audit_log", AUDIT_READERS),
    "audit-log-filtered": PageSpec(
        "core:audit_log", AUDIT_READERS, query="?q=kultur&action=create"
    ),
    "person-list": PageSpec("core:person_list", ADMIN),
    "person-create": PageSpec("core:person_create", ADMIN),
    "person-create-failed": PageSpec("core:person_create", ADMIN, then=submit),
    "person-edit": PageSpec("core:person_edit", ADMIN, oscar),
    # Records management (R27, R28, R13).
    "retention-rules": PageSpec("retention:rule_list", RECORDS_OFFICERS),
    "retention-rules-listed": PageSpec(
        "retention:rule_list", REGISTRAR, query=lambda cast, role: (rule_kwargs(cast, role), "")[1]
    ),
    "retention-rule-create": PageSpec("retention:rule_create", RECORDS_OFFICERS),
    "retention-rule-create-failed": PageSpec("retention:rule_create", REGISTRAR, then=submit),
    "retention-rule": PageSpec("retention:rule_detail", RECORDS_OFFICERS, rule_kwargs),
    "retention-run": PageSpec("retention:run_detail", RECORDS_OFFICERS, run_kwargs),
    "retention-run-commit": PageSpec("retention:run_commit", RECORDS_OFFICERS, run_kwargs),
    "retention-log": PageSpec("retention:disposal_log", RECORDS_OFFICERS, query=with_disposal_log),
    "retention-log-empty": PageSpec("retention:disposal_log", REGISTRAR),
    "retention-holds": PageSpec("retention:hold_list", RECORDS_OFFICERS, query=with_holds),
    "retention-hold-create": PageSpec("retention:hold_create", RECORDS_OFFICERS),
    "retention-hold-create-item": PageSpec("retention:hold_create", REGISTRAR, query=item_query),
    "retention-hold-create-failed": PageSpec(
        "retention:hold_create", REGISTRAR, query=item_query, then=submit
    ),
    "retention-hold-release": PageSpec("retention:hold_release", RECORDS_OFFICERS, hold_kwargs),
    "retention-erasure-list": PageSpec(
        "retention:erasure_list", RECORDS_OFFICERS, query=with_erasure
    ),
    "retention-erasure-create": PageSpec(
        "retention:erasure_create", RECORDS_OFFICERS, query=item_query
    ),
    "retention-erasure-create-failed": PageSpec("retention:erasure_create", REGISTRAR, then=submit),
    "retention-erasure": PageSpec("retention:erasure_detail", RECORDS_OFFICERS, erasure_kwargs),
    "retention-erasure-decide": PageSpec(
        "retention:erasure_decide", RECORDS_OFFICERS, erasure_kwargs
    ),
    "registry-list": PageSpec("retention:registry_list", RECORDS_OFFICERS, query=with_registry),
    "registry-entry": PageSpec("retention:registry_detail", RECORDS_OFFICERS, registry_kwargs),
    "registry-lift": PageSpec("retention:registry_lift", RECORDS_OFFICERS, registry_kwargs),
    "registry-flag-case": PageSpec(
        "retention:registry_flag", RECORDS_OFFICERS, flag_kwargs("case")
    ),
    "registry-flag-secret-failed": PageSpec(
        "retention:registry_flag", REGISTRAR, flag_kwargs("secret"), then=submit
    ),
    # Requests for public records (R23–R26).
    "request-list": PageSpec("disclosure:request_list", REQUEST_HANDLERS, query=with_request),
    "request-list-empty": PageSpec("disclosure:request_list", ONE_HANDLER),
    "request-create": PageSpec("disclosure:request_create", REQUEST_HANDLERS),
    "request-create-failed": PageSpec("disclosure:request_create", ONE_HANDLER, then=submit),
    "request-detail": PageSpec("disclosure:request_detail", REQUEST_HANDLERS, request_kwargs),
    "request-compile": PageSpec("disclosure:request_compile", REQUEST_HANDLERS, request_kwargs),
    "request-compile-results": PageSpec(
        "disclosure:request_compile", ONE_HANDLER, request_kwargs, query="?author=%40erik"
    ),
    "request-item": PageSpec("disclosure:request_item", REQUEST_HANDLERS, request_item_kwargs),
    # Moderation (R15–R22).
    "moderation-overview": PageSpec(
        "moderation:overview", SIGNED_IN, query=moderation.with_escalation
    ),
    "moderation-queue": PageSpec(
        "moderation:queue", moderation.MODERATION_READERS, moderation.queue_kwargs
    ),
    "moderation-queue-filtered": PageSpec(
        "moderation:queue",
        frozenset({"moderator"}),
        moderation.queue_kwargs,
        query="?q=klockor&kind=comment&show=all",
    ),
    "moderation-item": PageSpec(
        "moderation:item_moderate", moderation.MODERATORS, moderation.item_kwargs
    ),
    "moderation-item-failed": PageSpec(
        "moderation:item_moderate", frozenset({"moderator"}), moderation.item_kwargs, then=submit
    ),
    "moderation-log": PageSpec(
        "moderation:log", moderation.MODERATION_READERS, moderation.log_kwargs
    ),
    "moderation-decision": PageSpec(
        "moderation:action_detail", moderation.MODERATION_READERS, moderation.decision_kwargs
    ),
    "moderation-escalations": PageSpec(
        "moderation:escalation_list",
        moderation.ESCALATION_READERS,
        query=moderation.with_escalation,
    ),
    "moderation-escalation": PageSpec(
        "moderation:escalation_detail", moderation.ESCALATION_READERS, moderation.escalation_kwargs
    ),
    "moderation-escalation-close-failed": PageSpec(
        "moderation:escalation_detail",
        MANAGER,
        moderation.escalation_kwargs,
        then=submit,
    ),
    # The critique radar (tests/browser/radar_pages.py makes its alert and items).
    "radar-alerts": PageSpec("radar:alert_list", radar.RADAR, query=radar.with_alert),
    "radar-alert": PageSpec("radar:alert_detail", radar.RADAR, radar.alert_kwargs),
    "radar-classifier": PageSpec("radar:classifier", radar.RADAR, query=radar.with_training),
    "radar-item": PageSpec("radar:item_explain", radar.RADAR, radar.item_kwargs),
    "radar-item-restricted": PageSpec("radar:item_explain", MANAGER, radar.restricted_item_kwargs),
    # The inbox (tests/browser/inbox_support.py makes its conversations).
    "inbox": PageSpec("inbox:inbox", SIGNED_IN, query=inbox.with_conversations),
    "inbox-all": PageSpec("inbox:inbox", MANAGER, query=inbox.with_conversations_all),
    "inbox-empty": PageSpec("inbox:inbox", VIEWER, query="?view=done&author=nobody"),
    "conversation": PageSpec(
        "inbox:conversation_detail",
        SIGNED_IN,
        inbox.home_conversation,
        then=inbox.suggestions_loaded,
        refused=False,
    ),
    "conversation-saved-reply": PageSpec(
        "inbox:conversation_detail",
        MANAGERS | {"responder"},
        inbox.connected_conversation,
        then=inbox.saved_reply_chosen,
        refused=False,
    ),
    "conversation-failed": PageSpec(
        "inbox:conversation_detail", MANAGER, inbox.home_conversation, then=inbox.note_refused
    ),
    "inbox-response-times": PageSpec(
        "inbox:response_times", SIGNED_IN, query=inbox.with_conversations
    ),
    "saved-reply-list": PageSpec(
        "inbox:saved_reply_list", SIGNED_IN, query=inbox.with_saved_replies
    ),
    "saved-reply-create": PageSpec("inbox:saved_reply_create", MANAGERS),
    "saved-reply-create-failed": PageSpec(
        "inbox:saved_reply_create", MANAGER, then=fill_and_submit(title="X", body="Hej {namn}")
    ),
    "saved-reply-edit": PageSpec("inbox:saved_reply_edit", MANAGERS, inbox.saved_reply_kwargs),
    "routing-rule-list": PageSpec("inbox:routing_rule_list", ADMIN, query=inbox.with_routing_rules),
    "routing-rule-create": PageSpec("inbox:routing_rule_create", ADMIN),
    "routing-rule-create-failed": PageSpec("inbox:routing_rule_create", ADMIN, then=submit),
    "routing-rule-edit": PageSpec("inbox:routing_rule_edit", ADMIN, inbox.routing_rule_kwargs),
}

# The error pages, reached the way people reach them.
ERROR_PAGES: dict[str, tuple[str, int, frozenset[str]]] = {
    "not-found": ("/no-such-page/", 404, EVERYONE),
    "forbidden": ("/people/", 403, SIGNED_IN - ADMIN),
}

# URL names that are no page of their own: actions (POST only), redirects, downloads and
# machine endpoints.
NOT_PAGES = {
    "core:logout",
    "core:set_language",
    "core:health",
    "channels:account_transition",
    "channels:account_export",
    "channels:account_completeness_csv",
    "channels:account_oauth_start",  # POST only: redirects to the instance
    "channels:oauth_callback",  # the instance sends the browser back: redirects on
    "radar:alert_acknowledge",  # POST only
    "radar:classifier_train",  # POST only
    "radar:item_category",  # POST only
    "archive:record_export",
    "archive:record_media",
    "packages:export_download",  # a zip file
    "packages:account_snapshot_create",  # POST only
    "retention:rule_deactivate",
    "retention:run_create",
    "retention:registry_export",
    "disclosure:request_compile_add",
    "disclosure:request_close",
    "disclosure:request_reassign",
    "disclosure:delivery_create",
    "disclosure:delivery_file",
    "disclosure:delivery_status",  # a fragment of the request page, polled by it
    "disclosure:delivery_retry",
    "disclosure:request_item_decide",
    "disclosure:request_item_remove",
    "disclosure:redaction_add",
    "disclosure:redaction_accept",
    "disclosure:redaction_reject",
    "moderation:queue_review",  # POST only
    "moderation:action_rendering",  # a PDF
    "moderation:escalation_bundle",  # a zip file
    "moderation:escalation_close",  # POST only (its errors are checked on the escalation page)
    "inbox:inbox_news",  # a fragment of the inbox list, polled by it
    "inbox:inbox_bulk",
    "inbox:conversation_updates",  # a fragment of the conversation page, polled by it
    "inbox:conversation_suggestions",  # a fragment of the conversation page (checked there)
    "inbox:conversation_saved_reply",  # a fragment of the conversation page (checked there)
    "inbox:conversation_reply",
    "inbox:conversation_assign",
    "inbox:conversation_assign_me",
    "inbox:conversation_move",
    "inbox:conversation_status",
    "inbox:conversation_answered",
    "inbox:conversation_category",
    "inbox:conversation_note",
    "inbox:conversation_register",
}

CASES = [
    pytest.param(role, language, name, id=f"{role}-{language}-{name}")
    for role in ROLES
    for language in LANGUAGES
    for name, roles in [
        *((name, spec.roles) for name, spec in PAGES.items()),
        *((name, roles) for name, (_, _, roles) in ERROR_PAGES.items()),
    ]
    if role in roles
]


@pytest.mark.browser
@pytest.mark.django_db
@pytest.mark.parametrize(("role", "language", "name"), CASES)
def test_page_meets_wcag_21_aa(
    sessions: Callable[[str], Session],
    server_url: str,
    cast: Cast,
    role: str,
    language: str,
    name: str,
) -> None:
    session = sessions(role)
    page = session.page
    set_language(session.context, server_url, language)
    if name in ERROR_PAGES:
        path, status, _ = ERROR_PAGES[name]
        spec = None
    else:
        spec = PAGES[name]
        path, status = spec.path(cast, role), spec.status
    response = page.goto(path)
    assert response is not None
    assert response.status == status, f"{role} opened {page.url}: {response.status}"
    if spec is not None and spec.then is not None:
        spec.then(page, cast)
        errors_shown = page.locator("[data-error-summary]").count()
        assert errors_shown == int(spec.refused), f"{errors_shown} error summaries on {page.url}"
    assert page.locator("html").get_attribute("lang") == language
    violations = axe_violations(page)
    assert not violations, (
        f"{len(violations)} WCAG 2.1 A/AA violations on {page.url} ({role}, {language}):\n"
        + format_violations(violations)
    )


def _url_names(resolver: URLResolver | None = None, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            names |= _url_names(entry, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(prefix + entry.name)
    return names


@pytest.mark.browser
def test_every_page_is_checked() -> None:
    """Each of the app's own URL patterns is either checked above or is not a page."""
    own = {name for name in _url_names() if not name.startswith("admin:")}
    checked = {spec.url_name for spec in PAGES.values()}
    assert own - checked - NOT_PAGES == set(), "pages without an accessibility check"
