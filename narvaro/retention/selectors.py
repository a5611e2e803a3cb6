"""Reads for records management, scoped to registrars and admins (R27, R28, R13, R37).

Everything in this app belongs to the organisation-wide records officers: registrars and
admins read and act on it; anyone else gets 403 (and unknown objects 404). The matching of
rules and holds lives here too, so a dry run and its commit ask the same question.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterable

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404

from narvaro.archive.models import Direction, Item, ItemEvent, ItemVersion, Kind
from narvaro.archive.selectors import sees_secret_records
from narvaro.core.models import User
from narvaro.organisation.selectors import unit_children_map, unit_subtree_ids
from narvaro.retention.models import (
    DisposalLogEntry,
    DisposalRun,
    DisposalRunItem,
    ErasureRequest,
    HoldScope,
    LegalHold,
    RecordClass,
    RegistryEntry,
    RetentionRule,
)


def is_records_officer(user: User) -> bool:
    """Registrars and admins run retention, holds, erasure requests and registration."""
    return user.is_authenticated and sees_secret_records(user)


def require_records_officer(user: User) -> None:
    """403 for anyone who is not a registrar or admin."""
    if not is_records_officer(user):
        raise PermissionDenied


def thread_key(item: Item) -> str:
    """The platform id of the thread `item` belongs to (its own id when it starts one)."""
    return item.thread_remote_id or item.remote_id


def thread_items(item: Item) -> QuerySet[Item]:
    """Every archived item of `item`'s thread, `item` included."""
    key = thread_key(item)
    return Item.objects.filter(platform=item.platform).filter(
        Q(thread_remote_id=key) | Q(remote_id=key)
    )


# --- What a rule covers -------------------------------------------------------------------


def _class_filter(record_class: str) -> Q:
    removed = Exists(ItemEvent.objects.filter(item=OuterRef("pk"), type=ItemEvent.Type.REMOVED))
    case = Exists(ItemEvent.objects.filter(item=OuterRef("pk"), type=ItemEvent.Type.FLAGGED_CASE))
    # R17: an item removed by moderation stays until a rule names the "removed posts" class,
    # so every other class leaves removed items alone.
    if record_class == RecordClass.REMOVED_POSTS:
        return Q(removed)
    if record_class == RecordClass.MINOR_COMMENTS:
        received = [Kind.COMMENT, Kind.REPLY, Kind.MENTION]
        return Q(direction=Direction.RECEIVED, kind__in=received) & ~Q(removed)
    if record_class == RecordClass.DIRECT_MESSAGES:
        return Q(kind=Kind.DIRECT_MESSAGE) & ~Q(case) & ~Q(removed)
    if record_class == RecordClass.WEBSITE_DUPLICATES:
        return Q(direction=Direction.DRAWN_UP, kind=Kind.POST) & ~Q(removed)
    raise ValueError(f"unknown record class {record_class!r}")


def rule_items(rule: RetentionRule, cutoff: dt.datetime) -> QuerySet[Item]:
    """The items `rule` covers that are older than `cutoff` and still hold content.

    Held items are included: `without_held` takes them out, so a page can say how many a
    hold kept. Age is the platform's date, or when Narvaro first saw it if it gave none.
    """
    items = Item.objects.filter(_class_filter(rule.record_class))
    if rule.unit_id:
        items = items.filter(
            account__unit_id__in=unit_subtree_ids({rule.unit_id}, unit_children_map())
        )
    if rule.account_id:
        items = items.filter(account_id=rule.account_id)
    if rule.kind:
        items = items.filter(kind=rule.kind)
    if rule.author:
        items = items.filter(author_handle__iexact=rule.author.strip())
    items = items.filter(
        Q(created_at__lt=cutoff) | Q(created_at__isnull=True, first_seen_at__lt=cutoff)
    )
    live = ItemVersion.objects.filter(item=OuterRef("pk"), raw_payload__isnull=False)
    return items.filter(Exists(live))


# --- Legal holds ----------------------------------------------------------------------------


def _open_request_item_ids() -> Q:
    """Items on an open request for public records (the disclosure app), as a filter.

    Imported lazily: without the disclosure app there are no requests and so no such holds.
    With it installed, its selector must be there; a missing one stops the run rather than
    disposing of something a request covers.
    """
    if not apps.is_installed("narvaro.disclosure"):
        return Q(pk__in=[])
    try:
        module = importlib.import_module("narvaro.disclosure.selectors")
        on_requests = module.items_on_open_requests
    except (ImportError, AttributeError) as exc:
        raise ImproperlyConfigured(
            "narvaro.disclosure is installed but has no selectors.items_on_open_requests(); "
            "disposal cannot check open requests"
        ) from exc
    held = on_requests()
    if isinstance(held, QuerySet):
        return Q(pk__in=held.values("pk") if held.model is Item else held)
    return Q(pk__in=list(held))


