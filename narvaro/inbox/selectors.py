"""Reads of the inbox, always scoped to the person asking.

A conversation belongs to the unit it is routed to: a person sees the conversations of the
units they hold VIEW in (and the units below), and answers those they hold RESPOND in.
Admins and registrars see every conversation. The text shown is read from the archive, so a
secret-flagged or disposed item shows as such here too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from narvaro.archive.models import Item, ItemEvent, ItemVersion
from narvaro.archive.selectors import sees_secret_records
from narvaro.core.models import User
from narvaro.inbox.models import (
    ACTIVE_STATUSES,
    Conversation,
    ConversationEvent,
    ConversationItem,
    SavedReply,
    Status,
)
from narvaro.inbox.suggest import AnswerIndex, Candidate, guess_language
from narvaro.organisation.models import Membership, Unit
from narvaro.organisation.roles import ROLE_CAPABILITIES, Capability
from narvaro.organisation.selectors import (
    unit_access,
    unit_chain_ids,
    unit_children_map,
    unit_subtree_ids,
)

# The roles that may answer conversations.
RESPOND_ROLES = tuple(r for r, caps in ROLE_CAPABILITIES.items() if Capability.RESPOND in caps)


def _secret_root() -> Exists:
    return Exists(
        ItemEvent.objects.filter(
            item=OuterRef("root_item"), type=ItemEvent.Type.FLAGGED_SECRET
        ).exclude(
            Exists(
                ItemEvent.objects.filter(
                    item=OuterRef("item"),
                    type=ItemEvent.Type.SECRET_LIFTED,
                    seq__gt=OuterRef("seq"),
                )
            )
        )
    )


def _visible(user: User, conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    ids = unit_access(user).unit_ids(Capability.VIEW)
    if ids is not None:
        conversations = conversations.filter(unit_id__in=ids)
    if not sees_secret_records(user):
        conversations = conversations.exclude(_secret_root())
    return conversations


@dataclass(frozen=True)
class InboxFilters:
    """What the inbox list is narrowed to. Empty values mean "any"."""

    view: str = "active"  # active, mine, unassigned, waiting, done, overdue, all
    unit: Unit | None = None
    include_subunits: bool = True
    account_id: int | None = None
    category: str = ""
    author: str = ""
    assignee_id: int | None = None


VIEWS = ("active", "mine", "unassigned", "waiting", "overdue", "done", "all")


def conversation_list_for_user(
    user: User, filters: InboxFilters | None = None
) -> QuerySet[Conversation]:
    """The conversations `user` may see, narrowed by `filters`, newest message first."""
    filters = filters or InboxFilters()
    conversations = _visible(user, Conversation.objects.all())
    if filters.unit is not None:
        if filters.include_subunits:
            units = unit_subtree_ids({filters.unit.pk}, unit_children_map())
            conversations = conversations.filter(unit_id__in=units)
        else:
            conversations = conversations.filter(unit=filters.unit)
    view = filters.view
    if view == "active":
        conversations = conversations.filter(status__in=ACTIVE_STATUSES)
    elif view == "mine":
        conversations = conversations.filter(
            assignee=user, status__in=(*ACTIVE_STATUSES, Status.WAITING)
        )
    elif view == "unassigned":
        conversations = conversations.filter(assignee__isnull=True, status__in=ACTIVE_STATUSES)
    elif view == "waiting":
        conversations = conversations.filter(status=Status.WAITING)
    elif view == "overdue":
        conversations = conversations.filter(status__in=ACTIVE_STATUSES, due_at__lt=timezone.now())
    elif view == "done":
        conversations = conversations.filter(
            status__in=(Status.ANSWERED, Status.REFERRED, Status.REGISTERED, Status.CLOSED)
        )
    if filters.account_id:
        conversations = conversations.filter(account_id=filters.account_id)
    if filters.category:
        conversations = conversations.filter(category=filters.category)
    if filters.author:
        conversations = conversations.filter(author_handle__icontains=filters.author)
    if filters.assignee_id:
        conversations = conversations.filter(assignee_id=filters.assignee_id)
    order = ["due_at", "id"] if view == "overdue" else ["-last_inbound_at", "-id"]
    return conversations.select_related("account", "unit", "assignee").order_by(*order)


def conversations_in_order(ids: list[int]) -> list[Conversation]:
    """The conversations of `ids`, a page of `conversation_list_for_user`, in that order.

    The list pages through primary keys only (the index holds them in order), and this reads
    the page's rows with what a row shows: sorting whole joined rows cost most of the page at
    100,000 conversations (bench/inbox_list.py).
    """
    found = Conversation.objects.select_related("account", "unit", "assignee").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


@dataclass(frozen=True)
class Row:
    """One line of the inbox list."""

    conversation: Conversation
    preview: str
    overdue: bool


PREVIEW_LENGTH = 140


def conversation_rows(conversations: list[Conversation], user: User) -> list[Row]:
    """The list's lines: a preview of each sender's first message (restricted ones hidden)."""
    root_ids = [c.root_item_id for c in conversations]
    texts: dict[int, str] = {}
    for item_id, text in (
        ItemVersion.objects.filter(item_id__in=root_ids)
        .order_by("item_id", "-number")
        .values_list("item_id", "text")
    ):
        texts.setdefault(item_id, text or "")
    moderates = unit_access(user).unit_ids(Capability.MODERATE)
    now = timezone.now()
    rows = []
    for conversation in conversations:
        text = texts.get(conversation.root_item_id, "")
        if conversation.restricted and not (
            moderates is None or conversation.unit_id in moderates or user.is_registrar
        ):
            text = ""
        preview = " ".join(text.split())
        if len(preview) > PREVIEW_LENGTH:
            preview = preview[: PREVIEW_LENGTH - 1].rstrip() + "…"
        rows.append(
            Row(
                conversation=conversation,
                preview=preview,
                overdue=bool(
                    conversation.is_active and conversation.due_at and conversation.due_at < now
                ),
            )
        )
    return rows


def get_conversation_for_user(user: User, pk: int, *, act: bool = False) -> Conversation:
    """Conversation `pk` if `user` may see it (404 otherwise) and, with act, answer it (403)."""
    try:
        conversation = (
            _visible(user, Conversation.objects.all())
            .select_related("account", "unit", "assignee", "root_item")
            .get(pk=pk)
        )
    except Conversation.DoesNotExist as exc:
        raise Http404 from exc
    if act and not can_act(user, conversation):
        raise PermissionDenied
    return conversation


def can_act(user: User, conversation: Conversation) -> bool:
    return unit_access(user).allows(conversation.unit_id, Capability.RESPOND)


def sees_restricted(user: User, conversation: Conversation) -> bool:
    """A restricted conversation's text: the unit's moderators, registrars and admins (R33)."""
    return user.is_registrar or unit_access(user).allows(conversation.unit_id, Capability.MODERATE)


def responders_of_unit(unit: Unit) -> list[User]:
    """People who may answer the unit's conversations: a RESPOND role here or above."""
    return list(responders_in(unit_chain_ids(unit)).order_by("first_name", "username"))


