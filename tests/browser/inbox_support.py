"""Inbox data for the browser checks: conversations, an earlier answer, saved replies, a rule.

Each helper writes in the calling test's transaction (rolled back afterwards) and may be called
again by the next test. Conversations come from captures in the role's home account, derived
by the inbox as in production; kultur's people see kultur's, bob sees gata-park's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from playwright.sync_api import Page

from tests.browser.support import Cast


def _capture(remote_id: str, text: str, minutes_ago: int, **extra: Any) -> Any:
    from narvaro.archive.capture import CaptureInput

    fields: dict[str, Any] = {
        "platform": "mastodon",
        "kind": "mention",
        "direction": "received",
        "author_handle": "@anna@social.example",
        "author_name": "Anna",
        "permalink": f"https://social.example/@anna/{remote_id}",
        "raw_payload": '{"id": "' + remote_id + '"}',
        "created_at": timezone.now() - dt.timedelta(minutes=minutes_ago),
    }
    fields.update(extra)
    return CaptureInput(remote_id=remote_id, text=text, **fields)


def home_conversations(cast: Cast, role: str) -> list[int]:
    """Three conversations in the role's home account, newest first; the oldest was answered
    (an earlier answer for the suggestions), the middle one is overdue and assigned."""
    from narvaro.archive.services import capture_batch
    from narvaro.inbox.derive import conversations_derive
    from narvaro.inbox.models import Conversation, SavedReply, Status

    account = cast.home_account(role)
    unit = cast.home_unit(role)
    prefix = f"inbox-{account.pk}"
    capture_batch(
        account=account,
        captures=[
            _capture(f"{prefix}-old", "Vilka öppettider har biblioteket på lördagar?", 600),
            _capture(
                f"{prefix}-answer",
                "Hej! Biblioteket har öppet klockan 10–14 på lördagar.",
                590,
                kind="reply",
                direction="drawn_up",
                author_handle=account.handle,
                author_name=unit.name,
                parent_remote_id=f"{prefix}-old",
            ),
            _capture(
                f"{prefix}-late",
                "Ingen har svarat på min fråga om parkeringen!",
                300,
                author_handle="@bo@example.net",
                author_name="Bo",
            ),
            _capture(f"{prefix}-new", "Hej, vilka öppettider har biblioteket på lördag?", 5),
        ],
        source="browser",
    )
    conversations_derive()
    conversations = {
        c.root_item.remote_id: c
        for c in Conversation.objects.filter(account=account).select_related("root_item")
    }
    late = conversations[f"{prefix}-late"]
    Conversation.objects.filter(pk=late.pk).update(
        due_at=timezone.now() - dt.timedelta(hours=1),
        status=Status.OPEN,
        assignee=cast.people["alice" if role != "publisher" else "bob"],
        category="critique",
    )
    SavedReply.objects.get_or_create(
        unit=unit,
        title="Öppettider",
        defaults={
            "body": "Hej {name}! Våra öppettider finns på webben. Hälsningar {signature}, {unit}",
        },
    )
    SavedReply.objects.get_or_create(
        unit=unit,
        title="Referral",
        defaults={
            "language": "en",
            "purpose": SavedReply.Purpose.REFERRAL,
            "body": "Hi {name}, we cannot handle your case here. Please write to {contact}.",
        },
    )
    return [conversations[f"{prefix}-{key}"].pk for key in ("new", "late", "old")]


def with_conversations(cast: Cast, role: str) -> str:
    home_conversations(cast, role)
    return ""


def with_conversations_all(cast: Cast, role: str) -> str:
    home_conversations(cast, role)
    return "?view=all"


def home_conversation(cast: Cast, role: str) -> dict[str, Any]:
    """The newest conversation: a question that an earlier answer and a saved reply fit."""
    return {"pk": home_conversations(cast, role)[0]}


def connected_conversation(cast: Cast, role: str) -> dict[str, Any]:
    """The newest conversation, on an account with a working connection (the reply form)."""
    from narvaro.channels.connectors.base import Profile
    from narvaro.channels.harvest import connection_save

    account = cast.home_account(role)
    connection_save(
        actor=None,
        account=account,
        base_url="https://social.example",
        credentials={"access_token": "browser-check"},
        profile=Profile(platform="mastodon", handle=account.handle, platform_id="1"),
    )
    return home_conversation(cast, role)


def saved_reply_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    from narvaro.inbox.models import SavedReply

    home_conversations(cast, role)
    return {"pk": SavedReply.objects.get(unit=cast.home_unit(role), title="Öppettider").pk}


def with_saved_replies(cast: Cast, role: str) -> str:
    home_conversations(cast, role)
    return ""


def routing_rule_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    from narvaro.inbox.models import RoutingRule

    rule, _ = RoutingRule.objects.get_or_create(
        name="Snöröjning",
        defaults={
            "keywords": "snöröjning\nplogning",
            "target_unit": cast.units["gata-park"],
            "scope_unit": cast.units["kommunledning"],
            "assignee": cast.people["bob"],
        },
    )
    return {"pk": rule.pk}


def with_routing_rules(cast: Cast, role: str) -> str:
    routing_rule_kwargs(cast, role)
    from narvaro.inbox.models import RoutingRule

    RoutingRule.objects.get_or_create(
        name="Kritik till kommunledningen",
        defaults={"category": "critique", "target_unit": cast.units["kommunledning"]},
        active=False,
    )
    return ""


def suggestions_loaded(page: Page, cast: Cast) -> None:
    """Wait until the suggested answers are in the page (htmx loads them after the page)."""
    if page.locator("#suggestions").count():
        page.wait_for_selector("#suggestions .suggestions, #suggestions [data-no-suggestions]")


def saved_reply_chosen(page: Page, cast: Cast) -> None:
    """Load the suggestions, then put the first saved reply into the reply box."""
    suggestions_loaded(page, cast)
    button = page.locator(".saved-replies button").first
    if button.count():
        button.click()
        page.wait_for_function(
            "() => (document.querySelector('#reply-box textarea')?.value || '').length > 0"
            " || !document.querySelector('#reply-box textarea')"
        )


def note_refused(page: Page, cast: Cast) -> None:
    """Add an empty internal note: refused, with the error summary."""
    with page.expect_navigation():
        page.locator("main form[action$='/note/'] button[type=submit]").click()
