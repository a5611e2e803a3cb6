"""Appending to an item's history after capture, and the one lawful change to its content.

`capture_batch` records what the platform said happened (deleted, edited). What Narvaro's
own people do to an archived item afterwards (register it as a case, flag it secret, lift
the flag, dispose of it under a gallring decision) is appended here, through the same
per-account hash chain: the chain head is locked, the event gets the next sequence number
and its chain digest covers the previous digest and `chain.event_entry`, so `narvaro
verify` checks these events exactly like captured ones (R10).

`version_dispose` is the only code allowed to change archived content: it empties a
version's text, HTML and raw payload and drops its attachments, keeps both digests, and
appends the DISPOSED event that tells `fixity.verify_archive` the emptiness is lawful.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from narvaro.archive.chain import chain_digest, event_entry
from narvaro.archive.models import ChainHead, Item, ItemEvent, ItemVersion, MediaFile, VersionMedia
from narvaro.archive.search import search_index_update
from narvaro.core.models import User


def actor_label(actor: User | None) -> str:
    """How an event names who did it (text, so it survives renames and is chained)."""
    if actor is None or not actor.pk:
        return "system"
    return str(actor)[:300]


def _append(
    *,
    head: ChainHead,
    item: Item,
    type: str,
    details: dict[str, Any],
    actor: User | None,
    source: str,
    occurred_at: dt.datetime | None,
    now: dt.datetime,
) -> ItemEvent:
    """One event at the end of `head`'s chain (the caller holds the lock and saves `head`)."""
    if type not in ItemEvent.Type.values:
        raise ValueError(f"unknown item event type {type!r}")
    head.seq += 1
    event = ItemEvent(
        account_id=item.account_id,
        item=item,
        type=type,
        occurred_at=occurred_at,
        details=details,
        actor_name=actor_label(actor),
        source=source[:100],
        seq=head.seq,
        recorded_at=now,
    )
    event.chain_digest = chain_digest(head.digest, head.seq, event_entry(item, event))
    head.digest = event.chain_digest
    event.save()
    return event


def _locked_head(item: Item) -> ChainHead:
    head, _ = ChainHead.objects.select_for_update().get_or_create(account_id=item.account_id)
    return head


def item_event_record(
    *,
    item: Item,
    type: str,
    details: dict[str, Any],
    actor: User | None,
    source: str,
    occurred_at: dt.datetime | None = None,
) -> ItemEvent:
    """Append one event about `item` to its account's hash chain and return it.

    `occurred_at` defaults to now (the event happens in Narvaro, so Narvaro knows when).
    The lock on the chain head serialises this with `capture_batch` and other appends to
    the same account, so the chain stays linear.
    """
    now = timezone.now()
    with transaction.atomic():
        head = _locked_head(item)
        event = _append(
            head=head,
            item=item,
            type=type,
            details=details,
            actor=actor,
            source=source,
            occurred_at=occurred_at or now,
            now=now,
        )
        head.save()
    return event


def _unreferenced_media(candidates: set[int]) -> list[MediaFile]:
    """The media files among `candidates` that no remaining attachment uses."""
    if not candidates:
        return []
    used = set(
        VersionMedia.objects.filter(Q(media_id__in=candidates) | Q(caption_id__in=candidates))
        .values_list("media_id", "caption_id")
        .distinct()
    )
    still_used = {pk for pair in used for pk in pair if pk is not None}
    return list(MediaFile.objects.filter(pk__in=candidates - still_used))


def version_dispose(
    *,
    version: ItemVersion,
    actor: User | None,
    details: dict[str, Any],
    source: str = "retention",
) -> ItemEvent:
    """Dispose of one version's content (gallring); see `versions_dispose`."""
    (event,) = versions_dispose(versions=[version], actor=actor, details=details, source=source)
    return event