def responders_in(units: Any) -> QuerySet[User]:
    """Active people with a RESPOND role in `units` (ids or a unit queryset), and the admins."""
    return User.objects.filter(
        Q(memberships__unit__in=units, memberships__role__in=RESPOND_ROLES)
        | Q(org_role=User.OrgRole.ADMIN),
        is_active=True,
    ).distinct()


@dataclass(frozen=True)
class Entry:
    """One message of a conversation, as the archive holds it now."""

    item: Item
    role: str
    text: str
    edited: bool
    deleted: bool
    hidden: bool
    secret: bool


@dataclass(frozen=True)
class Stamp:
    """What a conversation page shows, counted: the page polls with it to learn of changes.

    Counts, not the highest ids: an id handed out before a slower transaction commits would
    otherwise be skipped. `facts` is a short digest of the facts shown at the top (status,
    unit, assignee, category, due time, first response), which change without an event when
    the classifier's reading or the harvest changes them.
    """

    messages: int
    events: int
    item_events: int
    versions: int
    facts: str

    def encode(self) -> str:
        return f"{self.messages}.{self.events}.{self.item_events}.{self.versions}.{self.facts}"

    @classmethod
    def decode(cls, value: str) -> Stamp | None:
        parts = value.split(".")
        if len(parts) != 5 or not all(p.isdecimal() for p in parts[:4]):
            return None
        messages, events, item_events, versions = (int(p) for p in parts[:4])
        return cls(messages, events, item_events, versions, parts[4])


def _facts_digest(conversation: Conversation) -> str:
    facts = (
        conversation.status,
        conversation.unit_id,
        conversation.assignee_id,
        conversation.category,
        conversation.due_at,
        conversation.first_response_at,
    )
    return hashlib.sha256(repr(facts).encode()).hexdigest()[:12]


