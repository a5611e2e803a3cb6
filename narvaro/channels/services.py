"""Every change to the channel register and comment policies, each written to the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from narvaro.channels.lifecycle import TRANSITIONS, activation_problems, closing_problems
from narvaro.channels.models import (
    Account,
    AccountPolicyPublication,
    CommentPolicy,
    CommentPolicyVersion,
)
from narvaro.core.audit_summaries import (
    CHANNEL_REGISTER_EXPORTED,
    EXPORT_IMPORTED,
    audit_summary,
)
from narvaro.core.models import AuditEvent, User
from narvaro.core.services import audit_record, model_changes, model_snapshot
from narvaro.lib.spreadsheet import spreadsheet_safe

ACCOUNT_FIELDS = [
    "unit",
    "platform",
    "handle",
    "display_name",
    "profile_url",
    "kind",
    "officeholder_title",
    "purpose",
    "audience",
    "opened_on",
    "closed_on",
    "retention_decision_ref",
    "dpia_ref",
    "comment_policy_version",
    "verification",
]
ACCOUNT_M2M = ["responsible", "moderators"]


def _m2m_snapshot(account: Account) -> dict[str, list[str]]:
    if account.pk is None:
        return {name: [] for name in ACCOUNT_M2M}
    return {
        name: sorted(str(person) for person in getattr(account, name).all()) for name in ACCOUNT_M2M
    }


def _record_policy_publication(
    *, account: Account, actor: User | None, on: dt.date | None = None
) -> None:
    version = account.comment_policy_version
    # Only a live account publishes its policy: a proposed account records it at activation.
    if version is None or account.state not in (Account.State.ACTIVE, Account.State.CLOSING):
        return
    latest = account.policy_publications.order_by("-published_on", "-id").first()
    if latest is not None and latest.version_id == version.pk:
        return
    AccountPolicyPublication.objects.create(
        account=account,
        version=version,
        published_on=on or timezone.localdate(),
        recorded_by=actor,
    )


@transaction.atomic
def account_create(*, actor: User | None, **fields: Any) -> Account:
    """Propose a new account for the register. New accounts always start as proposed."""
    m2m = {name: fields.pop(name, []) for name in ACCOUNT_M2M}
    unknown = set(fields) - set(ACCOUNT_FIELDS)
    if unknown:
        raise ValueError(f"account_create got unknown fields: {sorted(unknown)}")
    account = Account(state=Account.State.PROPOSED, **fields)
    account.full_clean()
    account.save()
    for name, people in m2m.items():
        getattr(account, name).set(people)
    _record_policy_publication(account=account, actor=actor)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=account,
        unit_id=account.unit_id,
        summary="account proposed",
        changes={
            **{f: [None, _str(getattr(account, f))] for f in ACCOUNT_FIELDS if getattr(account, f)},
            **{k: [[], v] for k, v in _m2m_snapshot(account).items() if v},
        },
    )
    return account


@transaction.atomic
def account_update(*, actor: User | None, account: Account, **fields: Any) -> Account:
    """Change register fields. An active account must stay complete (R1)."""
    # Lock the row and take its current state: the caller's object may be stale, and saving
    # a stale state would silently undo a lifecycle transition made meanwhile.
    stored = Account.objects.select_for_update().get(pk=account.pk)
    account.state = stored.state
    # Compare with the stored row: a ModelForm has already written the new values onto `account`.
    before = model_snapshot(stored, ACCOUNT_FIELDS)
    before_m2m = _m2m_snapshot(account)
    old_unit_id = stored.unit_id
    m2m = {name: fields.pop(name) for name in ACCOUNT_M2M if name in fields}
    unknown = set(fields) - set(ACCOUNT_FIELDS)
    if unknown:
        raise ValueError(f"account_update got unknown fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(account, name, value)
    account.full_clean()
    account.save(update_fields=[*ACCOUNT_FIELDS, "updated_at"])
    for name, people in m2m.items():
        getattr(account, name).set(people)
    if account.state in (Account.State.ACTIVE, Account.State.CLOSING):
        problems = activation_problems(account)
        if problems:
            # Rolls the whole change back: an active account never loses a register field.
            raise ValidationError(problems)
    _record_policy_publication(account=account, actor=actor)
    diff = model_changes(before, account, ACCOUNT_FIELDS)
    after_m2m = _m2m_snapshot(account)
    diff.update(
        {k: [before_m2m[k], after_m2m[k]] for k in ACCOUNT_M2M if before_m2m[k] != after_m2m[k]}
    )
    if diff:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=account,
            unit_id=account.unit_id,
            changes=diff,
        )
        if old_unit_id != account.unit_id:
            # The old unit's managers see in their log that the account left them.
            audit_record(
                actor=actor,
                action=AuditEvent.Action.UPDATE,
                target=account,
                unit_id=old_unit_id,
                summary="account moved to another unit",
                changes={"unit": diff.get("unit", [])},
            )
    return account


@transaction.atomic
def account_transition(
    *, actor: User | None, account: Account, to_state: str, on: dt.date | None = None
) -> Account:
    """Move an account along its lifecycle (proposed → active → closing → closed).

    Activation is refused while a register field is empty or the comment policy version
    has no publication date. Closing records the closing date.
    """
    account = Account.objects.select_for_update().get(pk=account.pk)
    from_state = account.state
    if (from_state, to_state) not in TRANSITIONS:
        raise ValidationError(
            _("An account cannot go from %(from)s to %(to)s.")
            % {
                "from": Account.State(from_state).label,
                "to": Account.State(to_state).label
                if to_state in Account.State.values
                else to_state,
            }
        )
    if to_state == Account.State.ACTIVE:
        problems = activation_problems(account)
        if problems:
            raise ValidationError(problems)
    if to_state == Account.State.CLOSED:
        problems = closing_problems(account)
        if problems:
            raise ValidationError(problems)
    if to_state == Account.State.CLOSED:
        account.closed_on = on or timezone.localdate()
    if to_state == Account.State.ACTIVE:
        account.closed_on = None
    account.state = to_state
    account.full_clean()
    account.save()
    if to_state == Account.State.ACTIVE:
        _record_policy_publication(account=account, actor=actor, on=on)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        target=account,
        unit_id=account.unit_id,
        summary=f"{from_state} → {to_state}",
        changes={"state": [from_state, to_state]},
    )
    return account


@transaction.atomic
def policy_create(
    *, actor: User | None, name: str, text: str, unit: Any = None, change_note: str = ""
) -> CommentPolicy:
    """Create a comment policy with its first version (unpublished)."""
    policy = CommentPolicy(name=name, unit=unit)
    policy.full_clean()
    policy.save()
    policy_version_add(actor=actor, policy=policy, text=text, change_note=change_note)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=policy,
        unit_id=policy.unit_id,
        summary="comment policy created",
    )
    return policy


@transaction.atomic
def policy_version_add(
    *, actor: User | None, policy: CommentPolicy, text: str, change_note: str = ""
) -> CommentPolicyVersion:
    """Add a new version of a policy's text. Earlier versions never change."""
    # Lock the policy row so two editors cannot both write version N+1.
    CommentPolicy.objects.select_for_update().filter(pk=policy.pk).exists()
    number = (policy.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = CommentPolicyVersion(
        policy=policy, number=number, text=text, change_note=change_note, created_by=actor
    )
    version.full_clean()
    version.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=version,
        unit_id=policy.unit_id,
        summary=change_note or f"version {number} written",
    )
    return version


