"""Conversations derived from the archive feed: every inbound item lands in one.

`conversations_derive` reads the archive items past the inbox's cursor (`archive.feed`) and,
for each, in capture order:

- an inbound item (a mention, a reply or comment to us, a direct message from someone else)
  joins the conversation of the item it answers (directly, or through our reply to it) or of
  its direct-message thread; otherwise it opens a new conversation, routed to a unit;
- a reply we drew up (sent from Narvaro or straight on the platform, found by the harvest)
  to an item of a conversation is linked to it as our response, which sets the first
  response and, when it answers the sender's latest message, marks the conversation answered.

A new message in a conversation that was answered, referred or closed reopens it. Items that
were already old when first captured (an import of a year of history) open closed
conversations, so an import does not flood the inbox. Deriving is idempotent: an item is in
at most one conversation, and the cursor moves in the same transaction as the writes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from narvaro.archive.feed import feed_process
from narvaro.archive.models import Direction, Item, ItemVersion, Kind
from narvaro.inbox.models import (
    DONE_STATUSES,
    Conversation,
    ConversationEvent,
    ConversationItem,
    RoutingRule,
    Status,
)
from narvaro.inbox.targets import TargetClock

CONSUMER = "inbox"
INBOUND_KINDS = frozenset({Kind.MENTION, Kind.REPLY, Kind.COMMENT, Kind.DIRECT_MESSAGE})


@dataclass
class DeriveResult:
    conversations: int = 0
    inbound: int = 0
    responses: int = 0
    reopened: int = 0
    conversation_ids: set[int] = field(default_factory=set)


def conversations_derive(*, limit: int | None = None) -> DeriveResult:
    """Derive conversations from every archive item the inbox has not yet seen."""
    result = DeriveResult()
    feed_process(CONSUMER, lambda items: _derive(items, result), limit=limit)
    return result


def is_inbound(item: Item) -> bool:
    return item.direction == Direction.RECEIVED and item.kind in INBOUND_KINDS


def _item_time(item: Item) -> dt.datetime:
    return item.created_at or item.first_seen_at


@dataclass
class _Rule:
    rule: RoutingRule
    scope: frozenset[int] | None
    keywords: re.Pattern[str] | None
    authors: frozenset[str]


def _compiled_rules() -> list[_Rule]:
    from narvaro.organisation.selectors import unit_children_map, unit_subtree_ids

    rules = list(RoutingRule.objects.filter(active=True).select_related("target_unit"))
    children = unit_children_map() if any(r.scope_unit_id for r in rules) else {}
    compiled = []
    for rule in rules:
        words = [w.strip() for w in rule.keywords.splitlines() if w.strip()]
        compiled.append(
            _Rule(
                rule=rule,
                scope=(
                    frozenset(unit_subtree_ids({rule.scope_unit_id}, children))
                    if rule.scope_unit_id
                    else None
                ),
                keywords=(
                    re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + ")", re.I)
                    if words
                    else None
                ),
                authors=frozenset(
                    a.strip().casefold() for a in rule.authors.splitlines() if a.strip()
                ),
            )
        )
    return compiled


def route(
    rules: list[_Rule], *, account_unit_id: int, text: str, author: str, category: str
) -> RoutingRule | None:
    """The first rule that matches, or None (the conversation stays with the account's unit)."""
    for compiled in rules:
        rule = compiled.rule
        if compiled.scope is not None and account_unit_id not in compiled.scope:
            continue
        if compiled.keywords is not None and not compiled.keywords.search(text):
            continue
        if compiled.authors and author.casefold() not in compiled.authors:
            continue
        if rule.category and rule.category != category:
            continue
        if compiled.keywords is None and not compiled.authors and not rule.category:
            continue  # a rule without any condition would take everything
        return rule
    return None


def _classify(item_ids: list[int]) -> tuple[dict[int, str], dict[int, list[str]]]:
    """The radar's category and flags of each item, when the radar is installed."""
    if not item_ids or not apps.is_installed("narvaro.radar"):
        return {}, {}
    from narvaro.radar.selectors import item_flags
    from narvaro.radar.services import items_classify

    return items_classify(item_ids), item_flags(item_ids)


def _first_texts(item_ids: list[int]) -> dict[int, str]:
    texts: dict[int, str] = {}
    rows = ItemVersion.objects.filter(item_id__in=item_ids).order_by("item_id", "-number")
    for item_id, text in rows.values_list("item_id", "text"):
        texts.setdefault(item_id, text or "")  # the newest version's text
    return texts


def _derive(items_qs: QuerySet[Item], result: DeriveResult) -> None:
    items = list(items_qs.select_related("account"))
    relevant = [i for i in items if is_inbound(i) or i.parent_remote_id]
    if not relevant:
        return
    now = timezone.now()
    history_before = now - dt.timedelta(days=settings.NARVARO_INBOX_HISTORY_DAYS)
    # The items answered by these ones, and what those answered in turn (our reply between).
    by_key: dict[tuple[str, str], Item] = {(i.platform, i.remote_id): i for i in items}
    wanted = {(i.platform, i.parent_remote_id) for i in relevant if i.parent_remote_id}
    _load_items(wanted - by_key.keys(), by_key)
    grand = {
        (p.platform, p.parent_remote_id)
        for key in wanted
        if (p := by_key.get(key)) is not None and p.parent_remote_id
    }
    _load_items(grand - by_key.keys(), by_key)
    known_ids = [i.pk for i in by_key.values()]
    conv_of: dict[int, int] = dict(
        ConversationItem.objects.filter(item_id__in=known_ids).values_list(
            "item_id", "conversation_id"
        )
    )
    conversations: dict[int, Conversation] = {
        c.pk: c
        for c in Conversation.objects.filter(pk__in=set(conv_of.values())).select_related("unit")
    }
    inbound_new = [i for i in relevant if is_inbound(i) and i.pk not in conv_of]
    inbound_ids = [i.pk for i in inbound_new]
    categories, flags = _classify(inbound_ids)
    texts = _first_texts(inbound_ids)
    rules = _compiled_rules() if inbound_new else []
    dm_keys = {
        f"dm:{i.thread_remote_id}"
        for i in inbound_new
        if i.kind == Kind.DIRECT_MESSAGE and i.thread_remote_id
    }
    by_dm_key: dict[tuple[int, str], Conversation] = {
        (c.account_id, c.key): c
        for c in Conversation.objects.filter(key__in=dm_keys).select_related("unit")
    }
    clock = TargetClock()
    new_entries: list[ConversationItem] = []
    new_events: list[ConversationEvent] = []
    touched: dict[int, Conversation] = {}

    def conversation_of(item: Item | None) -> Conversation | None:
        if item is None or item.pk not in conv_of:
            return None
        return conversations[conv_of[item.pk]]

    for item in items:
        if item.pk in conv_of:
            continue
        at = _item_time(item)
        parent = (
            by_key.get((item.platform, item.parent_remote_id)) if item.parent_remote_id else None
        )
        if is_inbound(item):
            conversation = conversation_of(parent)
            if conversation is None and parent is not None and parent.parent_remote_id:
                # The sender answered our reply: the conversation of what we replied to.
                conversation = conversation_of(
                    by_key.get((parent.platform, parent.parent_remote_id))
                )
            dm_key = (
                f"dm:{item.thread_remote_id}"
                if item.kind == Kind.DIRECT_MESSAGE and item.thread_remote_id
                else ""
            )
            if conversation is None and dm_key:
                conversation = by_dm_key.get((item.account_id, dm_key))
            historical = at < history_before
            if conversation is None:
                text = texts.get(item.pk, "")
                category = categories.get(item.pk, "")
                rule = route(
                    rules,
                    account_unit_id=item.account.unit_id,
                    text=text,
                    author=item.author_handle,
                    category=category,
                )
                unit_id = rule.target_unit_id if rule else item.account.unit_id
                conversation = Conversation(
                    account_id=item.account_id,
                    unit_id=unit_id,
                    key=dm_key or f"item:{item.pk}",
                    root_item=item,
                    status=Status.CLOSED if historical else Status.NEW,
                    assignee_id=rule.assignee_id if rule else None,
                    category=category,
                    author_handle=item.author_handle[:300],
                    restricted="personnummer" in flags.get(item.pk, []),
                    opened_at=at,
                    last_inbound_at=at,
                    waiting_since=None if historical else at,
                    due_at=None if historical else clock.due_at(unit_id, at),
                    closed_at=now if historical else None,
                    inbound_count=1,
                    updated_at=now,
                )
                conversation.save()
                result.conversations += 1
                conversations[conversation.pk] = conversation
                if dm_key:
                    by_dm_key[(item.account_id, dm_key)] = conversation
                new_events.append(
                    ConversationEvent(
                        conversation=conversation,
                        type=ConversationEvent.Type.CREATED,
                        at=now,
                        details={"item": item.pk, "history": historical},
                    )
                )
                if rule is not None:
                    new_events.append(
                        ConversationEvent(
                            conversation=conversation,
                            type=ConversationEvent.Type.ROUTED,
                            at=now,
                            details={"rule": rule.pk, "rule_name": rule.name, "unit": unit_id},
                        )
                    )
            else:
                conversation.inbound_count += 1
                if at > conversation.last_inbound_at:
                    conversation.last_inbound_at = at
                    if "personnummer" in flags.get(item.pk, []):
                        conversation.restricted = True
                    if not historical and (
                        conversation.status in DONE_STATUSES
                        or conversation.status == Status.WAITING
                    ):
                        new_events.append(
                            ConversationEvent(
                                conversation=conversation,
                                type=ConversationEvent.Type.REOPENED,
                                at=now,
                                details={"item": item.pk, "from": conversation.status},
                            )
                        )
                        conversation.status = Status.OPEN
                        conversation.closed_at = None
                        conversation.waiting_since = at
                        conversation.due_at = clock.due_at(conversation.unit_id, at)
                        result.reopened += 1
                touched[conversation.pk] = conversation
            conv_of[item.pk] = conversation.pk
            new_entries.append(
                ConversationItem(
                    conversation=conversation, item=item, role=ConversationItem.Role.INBOUND, at=at
                )
            )
            result.inbound += 1
            result.conversation_ids.add(conversation.pk)
        elif item.direction == Direction.DRAWN_UP and parent is not None:
            conversation = conversation_of(parent)
            if conversation is None:
                continue
            _response_record(conversation, at)
            touched[conversation.pk] = conversation
            conv_of[item.pk] = conversation.pk
            new_entries.append(
                ConversationItem(
                    conversation=conversation, item=item, role=ConversationItem.Role.RESPONSE, at=at
                )
            )
            result.responses += 1
            result.conversation_ids.add(conversation.pk)
    ConversationItem.objects.bulk_create(new_entries)
    ConversationEvent.objects.bulk_create(new_events)
    for conversation in touched.values():
        conversation.updated_at = now
        conversation.save()


def _response_record(conversation: Conversation, at: dt.datetime) -> None:
    """Our reply at `at`: the first response, and answered when it follows the last message."""
    if conversation.first_response_at is None or at < conversation.first_response_at:
        conversation.first_response_at = at
    if at >= conversation.last_inbound_at and conversation.status in (
        Status.NEW,
        Status.OPEN,
        Status.WAITING,
    ):
        conversation.status = Status.ANSWERED
        conversation.answered_at = at
        conversation.waiting_since = None


def _load_items(keys: set[tuple[str, str]], into: dict[tuple[str, str], Item]) -> None:
    if not keys:
        return
    remote_ids = {remote_id for _, remote_id in keys}
    for item in Item.objects.filter(remote_id__in=remote_ids).select_related("account"):
        if (item.platform, item.remote_id) in keys:
            into[(item.platform, item.remote_id)] = item