def conversation_stamp(conversation: Conversation) -> Stamp:
    """The conversation's stamp now (four counting queries)."""
    item_ids = ConversationItem.objects.filter(conversation=conversation).values("item_id")
    return Stamp(
        messages=ConversationItem.objects.filter(conversation=conversation).count(),
        events=ConversationEvent.objects.filter(conversation=conversation).count(),
        item_events=ItemEvent.objects.filter(item_id__in=item_ids).count(),
        versions=ItemVersion.objects.filter(item_id__in=item_ids).count(),
        facts=_facts_digest(conversation),
    )


@dataclass(frozen=True)
class Timeline:
    entries: list[Entry]
    events: list[ConversationEvent]
    # What the page shows, counted (the poll asks whether it changed).
    stamp: Stamp


def conversation_timeline(conversation: Conversation, user: User) -> Timeline:
    """The messages (newest version of each, with deletion and moderation marks) and events."""
    links = list(
        ConversationItem.objects.filter(conversation=conversation)
        .select_related("item")
        .order_by("at", "id")
    )
    item_ids = [link.item_id for link in links]
    newest: dict[int, tuple[str, int]] = {}
    versions = 0
    for item_id, text, number in (
        ItemVersion.objects.filter(item_id__in=item_ids)
        .order_by("item_id", "-number")
        .values_list("item_id", "text", "number")
    ):
        newest.setdefault(item_id, (text or "", number))
        versions += 1
    marks: dict[int, set[str]] = {}
    item_events = 0
    for item_id, type_ in ItemEvent.objects.filter(item_id__in=item_ids).values_list(
        "item_id", "type"
    ):
        marks.setdefault(item_id, set()).add(type_)
        item_events += 1
    restricted = conversation.restricted and not sees_restricted(user, conversation)
    secret_ok = sees_secret_records(user)
    entries = []
    for link in links:
        text, number = newest.get(link.item_id, ("", 1))
        item_marks = marks.get(link.item_id, set())
        secret = ItemEvent.Type.FLAGGED_SECRET in item_marks and (
            ItemEvent.Type.SECRET_LIFTED not in item_marks
        )
        hide_text = (restricted and link.role == ConversationItem.Role.INBOUND) or (
            secret and not secret_ok
        )
        entries.append(
            Entry(
                item=link.item,
                role=link.role,
                text="" if hide_text else text,
                edited=number > 1,
                deleted=ItemEvent.Type.DELETED in item_marks,
                hidden=ItemEvent.Type.HIDDEN in item_marks
                and ItemEvent.Type.UNHIDDEN not in item_marks,
                secret=secret,
            )
        )
    events = list(
        ConversationEvent.objects.filter(conversation=conversation)
        .select_related("actor")
        .order_by("at", "id")
    )
    return Timeline(
        entries=entries,
        events=events,
        stamp=Stamp(
            messages=len(links),
            events=len(events),
            item_events=item_events,
            versions=versions,
            facts=_facts_digest(conversation),
        ),
    )


def saved_replies_for(conversation: Conversation) -> QuerySet[SavedReply]:
    """The saved replies of the conversation's unit and the units above it."""
    return SavedReply.objects.filter(
        unit_id__in=unit_chain_ids(conversation.unit), active=True
    ).order_by("purpose", "title")


def saved_reply_list_for_user(user: User) -> QuerySet[SavedReply]:
    ids = unit_access(user).unit_ids(Capability.VIEW)
    replies = SavedReply.objects.select_related("unit")
    if ids is not None:
        replies = replies.filter(unit_id__in=ids)
    return replies.order_by("unit__name", "purpose", "title")


def get_saved_reply_for_user(user: User, pk: int, *, write: bool = False) -> SavedReply:
    try:
        saved = SavedReply.objects.select_related("unit").get(pk=pk)
    except SavedReply.DoesNotExist as exc:
        raise Http404 from exc
    access = unit_access(user)
    if not access.allows(saved.unit_id, Capability.VIEW):
        raise Http404
    if write and not access.allows(saved.unit_id, Capability.MANAGE):
        raise PermissionDenied
    return saved


# -- suggested answers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggested:
    """A suggested answer: a saved reply or an earlier answer of the unit."""

    text: str
    score: float
    saved_reply: SavedReply | None
    answered_item_id: int | None
    earlier_question: str