@transaction.atomic
def policy_version_publish(
    *,
    actor: User | None,
    version: CommentPolicyVersion,
    published_at: dt.datetime | None = None,
    published_url: str = "",
) -> CommentPolicyVersion:
    """Record that a version was made public. A publication date, once set, is final."""
    version = (
        CommentPolicyVersion.objects.select_for_update().select_related("policy").get(pk=version.pk)
    )
    if version.published_at is not None:
        raise ValidationError(_("This version was already published."))
    version.published_at = published_at or timezone.now()
    version.published_url = published_url
    version.full_clean()
    version.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        target=version,
        unit_id=version.policy.unit_id,
        summary="comment policy version published",
        changes={"published_at": [None, version.published_at.isoformat()]},
    )
    return version


def _str(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


REGISTER_COLUMNS = [
    "organisation",
    "unit",
    "platform",
    "handle",
    "display_name",
    "profile_url",
    "kind",
    "office",
    "state",
    "purpose",
    "audience",
    "responsible",
    "moderators",
    "opened_on",
    "closed_on",
    "retention_decision",
    "data_protection_assessment",
    "comment_policy",
    "comment_policy_version",
    "comment_policy_published_at",
    "verification",
]
# The CSV's headings, in the language of the person exporting (JSON keeps the keys above).
REGISTER_HEADINGS = {
    "organisation": gettext_lazy("Organisation"),
    "unit": gettext_lazy("Unit"),
    "platform": gettext_lazy("Platform"),
    "handle": gettext_lazy("Handle"),
    "display_name": gettext_lazy("Display name"),
    "profile_url": gettext_lazy("Profile address"),
    "kind": gettext_lazy("Kind"),
    "office": gettext_lazy("Office"),
    "state": gettext_lazy("State"),
    "purpose": gettext_lazy("Purpose"),
    "audience": gettext_lazy("Audience"),
    "responsible": gettext_lazy("Responsible staff"),
    "moderators": gettext_lazy("Moderators"),
    "opened_on": gettext_lazy("Opened"),
    "closed_on": gettext_lazy("Closed"),
    "retention_decision": gettext_lazy("Retention decision"),
    "data_protection_assessment": gettext_lazy("Data protection assessment"),
    "comment_policy": gettext_lazy("Comment policy"),
    "comment_policy_version": gettext_lazy("Comment policy version"),
    "comment_policy_published_at": gettext_lazy("Comment policy published"),
    "verification": gettext_lazy("Verification"),
}


def _register_row(account: Account, organisation: str) -> dict[str, Any]:
    version = account.comment_policy_version
    return {
        "organisation": organisation,
        "unit": account.unit.name,
        "platform": account.platform,
        "handle": account.handle,
        "display_name": account.display_name,
        "profile_url": account.profile_url,
        "kind": account.kind,
        "office": account.officeholder_title,
        "state": account.state,
        "purpose": account.purpose,
        "audience": account.audience,
        "responsible": [str(person) for person in account.responsible.all()],
        "moderators": [str(person) for person in account.moderators.all()],
        "opened_on": account.opened_on.isoformat() if account.opened_on else None,
        "closed_on": account.closed_on.isoformat() if account.closed_on else None,
        "retention_decision": account.retention_decision_ref,
        "data_protection_assessment": account.dpia_ref,
        "comment_policy": version.policy.name if version else None,
        "comment_policy_version": version.number if version else None,
        "comment_policy_published_at": (
            version.published_at.isoformat() if version and version.published_at else None
        ),
        "verification": account.verification,
    }


@transaction.atomic
def account_register_export(
    *, actor: User | None, accounts: Any, fmt: str, filters: dict[str, Any]
) -> tuple[bytes, str]:
    """The channel register (R1) as CSV or JSON for the records management plan.

    The export is logged with the filters used and the number of rows (R37).
    """
    import csv
    import io
    import json

    from django.conf import settings

    organisation = settings.ORGANISATION_NAME
    rows = [_register_row(account, organisation) for account in accounts]
    if fmt == "json":
        payload = {
            "organisation": organisation,
            "exported_at": timezone.now().isoformat(),
            "accounts": rows,
        }
        content = json.dumps(payload, ensure_ascii=False, indent=2).encode()
        content_type = "application/json"
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([str(REGISTER_HEADINGS[column]) for column in REGISTER_COLUMNS])
        for row in rows:
            joined = {k: "; ".join(v) if isinstance(v, list) else v for k, v in row.items()}
            writer.writerow([spreadsheet_safe(joined[column]) for column in REGISTER_COLUMNS])
        # A byte-order mark lets spreadsheet programs open the file as UTF-8 (å, ä, ö).
        content = ("\ufeff" + buffer.getvalue()).encode()
        content_type = "text/csv; charset=utf-8"
    else:
        raise ValueError(f"unknown register format {fmt!r}")
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        summary=audit_summary(CHANNEL_REGISTER_EXPORTED, format=fmt, count=len(rows)),
        changes={"filters": {k: _str(v) for k, v in filters.items() if v}},
    )
    return content, content_type


