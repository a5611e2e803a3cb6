"""Every change in records management: rules, disposal runs, holds, erasure requests, registration.

Each service validates, writes in one transaction and logs to the audit log. The archive's
content is changed only by `disposal_run_commit`, through `archive.events.version_dispose`;
flags reach the archive only through `archive.events.item_event_record` (R10).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from narvaro.archive.capture import iso
from narvaro.archive.events import actor_label, item_event_record, versions_dispose
from narvaro.archive.models import Item, ItemEvent, ItemVersion
from narvaro.channels.models import Account
from narvaro.core.audit_summaries import (
    DISPOSAL_COMMITTED,
    DISPOSAL_RUN_VIEWED,
    DRY_RUN_MADE,
    ERASURE_DECIDED,
    ERASURE_RECORDED,
    HOLD_PLACED,
    HOLD_RELEASED,
    REGISTERED,
    REGISTRY_ENTRY_VIEWED,
    REGISTRY_EXPORTED,
    RULE_CREATED,
    RULE_DEACTIVATED,
    SECRECY_LIFTED,
    audit_summary,
)
from narvaro.core.models import AuditEvent, User
from narvaro.core.services import audit_record
from narvaro.lib.links import absolute_url
from narvaro.organisation.models import Unit
from narvaro.retention.models import (
    DisposalLogEntry,
    DisposalRun,
    DisposalRunItem,
    ErasureRequest,
    HoldScope,
    LegalHold,
    RegistryEntry,
    RetentionRule,
)
from narvaro.retention.selectors import (
    held_item_ids,
    registry_items,
    rule_items,
    thread_items,
    thread_key,
    without_held,
)

SOURCE = "retention"
# Versions disposed of per bulk call (bounded, so the SQL stays within parameter limits).
DISPOSAL_CHUNK = 500

# R28: the default outcome for public records, with its reasons.
DEFAULT_ERASURE_REASONS = (
    "The records are public records (allmänna handlingar) that the authority must keep under "
    "the Archives Act (arkivlagen). The right to erasure does not apply where processing is "
    "necessary to comply with a legal obligation or for archiving purposes in the public "
    "interest (GDPR art. 17(3)(b) and (d)). The records stay in the archive until a gallring "
    "decision allows their disposal; they may be hidden on the platform."
)


# --- Rules ------------------------------------------------------------------------------------


@transaction.atomic
def rule_create(
    *,
    actor: User | None,
    name: str,
    record_class: str,
    decision_reference: str,
    period_days: int,
    unit: Unit | None = None,
    account: Account | None = None,
    kind: str = "",
    author: str = "",
    request: HttpRequest | None = None,
) -> RetentionRule:
    """Create an active gallring rule (R27). Nothing is disposed of until a run is committed."""
    rule = RetentionRule(
        name=name,
        record_class=record_class,
        decision_reference=decision_reference.strip(),
        period_days=period_days,
        unit=unit,
        account=account,
        kind=kind,
        author=author.strip(),
        created_by=actor if actor is not None and actor.pk else None,
    )
    rule.full_clean()
    rule.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=rule,
        summary=audit_summary(
            RULE_CREATED,
            rule=rule.name,
            record_class=rule.record_class,
            days=rule.period_days,
            decision_ref=rule.decision_reference,
        ),
        request=request,
    )
    return rule


@transaction.atomic
def rule_deactivate(
    *, actor: User | None, rule: RetentionRule, request: HttpRequest | None = None
) -> RetentionRule:
    """Retire a rule: no new runs, and its uncommitted dry runs can no longer be committed."""
    if rule.active:
        rule.active = False
        rule.save(update_fields=["active", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=rule,
            summary=audit_summary(RULE_DEACTIVATED, rule=rule.name),
            changes={"active": [True, False]},
            request=request,
        )
    return rule


# --- Disposal runs ------------------------------------------------------------------------------


@transaction.atomic
def disposal_run_create(
    *,
    actor: User | None,
    rule: RetentionRule,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> DisposalRun:
    """A dry run: list what `rule` would dispose of now, outside every legal hold (R27).

    Nothing in the archive changes. The list is kept, so the commit disposes of exactly
    what was shown (less anything held since).
    """
    if not rule.active:
        raise ValidationError(_("This rule is no longer active."))
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=rule.period_days)
    items = without_held(rule_items(rule, cutoff))
    versions: dict[int, list[int]] = {}
    for item_id, version_id in (
        ItemVersion.objects.filter(item__in=items.values("pk"), raw_payload__isnull=False)
        .order_by("item_id", "number")
        .values_list("item_id", "pk")
    ):
        versions.setdefault(item_id, []).append(version_id)
    run = DisposalRun.objects.create(
        rule=rule,
        cutoff=cutoff,
        created_at=now,
        created_by=actor if actor is not None and actor.pk else None,
        created_by_name=actor_label(actor),
        item_count=len(versions),
    )
    DisposalRunItem.objects.bulk_create(
        DisposalRunItem(run=run, item_id=item_id, version_ids=ids)
        for item_id, ids in versions.items()
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=run,
        summary=audit_summary(DRY_RUN_MADE, rule=rule.name, count=len(versions)),
        request=request,
    )
    return run


def _disposal_reminder_text(runs: list[DisposalRun]) -> tuple[str, str]:
    """Subject and body of the reminder, in the active language, each run with its address."""
    lines = []
    for run in runs:
        lines.append(
            ngettext(
                "- %(rule)s (%(decision)s): %(count)s item",
                "- %(rule)s (%(decision)s): %(count)s items",
                run.item_count,
            )
            % {
                "rule": run.rule.name,
                "decision": run.rule.decision_reference,
                "count": run.item_count,
            }
        )
        lines.append(f"  {absolute_url(reverse('retention:run_detail', args=[run.pk]))}")
    subject = _("Narvaro: disposal (gallring) runs wait for a decision")
    body = "\n".join(
        [
            _(
                "These dry runs list records their rules allow to be disposed of. Nothing has "
                "been disposed of; open each run in Narvaro and commit it, or leave it."
            ),
            "",
            *lines,
        ]
    )
    return subject, body


def disposal_runs_remind() -> list[DisposalRun]:
    """Make a dry run of each active rule that has none waiting, and tell the records officers.

    Returns the new dry runs. Nothing is disposed of. The e-mail, in the organisation's
    language, names each rule, its decision, how many items wait and the full address of the
    run's page, and goes to every active registrar and admin with an address.
    """
    from django.core.mail import send_mail

    made: list[DisposalRun] = []
    for rule in RetentionRule.objects.filter(active=True).order_by("pk"):
        latest = rule.runs.order_by("-created_at", "-id").first()
        if latest is not None and latest.is_dry_run:
            continue
        made.append(disposal_run_create(actor=None, rule=rule))
    waiting = [run for run in made if run.item_count]
    recipients = list(
        User.objects.filter(
            is_active=True, org_role__in=[User.OrgRole.ADMIN, User.OrgRole.REGISTRAR]
        )
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if waiting and recipients:
        with translation.override(settings.LANGUAGE_CODE):
            subject, body = _disposal_reminder_text(waiting)
        send_mail(subject, body, None, recipients)
    return made


@transaction.atomic
def disposal_run_view_log(
    *, actor: User, run: DisposalRun, request: HttpRequest | None = None
) -> None:
    """Log that `actor` opened a run's list of records (R37)."""
    audit_record(
        actor=actor,
        action=AuditEvent.Action.VIEW,
        target=run,
        summary=audit_summary(DISPOSAL_RUN_VIEWED, run=run.pk),
        request=request,
    )