class _IndexCache:
    """The answer indexes of the most recently used units, rebuilt when their answers change."""

    def __init__(self, size: int = 16) -> None:
        self._lock = threading.Lock()
        self._indexes: OrderedDict[int, tuple[tuple[Any, ...], AnswerIndex]] = OrderedDict()
        self.size = size

    def get(self, unit_id: int, stamp: tuple[Any, ...], build: Any) -> AnswerIndex:
        with self._lock:
            found = self._indexes.get(unit_id)
            if found is not None and found[0] == stamp:
                self._indexes.move_to_end(unit_id)
                return found[1]
        index = build()
        with self._lock:
            self._indexes[unit_id] = (stamp, index)
            self._indexes.move_to_end(unit_id)
            while len(self._indexes) > self.size:
                self._indexes.popitem(last=False)
        return index


_index_cache = _IndexCache()
EARLIER_ANSWERS_LIMIT = 5000


def _unit_candidates(unit: Unit) -> tuple[tuple[Any, ...], Any]:
    """The unit's answer candidates (saved replies and earlier answers) and a change stamp."""
    units = unit_subtree_ids({unit.pk}, unit_children_map())
    saved = list(
        SavedReply.objects.filter(
            unit_id__in=unit_chain_ids(unit), active=True, purpose=SavedReply.Purpose.ANSWER
        ).order_by("pk")
    )
    responses = list(
        ConversationItem.objects.filter(
            conversation__unit_id__in=units, role=ConversationItem.Role.RESPONSE
        )
        .order_by("-pk")
        .values_list("pk", "item_id", "item__parent_remote_id", "item__platform")[
            :EARLIER_ANSWERS_LIMIT
        ]
    )
    stamp = (
        tuple((s.pk, s.updated_at) for s in saved),
        responses[0][0] if responses else 0,
        len(responses),
    )
    return stamp, (saved, responses)


def _texts_of(item_ids: list[int]) -> dict[int, str]:
    texts: dict[int, str] = {}
    for start in range(0, len(item_ids), 900):
        for item_id, text in (
            ItemVersion.objects.filter(item_id__in=item_ids[start : start + 900])
            .order_by("item_id", "-number")
            .values_list("item_id", "text")
        ):
            texts.setdefault(item_id, text or "")
    return texts


# The handles an answer opens with name its first recipient, not the next one.
_LEADING_MENTIONS = re.compile(r"^(?:\s*@[\w.-]+(?:@[\w.-]+)?[,:]?)+\s*")


def _build_index(saved: list[SavedReply], responses: list[tuple[Any, ...]]) -> AnswerIndex:
    answer_ids = [r[1] for r in responses]
    parents = {
        (platform, remote_id): pk
        for pk, platform, remote_id in Item.objects.filter(
            remote_id__in=[r[2] for r in responses if r[2]]
        ).values_list("pk", "platform", "remote_id")
    }
    question_of = {r[1]: parents.get((r[3], r[2])) for r in responses}
    texts = _texts_of(answer_ids + [q for q in question_of.values() if q])
    # A saved reply's title names what it answers ("Öppettider"): it stands in for the
    # earlier question an earlier answer has, so the two kinds compete on equal terms.
    candidates = [
        Candidate(text=s.body, key=("saved", s.pk), question=s.title, language=s.language)
        for s in saved
    ]
    for _, item_id, _, _ in responses:
        answer = _LEADING_MENTIONS.sub("", texts.get(item_id, ""))
        if not answer.strip():
            continue  # disposed of, or a media-only reply
        question = texts.get(question_of[item_id] or 0, "")
        candidates.append(
            Candidate(
                text=answer,
                key=("item", item_id),
                question=question,
                language=guess_language(answer),
            )
        )
    return AnswerIndex(candidates)


def suggested_answers(conversation: Conversation, *, limit: int = 3) -> list[Suggested]:
    """The saved replies and earlier answers most likely to fit the sender's latest question."""
    latest = (
        ConversationItem.objects.filter(
            conversation=conversation, role=ConversationItem.Role.INBOUND
        )
        .order_by("-at", "-id")
        .values_list("item_id", flat=True)
        .first()
    )
    question = _texts_of([latest]).get(latest, "") if latest else ""
    if not question.strip():
        return []
    stamp, (saved, responses) = _unit_candidates(conversation.unit)
    index = _index_cache.get(conversation.unit_id, stamp, lambda: _build_index(saved, responses))
    saved_by_pk = {s.pk: s for s in saved}
    own_answers = set(
        ConversationItem.objects.filter(conversation=conversation).values_list("item_id", flat=True)
    )
    found = []
    for suggestion in index.rank(question, limit=limit + len(own_answers)):
        if not suggestion.matched:
            continue
        candidate_key: tuple[str, int] = suggestion.candidate.key  # type: ignore[assignment]
        kind, key = candidate_key
        if kind == "item" and key in own_answers:
            continue
        found.append(
            Suggested(
                text=suggestion.candidate.text,
                score=suggestion.score,
                saved_reply=saved_by_pk.get(key) if kind == "saved" else None,
                answered_item_id=key if kind == "item" else None,
                earlier_question=suggestion.candidate.question,
            )
        )
        if len(found) == limit:
            break
    return found