def account_import_target_check(*, spec: str, platform: str, unit_slug: str | None) -> str:
    """Check --account and --unit without writing anything; return the account's handle."""
    from django.core.management.base import CommandError

    from narvaro.organisation.selectors import get_unit_by_slug

    named_platform, sep, handle = spec.partition(":")
    if not sep or not handle:
        raise CommandError(f"--account {spec!r}: write it as PLATFORM:HANDLE, e.g. x:@strandvik")
    if named_platform != platform:
        raise CommandError(
            f"--account {spec!r} is a {named_platform} account, but this is a {platform} export"
        )
    if Account.objects.filter(platform=platform, handle=handle).exists():
        return handle
    if not unit_slug:
        raise CommandError(
            f"No account {spec} in the register. Name the unit it belongs to with --unit SLUG "
            "to add it as proposed."
        )
    if get_unit_by_slug(unit_slug) is None:
        raise CommandError(f"--unit {unit_slug!r}: no unit has that short name")
    return handle


@transaction.atomic
def account_for_import(*, spec: str, platform: str, unit_slug: str | None) -> Account:
    """The account an import goes into, named PLATFORM:HANDLE on the command line.

    An account that is not in the register yet is created as proposed in the named unit,
    so that nothing is archived under an account nobody answers for.
    """
    from narvaro.organisation.selectors import get_unit_by_slug

    handle = account_import_target_check(spec=spec, platform=platform, unit_slug=unit_slug)
    account = Account.objects.filter(platform=platform, handle=handle).first()
    if account is not None:
        return account
    unit = get_unit_by_slug(unit_slug or "")
    return account_create(actor=None, unit=unit, platform=platform, handle=handle)


