"""What staff do with a conversation: assign, move, set status, note, reply, refer, register.

Every change is a `ConversationEvent` (the conversation's own history, shown on its page) and
an entry in the audit log, in the same transaction. A reply goes out through the account's
channel (`channels.actions.reply`); what the platform then holds is captured into the archive
as drawn up, and the inbox links it from there like any other reply, so a reply written on
the platform itself counts the same. A reply that fails on the platform is shown as failed
and changes nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from narvaro.archive.models import Item
from narvaro.channels.connectors.base import PostDraft
from narvaro.channels.models import Connection, PlatformAction
from narvaro.core.audit_summaries import (
    CONVERSATION_ASSIGNED,
    CONVERSATION_CATEGORY,
    CONVERSATION_MOVED,
    CONVERSATION_NOTE,
    CONVERSATION_REFERRED,
    CONVERSATION_REGISTERED,
    CONVERSATION_REPLIED,
    CONVERSATION_STATUS,
    SAVED_REPLY_CHANGED,
    SAVED_REPLY_CREATED,
    audit_summary,
)
from narvaro.core.models import AuditEvent, User
from narvaro.core.services import audit_record
from narvaro.inbox.derive import conversations_derive
from narvaro.inbox.models import (
    Conversation,
    ConversationEvent,
    ConversationItem,
    SavedReply,
    Status,
)
from narvaro.inbox.targets import TargetClock
from narvaro.organisation.models import Unit
from narvaro.radar.models import Category

# Statuses a person may set by hand; answered, referred and registered follow from actions.
MANUAL_STATUSES = (Status.OPEN, Status.WAITING, Status.CLOSED)


def _event(
    conversation: Conversation,
    type_: str,
    actor: User | None,
    *,
    text: str = "",
    **details: Any,
) -> ConversationEvent:
    return ConversationEvent.objects.create(
        conversation=conversation,
        type=type_,
        actor=actor if actor is not None and actor.pk else None,
        text=text,
        details=details,
    )


def _audit(
    actor: User | None,
    conversation: Conversation,
    summary: str,
    changes: dict[str, list[object]],
    request: HttpRequest | None = None,
) -> None:
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=conversation,
        unit_id=conversation.unit_id,
        summary=summary,
        changes=changes,
        request=request,
    )


def _save(conversation: Conversation, *fields: str) -> None:
    conversation.updated_at = timezone.now()
    conversation.save(update_fields=[*fields, "updated_at"])


def conversation_assign(
    *,
    actor: User,
    conversation: Conversation,
    assignee: User | None,
    request: HttpRequest | None = None,
) -> None:
    """Give the conversation to `assignee` (None: nobody); they must be able to answer it."""
    from narvaro.inbox.selectors import responders_of_unit

    if assignee is not None and assignee not in responders_of_unit(conversation.unit):
        raise ValidationError(
            {"assignee": _("%(person)s cannot answer for this unit.") % {"person": assignee}}
        )
    before = conversation.assignee
    if before == assignee:
        return
    with transaction.atomic():
        conversation.assignee = assignee
        if conversation.status == Status.NEW:
            conversation.status = Status.OPEN
        _save(conversation, "assignee", "status")
        _event(
            conversation,
            ConversationEvent.Type.ASSIGNED,
            actor,
            to=assignee.pk if assignee else None,
            to_name=str(assignee) if assignee else "",
            from_name=str(before) if before else "",
        )
        _audit(
            actor,
            conversation,
            audit_summary(CONVERSATION_ASSIGNED),
            {"assignee": [str(before or ""), str(assignee or "")]},
            request,
        )


def conversation_move(
    *, actor: User, conversation: Conversation, unit: Unit, request: HttpRequest | None = None
) -> None:
    """Move the conversation to another unit: its inbox, its target; the assignee is cleared."""
    before = conversation.unit
    if before.pk == unit.pk:
        return
    with transaction.atomic():
        conversation.unit = unit
        conversation.assignee = None
        if conversation.waiting_since is not None and conversation.is_active:
            conversation.due_at = TargetClock().due_at(unit.pk, conversation.waiting_since)
        _save(conversation, "unit", "assignee", "due_at")
        _event(
            conversation,
            ConversationEvent.Type.MOVED,
            actor,
            from_unit=before.pk,
            from_name=before.name,
            to_unit=unit.pk,
            to_name=unit.name,
        )
        _audit(
            actor,
            conversation,
            audit_summary(CONVERSATION_MOVED),
            {"unit": [before.name, unit.name]},
            request,
        )


def conversation_status_set(
    *,
    actor: User,
    conversation: Conversation,
    status: str,
    request: HttpRequest | None = None,
) -> None:
    """Open, wait for the sender, or close. Answered, referred, registered follow from acts."""
    if status not in MANUAL_STATUSES:
        raise ValidationError({"status": _("This status cannot be set by hand.")})
    before = conversation.status
    if before == status:
        return
    with transaction.atomic():
        conversation.status = status
        now = timezone.now()
        if status == Status.CLOSED:
            conversation.closed_at = now
        else:
            conversation.closed_at = None
        if status == Status.OPEN and conversation.waiting_since is None:
            # Opened again by hand: the clock runs from now.
            conversation.waiting_since = now
            conversation.due_at = TargetClock().due_at(conversation.unit_id, now)
        _save(conversation, "status", "closed_at", "waiting_since", "due_at")
        _event(conversation, ConversationEvent.Type.STATUS, actor, **{"from": before, "to": status})
        _audit(
            actor,
            conversation,
            audit_summary(CONVERSATION_STATUS),
            {"status": [before, status]},
            request,
        )


def conversation_note_add(
    *, actor: User, conversation: Conversation, text: str, request: HttpRequest | None = None
) -> ConversationEvent:
    """An internal note for colleagues; never sent to the public."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the note.")})
    with transaction.atomic():
        event = _event(conversation, ConversationEvent.Type.NOTE, actor, text=text)
        _save(conversation)
        _audit(actor, conversation, audit_summary(CONVERSATION_NOTE), {}, request)
    return event