@transaction.atomic
def registry_entry_view_log(
    *, actor: User, entry: RegistryEntry, request: HttpRequest | None = None
) -> None:
    """Log that `actor` opened a registry entry and its records (R37)."""
    audit_record(
        actor=actor,
        action=AuditEvent.Action.VIEW,
        target=entry,
        unit_id=entry.item.account.unit_id,
        summary=audit_summary(REGISTRY_ENTRY_VIEWED, entry=entry.case_number or entry.pk),
        request=request,
    )


def disposal_run_commit(
    *, actor: User | None, run: DisposalRun, request: HttpRequest | None = None
) -> DisposalRun:
    """Dispose of what the dry run listed, and log each version (R27).

    Holds are checked again: an item held since the dry run is skipped. Each version goes
    through `version_dispose` (content emptied, digests kept, DISPOSED event chained) and
    gets a gallring log entry. All in one transaction: a failure disposes of nothing.
    """
    with transaction.atomic():
        run = DisposalRun.objects.select_for_update().select_related("rule").get(pk=run.pk)
        if not run.is_dry_run:
            raise ValidationError(_("This run has already been committed."))
        rule = run.rule
        if not rule.active:
            raise ValidationError(_("The rule was deactivated; make a new dry run."))
        entries = list(run.entries.select_related("item"))
        held = held_item_ids(entry.item_id for entry in entries)
        versions = ItemVersion.objects.in_bulk(
            [pk for entry in entries for pk in entry.version_ids]
        )
        now = timezone.now()
        skipped = 0
        logs: list[DisposalLogEntry] = []
        details = {
            "rule": rule.pk,
            "run": run.pk,
            "record_class": rule.record_class,
            "decision": rule.decision_reference,
        }
        to_dispose: list[tuple[DisposalRunItem, ItemVersion]] = []
        for entry in entries:
            if entry.item_id in held:
                entry.outcome = DisposalRunItem.Outcome.HELD
                skipped += 1
                continue
            live = [
                versions[pk]
                for pk in entry.version_ids
                if pk in versions and versions[pk].raw_payload is not None
            ]
            if not live:
                entry.outcome = DisposalRunItem.Outcome.GONE
                skipped += 1
                continue
            to_dispose.extend((entry, version) for version in live)
            entry.outcome = DisposalRunItem.Outcome.DISPOSED
        for start in range(0, len(to_dispose), DISPOSAL_CHUNK):
            chunk = to_dispose[start : start + DISPOSAL_CHUNK]
            events = versions_dispose(
                versions=[version for _, version in chunk],
                actor=actor,
                details=details,
                source=SOURCE,
            )
            for (entry, version), event in zip(chunk, events, strict=True):
                logs.append(
                    DisposalLogEntry(
                        run=run,
                        rule=rule,
                        item=entry.item,
                        version=version,
                        event=event,
                        item_label=str(entry.item),
                        version_number=version.number,
                        content_digest=version.content_digest,
                        record_class=rule.record_class,
                        decision_reference=rule.decision_reference,
                        disposed_at=now,
                        disposed_by=actor if actor is not None and actor.pk else None,
                        disposed_by_name=actor_label(actor),
                    )
                )
        disposed = len(logs)
        DisposalRunItem.objects.bulk_update(entries, ["outcome"])
        DisposalLogEntry.objects.bulk_create(logs)
        run.state = DisposalRun.State.COMMITTED
        run.committed_at = now
        run.committed_by = actor if actor is not None and actor.pk else None
        run.committed_by_name = actor_label(actor)
        run.disposed_count = disposed
        run.skipped_count = skipped
        run.save()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.DELETE,
            target=run,
            summary=audit_summary(
                DISPOSAL_COMMITTED,
                decision_ref=rule.decision_reference,
                versions=disposed,
                items=len(entries) - skipped,
                skipped=skipped,
            ),
            request=request,
        )
    return run