def versions_dispose(
    *,
    versions: list[ItemVersion],
    actor: User | None,
    details: dict[str, Any],
    source: str = "retention",
) -> list[ItemEvent]:
    """Dispose of these versions' content (gallring) and record it; return the DISPOSED events.

    Empties `text`, `html` and `raw_payload`, removes the versions' attachments and deletes
    every media file no other attachment still uses (the file once the transaction commits,
    so a rolled-back disposal keeps it). Both digests and the chain entries stay, so
    `narvaro verify` still passes and proves what was there. Each event's details carry
    `version_id` (what `fixity._disposed_version_ids` reads) and `version`, plus the caller's
    `details` (the rule, the gallring decision, the run). Only disposal may call this.

    Done in bulk (a fixed number of queries per call, whatever the number of versions), with
    the chain heads of the accounts concerned locked in account order.
    """
    if not versions:
        return []
    for version in versions:
        if version.raw_payload is None and version.text is None:
            raise ValueError(f"{version} has already been disposed of")
    now = timezone.now()
    with transaction.atomic():
        items = Item.objects.in_bulk({version.item_id for version in versions})
        heads = {
            head.account_id: head
            for head in ChainHead.objects.select_for_update()
            .filter(account_id__in={item.account_id for item in items.values()})
            .order_by("account_id")
        }
        # Events are unique on (item, type, occurred_at): versions of one item disposed of in
        # the same instant are a microsecond apart.
        taken = set(
            ItemEvent.objects.filter(
                item_id__in=items, type=ItemEvent.Type.DISPOSED, occurred_at__gte=now
            ).values_list("item_id", "occurred_at")
        )
        version_ids = [version.pk for version in versions]
        attachments = list(
            VersionMedia.objects.filter(version_id__in=version_ids).values_list(
                "version_id", "media_id", "caption_id"
            )
        )
        removed: dict[int, int] = {}
        candidates: set[int] = set()
        for version_id, media_id, caption_id in attachments:
            removed[version_id] = removed.get(version_id, 0) + 1
            candidates.update(pk for pk in (media_id, caption_id) if pk is not None)
        VersionMedia.objects.filter(version_id__in=version_ids).delete()
        ItemVersion.objects.filter(pk__in=version_ids).update(
            text=None, html=None, raw_payload=None
        )
        orphans = _unreferenced_media(candidates)
        names = [media.storage_name for media in orphans]
        MediaFile.objects.filter(pk__in=[media.pk for media in orphans]).delete()
        events = []
        for version in sorted(versions, key=lambda v: (items[v.item_id].account_id, v.pk)):
            item = items[version.item_id]
            head = heads.get(item.account_id)
            if head is None:  # pragma: no cover - capture always creates the head
                head = heads[item.account_id] = ChainHead.objects.select_for_update().create(
                    account_id=item.account_id
                )
            occurred = now
            while (item.pk, occurred) in taken:
                occurred += dt.timedelta(microseconds=1)
            taken.add((item.pk, occurred))
            version.text = version.html = version.raw_payload = None
            head.seq += 1
            event = ItemEvent(
                account_id=item.account_id,
                item=item,
                type=ItemEvent.Type.DISPOSED,
                occurred_at=occurred,
                details={
                    **details,
                    "version_id": version.pk,
                    "version": version.number,
                    "content_digest": version.content_digest,
                    "attachments_removed": removed.get(version.pk, 0),
                },
                actor_name=actor_label(actor),
                source=source[:100],
                seq=head.seq,
                recorded_at=now,
            )
            event.chain_digest = chain_digest(head.digest, head.seq, event_entry(item, event))
            head.digest = event.chain_digest
            events.append(event)
        ItemEvent.objects.bulk_create(events)
        for head in heads.values():
            head.save(update_fields=["seq", "digest"])
        # The derived search index must forget the disposed words too.
        search_index_update(item_ids=list(items))
        transaction.on_commit(lambda: _delete_files(names))
    order = {version.pk: index for index, version in enumerate(versions)}
    return sorted(events, key=lambda e: order[e.details["version_id"]])


def _delete_files(names: list[str]) -> None:
    for name in names:
        # An empty name is a file the archive never held (`services.NOT_HELD`): nothing to
        # delete, and the storage would read it as its own root folder.
        if name and default_storage.exists(name):
            default_storage.delete(name)