def conversation_category_set(
    *, actor: User, conversation: Conversation, category: str, request: HttpRequest | None = None
) -> None:
    """Correct the category; the radar learns from it (a label on the first item)."""
    if category not in Category.values:
        raise ValidationError({"category": _("Choose a category.")})
    before = conversation.category
    with transaction.atomic():
        if apps.is_installed("narvaro.radar"):
            from narvaro.radar.services import item_category_set

            item_category_set(
                item_id=conversation.root_item_id,
                category=category,
                actor=actor,
                unit_id=conversation.unit_id,
            )
        conversation.category = category
        _save(conversation, "category")
        _event(
            conversation, ConversationEvent.Type.CATEGORY, actor, **{"from": before, "to": category}
        )
        _audit(
            actor,
            conversation,
            audit_summary(CONVERSATION_CATEGORY),
            {"category": [before, category]},
            request,
        )


@dataclass(frozen=True)
class ReplyTarget:
    """What a reply answers: the sender's latest message in the conversation."""

    item: Item
    connection: Connection | None


def conversations_category_follow(changes: dict[int, tuple[str, str]]) -> int:
    """The classifier changed its reading of items (a new model): the conversations those
    items opened take the new category, if they still have the one it replaces, and their
    history says so ("Category set", by the classifier). A category a person set is a label
    the classifier keeps, so it never arrives here. A fixed number of queries per change kind
    (at most twelve kinds)."""
    by_change: dict[tuple[str, str], list[int]] = {}
    for item_id, change in changes.items():
        by_change.setdefault(change, []).append(item_id)
    updated = 0
    now = timezone.now()
    for (old, new), item_ids in by_change.items():
        with transaction.atomic():
            following = Conversation.objects.select_for_update().filter(
                root_item_id__in=item_ids, category=old
            )
            ids = list(following.values_list("pk", flat=True))
            Conversation.objects.filter(pk__in=ids).update(category=new)
            ConversationEvent.objects.bulk_create(
                ConversationEvent(
                    conversation_id=pk,
                    type=ConversationEvent.Type.CATEGORY,
                    at=now,
                    details={"from": old, "to": new, "by": "classifier"},
                )
                for pk in ids
            )
        updated += len(ids)
    return updated