# --- Legal holds --------------------------------------------------------------------------------


@transaction.atomic
def hold_place(
    *,
    actor: User | None,
    scope: str,
    reason: str,
    kind: str = LegalHold.Kind.MANUAL,
    item: Item | None = None,
    account: Account | None = None,
    author_handle: str = "",
    reference: str = "",
    request: HttpRequest | None = None,
) -> LegalHold:
    """Place a legal hold: what it covers is left out of every disposal until released."""
    hold = LegalHold(
        kind=kind,
        scope=scope,
        reason=reason.strip(),
        reference=reference.strip(),
        created_by=actor if actor is not None and actor.pk else None,
    )
    if scope in (HoldScope.ITEM, HoldScope.THREAD):
        if item is None:
            raise ValidationError({"item": _("Choose the record this hold covers.")})
        hold.item, hold.platform = item, item.platform
        if scope == HoldScope.THREAD:
            hold.thread_key = thread_key(item)
    elif scope == HoldScope.ACCOUNT:
        if account is None:
            raise ValidationError({"account": _("Choose the account this hold covers.")})
        hold.account = account
    elif scope == HoldScope.AUTHOR:
        if not author_handle.strip():
            raise ValidationError({"author_handle": _("Give the author's handle.")})
        hold.author_handle = author_handle.strip().lower()
    if kind == LegalHold.Kind.POLICE_REPORT and not hold.reference:
        raise ValidationError({"reference": _("Give the police report's number.")})
    hold.full_clean()
    hold.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=hold,
        summary=audit_summary(
            HOLD_PLACED, hold_kind=hold.kind, hold_scope=hold.scope, covers=hold.covers_label
        ),
        request=request,
    )
    return hold