# -- counts for the menu and the unit tabs -----------------------------------------------------


def inbox_counts_for_user(user: User) -> dict[str, int]:
    """How many conversations need the person: active in their units, theirs, overdue.

    One pass over the active conversations (a few thousand at most, whatever the history).
    """
    counts = (
        _visible(user, Conversation.objects.all())
        .filter(status__in=ACTIVE_STATUSES)
        .aggregate(
            active=models.Count("pk"),
            mine=models.Count("pk", filter=Q(assignee=user)),
            overdue=models.Count("pk", filter=Q(due_at__lt=timezone.now())),
        )
    )
    return {view: int(counts[view] or 0) for view in ("active", "mine", "overdue")}


def newer_than(user: User, filters: InboxFilters, since: dt.datetime) -> int:
    """How many conversations in the list had a new message after `since`."""
    return conversation_list_for_user(user, filters).filter(last_inbound_at__gt=since).count()


def units_for_inbox(user: User) -> QuerySet[Unit]:
    ids = unit_access(user).unit_ids(Capability.VIEW)
    units = Unit.objects.all()
    if ids is not None:
        units = units.filter(pk__in=ids)
    return units.order_by("name")


def membership_units(user: User) -> list[int]:
    return list(Membership.objects.filter(user=user).values_list("unit_id", flat=True))


# -- response times (R14) ----------------------------------------------------------------------


@dataclass(frozen=True)
class UnitResponse:
    """A unit's response figures for conversations received in a period, in business time."""

    unit: Unit
    received: int
    answered: int
    median_first_response: dt.timedelta | None
    median_to_answered: dt.timedelta | None
    within_target: int
    target: dt.timedelta
    overdue_now: int
    on_duty: list[User]
    responded: int

    @property
    def within_target_share(self) -> float | None:
        """Of the conversations with a first response, the share within the target."""
        return self.within_target / self.responded if self.responded else None


def _median(values: list[dt.timedelta]) -> dt.timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def response_report_for_user(
    user: User, start: dt.datetime, end: dt.datetime, *, clock: Any = None
) -> list[UnitResponse]:
    """Per unit the person may see: conversations received in [start, end) and how fast they
    were answered, in business hours; imported history (no due time) is not counted."""
    from narvaro.inbox.targets import TargetClock
    from narvaro.organisation.selectors import on_duty_map

    clock = clock or TargetClock()
    rows = (
        _visible(user, Conversation.objects.all())
        .filter(opened_at__gte=start, opened_at__lt=end, due_at__isnull=False)
        .values_list("unit_id", "opened_at", "first_response_at", "answered_at")
    )
    per_unit: dict[int, list[tuple[Any, ...]]] = {}
    for unit_id, opened, first, answered in rows.iterator(chunk_size=2000):
        per_unit.setdefault(unit_id, []).append((opened, first, answered))
    now = timezone.now()
    overdue = dict(
        _visible(user, Conversation.objects.all())
        .filter(status__in=ACTIVE_STATUSES, due_at__lt=now)
        .order_by()
        .values("unit_id")
        .annotate(n=models.Count("id"))
        .values_list("unit_id", "n")
    )
    duty = on_duty_map(timezone.localdate())
    units = {u.pk: u for u in Unit.objects.filter(pk__in=set(per_unit) | set(overdue))}
    report = []
    for unit_id, unit in sorted(units.items(), key=lambda pair: pair[1].name):
        items = per_unit.get(unit_id, [])
        target = clock.target(unit_id)
        firsts = [clock.elapsed(o, f) for o, f, _ in items if f is not None]
        to_answered = [clock.elapsed(o, a) for o, _, a in items if a is not None]
        entry = UnitResponse(
            unit=unit,
            received=len(items),
            answered=len(to_answered),
            median_first_response=_median(firsts),
            median_to_answered=_median(to_answered),
            within_target=sum(1 for f in firsts if f <= target),
            target=target,
            overdue_now=overdue.get(unit_id, 0),
            on_duty=duty.get(unit_id, []),
            responded=len(firsts),
        )
        report.append(entry)
    return report