def reply_target(conversation: Conversation) -> ReplyTarget:
    entry = (
        ConversationItem.objects.filter(
            conversation=conversation, role=ConversationItem.Role.INBOUND
        )
        .select_related("item")
        .order_by("-at", "-id")
        .first()
    )
    item = entry.item if entry else conversation.root_item
    connection = Connection.objects.filter(account_id=conversation.account_id).first()
    return ReplyTarget(item=item, connection=connection)


def can_reply_from_narvaro(conversation: Conversation) -> bool:
    connection = Connection.objects.filter(account_id=conversation.account_id).first()
    return connection is not None and connection.status == Connection.Status.ACTIVE


def _with_mention(text: str, item: Item) -> str:
    """On Mastodon a reply names the sender, or they are not notified (the web UI does this)."""
    handle = item.author_handle
    if item.platform != "mastodon" or not handle:
        return text
    short = "@" + handle.lstrip("@").split("@")[0]
    if handle.casefold() in text.casefold() or short.casefold() in text.casefold().split():
        return text
    return f"{handle} {text}"


def conversation_reply(
    *,
    actor: User,
    conversation: Conversation,
    text: str,
    then: str = Status.ANSWERED,
    saved_reply: SavedReply | None = None,
    referral: bool = False,
    request: HttpRequest | None = None,
) -> PlatformAction:
    """Send `text` as a reply to the sender's latest message; return the platform action.

    On success the reply is in the archive as drawn up and linked to the conversation, and the
    conversation is answered (or waiting for the sender, or referred). On failure the action is
    recorded as failed, the conversation keeps its status, and the text is not lost (the
    caller shows it again).
    """
    from narvaro.channels.actions import reply

    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the reply.")})
    if then not in (Status.ANSWERED, Status.WAITING, Status.CLOSED):
        raise ValidationError({"then": _("Choose what happens after the reply.")})
    target = reply_target(conversation)
    if target.connection is None or target.connection.status != Connection.Status.ACTIVE:
        raise ValidationError(
            _(
                "This account has no working connection: reply on the platform. "
                "The next harvest links the reply to this conversation."
            )
        )
    item = target.item
    draft = PostDraft(
        text=_with_mention(text, item),
        visibility="direct" if item.kind == "dm" else (item.visibility or "public"),
        idempotency_key=f"narvaro-conversation-{conversation.pk}-{timezone.now().timestamp()}",
    )
    action = reply(
        actor=actor, connection=target.connection, parent_remote_id=item.remote_id, draft=draft
    )
    with transaction.atomic():
        if action.status != PlatformAction.Status.SENT:
            _event(
                conversation,
                ConversationEvent.Type.REPLY_FAILED,
                actor,
                action=action.pk,
                error=action.error,
            )
            return action
        # The reply was captured by the action; link it now rather than at the next run.
        conversations_derive()
        conversation.refresh_from_db()
        now = timezone.now()
        if conversation.first_response_at is None:
            conversation.first_response_at = now
        final = Status.REFERRED if referral else then
        conversation.status = final
        conversation.answered_at = conversation.answered_at or now
        conversation.waiting_since = None
        conversation.closed_at = now if final == Status.CLOSED else None
        _save(
            conversation, "first_response_at", "status", "answered_at", "waiting_since", "closed_at"
        )
        _event(
            conversation,
            ConversationEvent.Type.REFERRED if referral else ConversationEvent.Type.REPLIED,
            actor,
            action=action.pk,
            remote_id=action.remote_id,
            saved_reply=saved_reply.pk if saved_reply else None,
            status=final,
        )
        _audit(
            actor,
            conversation,
            audit_summary(CONVERSATION_REFERRED if referral else CONVERSATION_REPLIED),
            {"status": ["", final], "remote_id": ["", action.remote_id]},
            request,
        )
    return action