def _thread_holds(rows: QuerySet[LegalHold] | QuerySet[RegistryEntry]) -> Q:
    return Q(
        Exists(rows.filter(platform=OuterRef("platform"), thread_key=OuterRef("thread_remote_id")))
    ) | Q(Exists(rows.filter(platform=OuterRef("platform"), thread_key=OuterRef("remote_id"))))


def held_filter() -> Q:
    """A filter true for every item under a legal hold (R27).

    Holds are: an open manual or police-report hold (by item, thread, account or author), a
    registry entry (a registered case or secret record, by item or thread), and an open
    request for public records.
    """
    holds = LegalHold.objects.filter(released_at__isnull=True)
    entries = RegistryEntry.objects.all()
    return (
        Q(Exists(holds.filter(scope=HoldScope.ITEM, item=OuterRef("pk"))))
        | _thread_holds(holds.filter(scope=HoldScope.THREAD))
        | Q(Exists(holds.filter(scope=HoldScope.ACCOUNT, account=OuterRef("account"))))
        | Q(
            Exists(
                holds.filter(scope=HoldScope.AUTHOR, author_handle=Lower(OuterRef("author_handle")))
            )
        )
        | Q(Exists(entries.filter(scope=RegistryEntry.Scope.ITEM, item=OuterRef("pk"))))
        | _thread_holds(entries.filter(scope=RegistryEntry.Scope.THREAD))
        | _open_request_item_ids()
    )


def without_held(items: QuerySet[Item]) -> QuerySet[Item]:
    return items.exclude(held_filter())


def held_item_ids(item_ids: Iterable[int]) -> set[int]:
    """Which of these items are under a hold now (re-checked when a run is committed)."""
    return set(
        Item.objects.filter(pk__in=list(item_ids))
        .filter(held_filter())
        .values_list("pk", flat=True)
    )


# --- Scoped lists and lookups ---------------------------------------------------------------


def rule_list_for_user(user: User) -> QuerySet[RetentionRule]:
    require_records_officer(user)
    return RetentionRule.objects.select_related("unit", "account")


def get_rule_for_user(user: User, pk: int) -> RetentionRule:
    try:
        return rule_list_for_user(user).get(pk=pk)
    except RetentionRule.DoesNotExist as exc:
        raise Http404 from exc


def run_list_for_user(user: User) -> QuerySet[DisposalRun]:
    require_records_officer(user)
    return DisposalRun.objects.select_related("rule")


def get_run_for_user(user: User, pk: int) -> DisposalRun:
    try:
        return run_list_for_user(user).get(pk=pk)
    except DisposalRun.DoesNotExist as exc:
        raise Http404 from exc


def run_entries(run: DisposalRun) -> QuerySet[DisposalRunItem]:
    """The items a run listed, with what the list shows (after `get_run_for_user`)."""
    return run.entries.select_related("item__account").order_by("item__created_at", "item_id")


def disposal_log_for_user(user: User) -> QuerySet[DisposalLogEntry]:
    require_records_officer(user)
    return DisposalLogEntry.objects.select_related("run", "item")


def hold_list_for_user(user: User) -> QuerySet[LegalHold]:
    require_records_officer(user)
    return LegalHold.objects.select_related("item", "account", "created_by")


def get_hold_for_user(user: User, pk: int) -> LegalHold:
    try:
        return hold_list_for_user(user).get(pk=pk)
    except LegalHold.DoesNotExist as exc:
        raise Http404 from exc


def erasure_list_for_user(user: User) -> QuerySet[ErasureRequest]:
    require_records_officer(user)
    return ErasureRequest.objects.select_related("item", "decided_by")


def get_erasure_for_user(user: User, pk: int) -> ErasureRequest:
    try:
        return erasure_list_for_user(user).get(pk=pk)
    except ErasureRequest.DoesNotExist as exc:
        raise Http404 from exc


def registry_list_for_user(user: User) -> QuerySet[RegistryEntry]:
    require_records_officer(user)
    return RegistryEntry.objects.select_related("item__account", "created_by")


def get_registry_entry_for_user(user: User, pk: int) -> RegistryEntry:
    try:
        return registry_list_for_user(user).get(pk=pk)
    except RegistryEntry.DoesNotExist as exc:
        raise Http404 from exc


def registry_items(entry: RegistryEntry) -> QuerySet[Item]:
    """The items a registry entry was flagged on (those that carry its event)."""
    return Item.objects.filter(
        Exists(
            ItemEvent.objects.filter(
                item=OuterRef("pk"),
                type__in=[ItemEvent.Type.FLAGGED_CASE, ItemEvent.Type.FLAGGED_SECRET],
                details__registry_entry=entry.pk,
            )
        )
    ).order_by("created_at", "id")