@transaction.atomic
def hold_release(
    *, actor: User | None, hold: LegalHold, reason: str, request: HttpRequest | None = None
) -> LegalHold:
    """Release a hold (kept, with who and why), so disposal may cover its records again."""
    if not hold.is_open:
        raise ValidationError(_("This hold has already been released."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the hold is released.")})
    hold.released_at = timezone.now()
    hold.released_by = actor if actor is not None and actor.pk else None
    hold.release_reason = reason.strip()
    hold.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=hold,
        summary=audit_summary(HOLD_RELEASED, covers=hold.covers_label),
        request=request,
    )
    return hold


# --- Erasure requests (R28) ---------------------------------------------------------------------


@transaction.atomic
def erasure_request_record(
    *,
    actor: User | None,
    scope: str,
    received_at: dt.datetime | None = None,
    requester: str = "",
    contact: str = "",
    item: Item | None = None,
    request: HttpRequest | None = None,
) -> ErasureRequest:
    """Record a GDPR art. 17 request as received (the requester's name is optional)."""
    erasure = ErasureRequest(
        received_at=received_at or timezone.now(),
        requester=requester.strip(),
        contact=contact.strip(),
        scope=scope.strip(),
        item=item,
        created_by=actor if actor is not None and actor.pk else None,
    )
    erasure.full_clean()
    erasure.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=erasure,
        summary=audit_summary(ERASURE_RECORDED),
        request=request,
    )
    return erasure


@transaction.atomic
def erasure_request_decide(
    *,
    actor: User | None,
    erasure: ErasureRequest,
    decision: str,
    reasons: str,
    requester_told_on: dt.date | None = None,
    request: HttpRequest | None = None,
) -> ErasureRequest:
    """Decide an erasure request once; the decision and its reasons are kept (R28).

    Erasure from the archive happens only through a committed disposal under a rule, never
    here: this records the decision, it erases nothing.
    """
    if erasure.is_decided:
        raise ValidationError(_("This request has already been decided."))
    if not reasons.strip():
        raise ValidationError({"reasons": _("Give the reasons for the decision.")})
    erasure.decision = decision
    erasure.reasons = reasons.strip()
    erasure.decided_at = timezone.now()
    erasure.decided_by = actor if actor is not None and actor.pk else None
    erasure.requester_told_on = requester_told_on
    erasure.full_clean()
    erasure.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=erasure,
        summary=audit_summary(ERASURE_DECIDED, erasure_decision=decision),
        changes={"decision": ["", decision]},
        request=request,
    )
    return erasure


# --- Registration (R13) -------------------------------------------------------------------------


