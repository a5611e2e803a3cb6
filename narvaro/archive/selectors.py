"""Reads of the records archive, always scoped to the person asking (R12, R37).

A person sees the items of the accounts of the units they hold VIEW in (and the units below);
registrars and admins see every item. Items flagged secret (an `ItemEvent` of type "secret")
are seen only by registrars and admins.
"""

from __future__ import annotations

import datetime as dt
import difflib
import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from narvaro.archive import search
from narvaro.archive.capture import iso
from narvaro.archive.models import Item, ItemEvent, ItemVersion, VersionMedia
from narvaro.core.models import User
from narvaro.organisation.roles import Capability
from narvaro.organisation.selectors import unit_access, unit_children_map, unit_subtree_ids
from narvaro.radar.selectors import withhold_restricted


def sees_secret_records(user: User) -> bool:
    """Registrars and admins see secret items and raw payloads (least privilege, R37)."""
    return user.is_org_admin or user.is_registrar


def _events_of(kind: str) -> Exists:
    return Exists(ItemEvent.objects.filter(item=OuterRef("pk"), type=kind))


def _secret_now() -> Exists:
    """Whether an item is secret: a FLAGGED_SECRET event that no later SECRET_LIFTED follows.

    An item's events are in its account's chain, so `seq` orders them.
    """
    lifted_later = ItemEvent.objects.filter(
        item=OuterRef("item"), type=ItemEvent.Type.SECRET_LIFTED, seq__gt=OuterRef("seq")
    )
    return Exists(
        ItemEvent.objects.filter(item=OuterRef("pk"), type=ItemEvent.Type.FLAGGED_SECRET).exclude(
            Exists(lifted_later)
        )
    )


def _visible_items(user: User, items: QuerySet[Item] | None = None) -> QuerySet[Item]:
    items = Item.objects.all() if items is None else items
    ids = unit_access(user).unit_ids(Capability.VIEW)
    if ids is not None:
        items = items.filter(account__unit_id__in=ids)
    if not sees_secret_records(user):
        items = items.exclude(_secret_now())
    return items


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def record_search_for_user(
    user: User,
    *,
    q: str = "",
    unit: int | None = None,
    account: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    direction: str = "",
    kind: str = "",
    author: str = "",
    thread: str = "",
    has_media: bool | None = None,
    deleted: bool | None = None,
    edited: bool | None = None,
) -> QuerySet[Item]:
    """The items `user` may see that match every filter given, newest first (R12).

    `q` is a full-text search (Swedish stemming, every word must match); dates are the
    platform's `created_at` in local days (`first_seen_at` when the platform gave none);
    `author` matches the handle or the name. Each row carries `latest_text`,
    `version_count`, `is_deleted` and `is_secret`, so a list shows it without more queries.
    """
    # The row values are annotated first, on a queryset built once: resolving those
    # subqueries cost more CPU than the search itself (bench/search_latency.py).
    items = _visible_items(user, _items_with_row_values())
    if unit:
        items = items.filter(account__unit_id__in=unit_subtree_ids({unit}, unit_children_map()))
    if account:
        items = items.filter(account_id=account)
    if date_from:
        start = _day_start(date_from)
        items = items.filter(
            Q(created_at__gte=start) | Q(created_at__isnull=True, first_seen_at__gte=start)
        )
    if date_to:
        end = _day_start(date_to + dt.timedelta(days=1))
        items = items.filter(
            Q(created_at__lt=end) | Q(created_at__isnull=True, first_seen_at__lt=end)
        )
    if direction:
        items = items.filter(direction=direction)
    if kind:
        items = items.filter(kind=kind)
    if author:
        handle = author.strip()
        items = items.filter(
            Q(author_handle__iexact=handle)
            | Q(author_handle__iexact="@" + handle.lstrip("@"))
            | Q(author_handle__istartswith="@" + handle.lstrip("@") + "@")
            | Q(author_name__iexact=handle)
        )
    if thread:
        items = items.filter(thread_remote_id=thread)
    if has_media is not None:
        media = Exists(VersionMedia.objects.filter(version__item=OuterRef("pk")))
        items = items.filter(media if has_media else ~media)
    if deleted is not None:
        gone = _events_of(ItemEvent.Type.DELETED)
        items = items.filter(gone if deleted else ~gone)
    if edited is not None:
        later = Exists(ItemVersion.objects.filter(item=OuterRef("pk"), number__gt=1))
        items = items.filter(later if edited else ~later)
    if q:
        # Last, so the engine's index can check the other filters as it reads its matches.
        items = search.matching(q, items)
    return items.order_by(*search.NEWEST_FIRST)