def conversation_mark_answered(
    *, actor: User, conversation: Conversation, request: HttpRequest | None = None
) -> None:
    """Answered elsewhere (by phone, on the platform before the harvest): recorded as such."""
    if conversation.status == Status.ANSWERED:
        return
    with transaction.atomic():
        before = conversation.status
        now = timezone.now()
        conversation.status = Status.ANSWERED
        conversation.answered_at = now
        conversation.waiting_since = None
        _save(conversation, "status", "answered_at", "waiting_since")
        _event(
            conversation,
            ConversationEvent.Type.STATUS,
            actor,
            **{"from": before, "to": str(Status.ANSWERED), "elsewhere": "yes"},
        )
        _audit(
            actor,
            conversation,
            audit_summary(CONVERSATION_STATUS),
            {"status": [before, "answered"]},
            request,
        )


def conversation_register(
    *,
    actor: User,
    conversation: Conversation,
    description: str,
    case_number: str = "",
    request: HttpRequest | None = None,
) -> object:
    """Register the conversation as an individual case (ärende) through records management (R13)."""
    from narvaro.retention.models import RegistryEntry
    from narvaro.retention.services import registry_flag

    if not description.strip():
        raise ValidationError({"description": _("Describe the case in a few words.")})
    root = conversation.root_item
    with transaction.atomic():
        entry = registry_flag(
            actor=actor,
            item=root,
            kind=RegistryEntry.Kind.CASE,
            received_on=timezone.localtime(conversation.opened_at).date(),
            sender=root.author_name or root.author_handle,
            description=description.strip(),
            case_number=case_number.strip(),
            officer=str(actor),
            scope=RegistryEntry.Scope.THREAD,
            request=request,
        )
        before = conversation.status
        conversation.status = Status.REGISTERED
        conversation.waiting_since = None
        _save(conversation, "status", "waiting_since")
        _event(
            conversation,
            ConversationEvent.Type.REGISTERED,
            actor,
            entry=entry.pk,
            case_number=entry.case_number,
        )
        _audit(
            actor,
            conversation,
            audit_summary(CONVERSATION_REGISTERED),
            {"status": [before, Status.REGISTERED]},
            request,
        )
    return entry


def conversations_bulk(
    *,
    actor: User,
    conversations: Iterable[Conversation],
    action: str,
    assignee: User | None = None,
    unit: Unit | None = None,
    request: HttpRequest | None = None,
) -> int:
    """Apply one action to many conversations (each recorded as if done one by one)."""
    done = 0
    for conversation in conversations:
        if action == "close":
            conversation_status_set(
                actor=actor, conversation=conversation, status=Status.CLOSED, request=request
            )
        elif action == "open":
            conversation_status_set(
                actor=actor, conversation=conversation, status=Status.OPEN, request=request
            )
        elif action == "assign":
            conversation_assign(
                actor=actor, conversation=conversation, assignee=assignee, request=request
            )
        elif action == "move" and unit is not None:
            conversation_move(actor=actor, conversation=conversation, unit=unit, request=request)
        else:
            raise ValidationError({"action": _("Choose an action.")})
        done += 1
    return done


# -- saved replies ----------------------------------------------------------------------------


class _Blank(dict[str, str]):
    """Unknown placeholders stay as written, so a typo is visible rather than an error."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def saved_reply_render(saved: SavedReply, conversation: Conversation, actor: User) -> str:
    """The saved reply's text with its placeholders filled for this conversation."""
    root = conversation.root_item
    values = _Blank(
        name=root.author_name or root.author_handle,
        handle=root.author_handle,
        unit=conversation.unit.name,
        contact=conversation.unit.contact_email,
        signature=actor.first_name or actor.get_username(),
    )
    return saved.body.format_map(values)


def saved_reply_save(
    *,
    actor: User,
    saved: SavedReply,
    request: HttpRequest | None = None,
) -> SavedReply:
    """Create or change a saved reply (logged)."""
    try:
        saved.body.format_map(_Blank())
    except (ValueError, IndexError) as exc:
        raise ValidationError(
            {"body": _("A placeholder is not closed: %(e)s") % {"e": exc}}
        ) from exc
    created = saved.pk is None
    with transaction.atomic():
        if created:
            saved.created_by = actor
        saved.updated_at = timezone.now()
        saved.save()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
            target=saved,
            unit_id=saved.unit_id,
            summary=audit_summary(SAVED_REPLY_CREATED if created else SAVED_REPLY_CHANGED),
            request=request,
        )
    return saved


def business_elapsed(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    return TargetClock().elapsed(start, end)