def registry_flag(
    *,
    actor: User | None,
    item: Item,
    kind: str,
    received_on: dt.date,
    sender: str,
    description: str,
    case_number: str = "",
    officer: str = "",
    scope: str = RegistryEntry.Scope.ITEM,
    request: HttpRequest | None = None,
) -> RegistryEntry:
    """Register `item` (or its whole thread) as a case or as secret, and flag it in the archive.

    Secret needs a registry reference (R13). The flag is an archive event (FLAGGED_CASE or
    FLAGGED_SECRET) on each item covered, appended to the hash chain; a secret item is then
    shown only to registrars and admins. A registered item is held from disposal.
    """
    entry = RegistryEntry(
        kind=kind,
        scope=scope,
        item=item,
        platform=item.platform,
        thread_key=thread_key(item),
        received_on=received_on,
        sender=sender.strip(),
        description=description.strip(),
        case_number=case_number.strip(),
        officer=officer.strip(),
        created_by=actor if actor is not None and actor.pk else None,
    )
    if kind == RegistryEntry.Kind.SECRET and not entry.case_number:
        raise ValidationError(
            {"case_number": _("A secret record must be registered: give its case number.")}
        )
    entry.full_clean()
    event_type = (
        ItemEvent.Type.FLAGGED_SECRET
        if kind == RegistryEntry.Kind.SECRET
        else ItemEvent.Type.FLAGGED_CASE
    )
    targets = (
        list(thread_items(item).order_by("account_id", "id"))
        if scope == RegistryEntry.Scope.THREAD
        else [item]
    )
    with transaction.atomic():
        entry.save()
        for target in targets:
            item_event_record(
                item=target,
                type=event_type,
                details={
                    "registry_entry": entry.pk,
                    "case_number": entry.case_number,
                    "scope": scope,
                },
                actor=actor,
                source=SOURCE,
            )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            target=entry,
            unit_id=item.account.unit_id,
            summary=audit_summary(
                REGISTERED,
                item=item,
                registry_kind=kind,
                registry_scope=scope,
                case=entry.case_number or "–",
            ),
            request=request,
        )
    return entry


def registry_secrecy_lift(
    *,
    actor: User | None,
    entry: RegistryEntry,
    reason: str,
    request: HttpRequest | None = None,
) -> RegistryEntry:
    """Lift a secret flag: SECRET_LIFTED on each item flagged, the entry stays registered."""
    if entry.kind != RegistryEntry.Kind.SECRET:
        raise ValidationError(_("Only a secret registration can be lifted."))
    if entry.is_lifted:
        raise ValidationError(_("Secrecy has already been lifted."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why secrecy is lifted.")})
    with transaction.atomic():
        for item in registry_items(entry):
            item_event_record(
                item=item,
                type=ItemEvent.Type.SECRET_LIFTED,
                details={"registry_entry": entry.pk, "case_number": entry.case_number},
                actor=actor,
                source=SOURCE,
            )
        entry.lifted_at = timezone.now()
        entry.lifted_by = actor if actor is not None and actor.pk else None
        entry.lift_reason = reason.strip()
        entry.save()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=entry,
            unit_id=entry.item.account.unit_id,
            summary=audit_summary(SECRECY_LIFTED, case=entry.case_number),
            request=request,
        )
    return entry


def registry_entry_data(entry: RegistryEntry, items: list[Item]) -> dict[str, Any]:
    """One registry entry as the case-management system reads it (both timestamps, R9)."""
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "case_number": entry.case_number,
        "received_on": entry.received_on.isoformat(),
        "sender": entry.sender,
        "description": entry.description,
        "officer": entry.officer,
        "scope": entry.scope,
        "registered_at": iso(entry.created_at),
        "registered_by": str(entry.created_by) if entry.created_by else "system",
        "secrecy_lifted_at": iso(entry.lifted_at),
        "items": [
            {
                "platform": item.platform,
                "remote_id": item.remote_id,
                "account": f"{item.account.platform}:{item.account.handle}",
                "kind": item.kind,
                "direction": item.direction,
                "author": item.author_handle,
                "created_at": iso(item.created_at),
                "first_seen_at": iso(item.first_seen_at),
                "thread": thread_key(item),
                "permalink": item.permalink,
            }
            for item in items
        ],
    }


@transaction.atomic
def registry_export(
    *,
    actor: User | None,
    entries: list[RegistryEntry],
    via: str = "web",
    request: HttpRequest | None = None,
) -> str:
    """The registry entries as JSON for the case-management system, logged as an export (R13)."""
    data = {
        "format": "narvaro-registry/1",
        "organisation": settings.ORGANISATION_NAME,
        "exported_at": iso(timezone.now()),
        "entries": [
            registry_entry_data(entry, list(registry_items(entry).select_related("account")))
            for entry in entries
        ],
    }
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        summary=audit_summary(REGISTRY_EXPORTED, via=via, count=len(entries)),
        changes={"entries": [entry.pk for entry in entries], "via": via},
        request=request,
    )
    return json.dumps(data, ensure_ascii=False, indent=2)