def import_batch_store(*, account: Account, batch: Any, format_name: str) -> Any:
    """Store one importer batch through the archive's single writer."""
    from narvaro.archive.services import capture_batch

    return capture_batch(
        account=account,
        captures=batch.captures,
        events=batch.events,
        source=f"import:{format_name}",
    )


def import_events_unheld(*, batch: Any) -> list[Any]:
    """Take out of `batch` the events about items the archive does not hold, and return them.

    An export can name what was never captured (a deleted status whose post was never
    imported); the archive refuses such an event, so the import reports it instead of
    failing. Items are never removed, so what is held now is still held when the batch
    is stored.
    """
    from narvaro.archive.selectors import items_held

    if not batch.events:
        return []
    held = {(capture.platform, capture.remote_id) for capture in batch.captures}
    held |= items_held({(event.platform, event.remote_id) for event in batch.events} - held)
    unheld = [e for e in batch.events if (e.platform, e.remote_id) not in held]
    batch.events = [e for e in batch.events if (e.platform, e.remote_id) in held]
    return unheld


def import_record(*, account: Account, format_name: str, path: str, result: Any) -> None:
    """Write a finished import to the audit log with its counts."""
    audit_record(
        actor=None,
        action=AuditEvent.Action.IMPORT,
        target=account,
        unit_id=account.unit_id,
        summary=audit_summary(EXPORT_IMPORTED, format=format_name, path=path),
        changes={
            "items": result.items,
            "versions": result.versions,
            "events": result.events,
            "media": result.media,
            "media_missing": result.media_missing,
            "duplicates_skipped": result.duplicates_skipped,
        },
    )