@lru_cache(maxsize=1)
def _items_with_row_values() -> QuerySet[Item]:
    """Every item with its row values; never evaluated itself, only filtered (cloned)."""
    return _with_row_values(Item.objects.all())


def _with_row_values(items: QuerySet[Item]) -> QuerySet[Item]:
    latest = ItemVersion.objects.filter(item=OuterRef("pk")).order_by("-number")
    versions = (
        ItemVersion.objects.filter(item=OuterRef("pk"))
        .order_by()
        .values("item")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return items.select_related("account__unit").annotate(
        latest_text=Subquery(latest.values("text")[:1]),
        version_count=Subquery(versions[:1]),
        is_deleted=_events_of(ItemEvent.Type.DELETED),
        is_secret=_secret_now(),
    )


def get_item_for_user(user: User, pk: int) -> Item:
    """The item `pk` if `user` may see it; 404 otherwise (existence is not leaked)."""
    try:
        return _with_row_values(_visible_items(user)).get(pk=pk)
    except Item.DoesNotExist as exc:
        raise Http404 from exc


# Moderation reasons under which an item's media are never shown or served again, to anyone:
# child sexual abuse material is reported, not viewed (R20). The decision is the moderation
# event in the item's chain; the file itself stays until a lawful disposal removes it.
MEDIA_WITHHELD_REASONS = ("csam",)


# What a package or printout says of a file it leaves out for that reason.
MEDIA_WITHHELD_NOTE = "csam moderation"
# Digests looked up per query: well under SQLite's bound-parameter limit (two per digest).
_DIGEST_CHUNK = 500


def _media_withheld_events() -> QuerySet[ItemEvent]:
    # The decision is recorded as MEDIA_WITHHELD when it is made, whatever the platform then
    # answers; a moderation event with such a reason (written before that type) counts too.
    return ItemEvent.objects.filter(
        Q(type=ItemEvent.Type.MEDIA_WITHHELD)
        | Q(source="moderation", details__reason__in=MEDIA_WITHHELD_REASONS)
    )


def media_withheld_ids(item_ids: Sequence[int]) -> set[int]:
    """The items among `item_ids` whose media must not be shown, served or copied."""
    return set(
        _media_withheld_events()
        .filter(item_id__in=list(item_ids))
        .values_list("item_id", flat=True)
    )


def media_withheld_digests(digests: Iterable[str] | None = None) -> set[str]:
    """The SHA-256 (media or caption) of the files of items whose media are withheld.

    Such a file is copied nowhere (packages, printouts), also where the same bytes are
    attached to another item. With `digests`, only those among them are answered (one query
    per 500 digests); without, every such file of the archive (one query).
    """
    withheld_items = _media_withheld_events().values("item_id")
    rows = VersionMedia.objects.filter(version__item_id__in=withheld_items)
    if digests is None:
        pairs = list(rows.values_list("media__sha256", "caption__sha256"))
        return {sha for pair in pairs for sha in pair if sha}
    wanted_set = set(digests)
    wanted = sorted(wanted_set)
    found: set[str] = set()
    for start in range(0, len(wanted), _DIGEST_CHUNK):
        chunk = wanted[start : start + _DIGEST_CHUNK]
        for pair in rows.filter(
            Q(media__sha256__in=chunk) | Q(caption__sha256__in=chunk)
        ).values_list("media__sha256", "caption__sha256"):
            found.update(sha for sha in pair if sha in wanted_set)
    return found


def attachment_withheld(attachment: VersionMedia, withheld: set[str]) -> bool:
    """Whether `attachment`'s file or caption is among the `withheld` digests."""
    return any(
        f is not None and f.sha256 in withheld for f in (attachment.media, attachment.caption)
    )


def get_attachment_for_user(user: User, pk: int, number: int, position: int) -> VersionMedia:
    """Attachment `position` of version `number` of item `pk`, if `user` may see the item (404).

    Only stored files are served; a missing attachment answers 404 too, and so does the media
    of an item moderated as child sexual abuse material, for everyone, and a file the archive
    knows only by its digest (restored from a package that withheld it).
    """
    item = get_item_for_user(user, pk)
    if media_withheld_ids([item.pk]):
        raise Http404
    try:
        attachment = VersionMedia.objects.select_related("media", "version__item__account").get(
            ~Q(media__storage_name=""),
            version__item=item,
            version__number=number,
            position=position,
            media__isnull=False,
        )
    except VersionMedia.DoesNotExist as exc:
        raise Http404 from exc
    assert attachment.media is not None  # media__isnull=False above
    # The same bytes attached to an item moderated as CSAM are withheld here too.
    if media_withheld_digests([attachment.media.sha256]):
        raise Http404
    return attachment


@dataclass(frozen=True)
class DiffLine:
    """One line of the difference between two consecutive versions: "+", "-" or " "."""

    op: str
    text: str


@dataclass(frozen=True)
class VersionView:
    """A version with what changed since the one before (empty for the first)."""

    version: ItemVersion
    attachments: list[VersionMedia]
    changes: list[DiffLine]


@dataclass(frozen=True)
class RecordView:
    """Everything the record page shows, read in a fixed number of queries."""

    item: Item
    versions: list[VersionView]
    events: list[ItemEvent]
    thread: Sequence[Item]
    can_see_payload: bool
    parent: Item | None = None
    # The text is withheld: it holds a personnummer and the person is not among those who
    # may read it (radar.selectors.withhold_restricted, R33).
    text_withheld: bool = False
    # The media are withheld from everyone: moderated as child sexual abuse material.
    media_withheld: bool = False
    # Attachments withheld because the same file is attached to an item so moderated.
    attachments_withheld: int = 0


def _diff(before: str, after: str) -> list[DiffLine]:
    lines = difflib.ndiff(before.splitlines(), after.splitlines())
    return [DiffLine(line[0], line[2:]) for line in lines if line[:1] in {"+", "-", " "}]


def record_view_for_user(user: User, item: Item) -> RecordView:
    """The record page of `item` (already fetched with `get_item_for_user`).

    The thread holds the visible items of the same platform thread (the item's own thread
    id, or its own id when it starts one).
    """
    attachments = Prefetch(
        "attachments", queryset=VersionMedia.objects.select_related("media", "caption")
    )
    versions = list(item.versions.prefetch_related(attachments).order_by("number"))
    views: list[VersionView] = []
    previous = ""
    for index, version in enumerate(versions):
        text = version.text or ""
        changes = _diff(previous, text) if index else []
        views.append(VersionView(version, list(version.attachments.all()), changes))
        previous = text
    thread_id = item.thread_remote_id or item.remote_id
    thread = list(
        _visible_items(user)
        .filter(platform=item.platform)
        .filter(Q(thread_remote_id=thread_id) | Q(remote_id=thread_id))
        .annotate(
            latest_text=Subquery(
                ItemVersion.objects.filter(item=OuterRef("pk"))
                .order_by("-number")
                .values("text")[:1]
            )
        )
        .order_by("created_at", "id")
    )
    # The item it answers, when the archive holds it and the person may see it: it is in
    # the same thread, so it costs no query of its own.
    parent = next((t for t in thread if t.remote_id == item.parent_remote_id), None)
    withheld = withhold_restricted(user, [item, *thread])
    media_withheld = bool(media_withheld_ids([item.pk]))
    attachments_withheld = 0
    if media_withheld:
        for view in views:
            view.attachments.clear()
    else:
        digests = {
            file.sha256
            for view in views
            for attachment in view.attachments
            for file in (attachment.media, attachment.caption)
            if file is not None
        }
        blocked = media_withheld_digests(digests) if digests else set()
        for view in views:
            kept = [a for a in view.attachments if not attachment_withheld(a, blocked)]
            attachments_withheld += len(view.attachments) - len(kept)
            view.attachments[:] = kept
    if item.pk in withheld:
        for view in views:
            view.version.text = view.version.html = None
            view.changes.clear()
    return RecordView(
        item=item,
        versions=views,
        events=list(item.events.order_by("seq")),
        thread=thread,
        can_see_payload=sees_secret_records(user),
        parent=parent if item.parent_remote_id else None,
        text_withheld=item.pk in withheld,
        media_withheld=media_withheld,
        attachments_withheld=attachments_withheld,
    )


def record_register_rows(items: QuerySet[Item]) -> list[dict[str, Any]]:
    """The columns of the "held in order" register (R12) for `items`, in their order."""
    return [
        {
            "platform": item.platform,
            "remote_id": item.remote_id,
            "account": f"{item.account.platform}:{item.account.handle}",
            "unit": item.account.unit.name,
            "kind": item.kind,
            "direction": item.direction,
            "author": item.author_handle,
            "author_name": item.author_name,
            "created_at": iso(item.created_at) or "",
            "first_seen_at": iso(item.first_seen_at),
            "thread": item.thread_remote_id,
            "versions": getattr(item, "version_count", None) or 0,
            "deleted": bool(getattr(item, "is_deleted", False)),
            "permalink": item.permalink,
            "text": getattr(item, "latest_text", None) or "",
            "record_url": item.get_absolute_url(),
        }
        for item in items
    ]


def chain_entries(account_id: int, batch: int = 2000) -> Iterator[ItemVersion | ItemEvent]:
    """An account's versions and events in chain order (by `seq`), read in chunks.

    Each version carries its attachment rows (media and caption loaded) as `_attachments`.
    Not scoped to a person: for the fixity check and the archival packages, which read whole
    chains on behalf of the organisation.
    """
    merged: Iterator[ItemVersion | ItemEvent] = heapq.merge(  # type: ignore[assignment]
        _chain_versions(account_id, batch),
        _chain_events(account_id, batch),
        key=lambda entry: entry.seq,
    )
    return merged


def _chain_versions(account_id: int, batch: int) -> Iterator[ItemVersion]:
    last = 0
    while True:
        chunk = list(
            ItemVersion.objects.filter(account_id=account_id, seq__gt=last)
            .select_related("item")
            .order_by("seq")[:batch]
        )
        if not chunk:
            return
        attachments: dict[int, list[VersionMedia]] = {}
        for row in VersionMedia.objects.filter(version__in=[v.pk for v in chunk]).select_related(
            "media", "caption"
        ):
            attachments.setdefault(row.version_id, []).append(row)
        for version in chunk:
            version._attachments = attachments.get(version.pk, [])  # type: ignore[attr-defined]
            yield version
        last = chunk[-1].seq


def _chain_events(account_id: int, batch: int) -> Iterator[ItemEvent]:
    yield from (
        ItemEvent.objects.filter(account_id=account_id)
        .select_related("item")
        .order_by("seq")
        .iterator(chunk_size=batch)
    )


def items_held(keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (platform, remote id) pairs the archive holds an item for.

    Not scoped to a person: for the importers, which decide before storing a batch which of
    its events name an item the archive holds (the archive refuses the others).
    """
    by_platform: dict[str, set[str]] = {}
    for platform, remote_id in keys:
        by_platform.setdefault(platform, set()).add(remote_id)
    held: set[tuple[str, str]] = set()
    for platform, remote_ids in by_platform.items():
        ordered = sorted(remote_ids)
        for start in range(0, len(ordered), 900):  # one `IN (...)` small enough for any engine
            held.update(
                Item.objects.filter(
                    platform=platform, remote_id__in=ordered[start : start + 900]
                ).values_list("platform", "remote_id")
            )
    return held
