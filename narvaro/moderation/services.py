"""Moderation: the queue, the decisions and what they leave behind (R15–R22).

`moderation_act` is the one way an item is moderated. In order:

1. the request is checked: a reason from the taxonomy and a free text are required, the item
   must be an inbound item the archive holds (with at least one captured version), a policy
   reason needs a comment policy version in force on the account, and an account without a
   live connection can only record what a person did by hand on the platform;
2. a rendering of the item in its thread (PDF, through the records printout) is stored by its
   SHA-256 and a `ModerationAction` row is saved *before* the platform is touched (R17). For
   child sexual abuse material the rendering is a metadata sheet without text or media (R19);
3. the platform action runs through `narvaro.channels.actions` (recorded there as a
   `PlatformAction`, sent or failed); a failure is recorded as failed, never as done;
4. a done action is appended to the item's history in the archive (HIDDEN, REMOVED, REPORTED
   or BLOCKED, with the reason and the policy version), the item stays in the archive; the
   queue entry is marked moderated, the decision is audit-logged, an escalation is opened for
   crimes (R20) and the optional notice is sent to the author (R21).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from narvaro.archive.events import item_event_record
from narvaro.archive.feed import feed_process
from narvaro.archive.models import Direction, Item, ItemEvent, ItemVersion, VersionMedia
from narvaro.archive.selectors import media_withheld_digests, media_withheld_ids
from narvaro.channels import actions as platform
from narvaro.channels.connectors.base import Connector, PostDraft
from narvaro.channels.models import Account, CommentPolicyVersion, Connection, PlatformAction
from narvaro.core import audit_summaries as summaries
from narvaro.core.audit_summaries import audit_summary
from narvaro.core.models import AuditEvent, User
from narvaro.core.services import audit_record
from narvaro.lib.links import absolute_url
from narvaro.moderation.models import (
    ESCALATING_REASONS,
    REASON_GROUPS,
    RESTRICTED_REASONS,
    Action,
    EscalationTask,
    ModerationAction,
    QueueEntry,
    Reason,
    ReasonGroup,
    SupervisionAlert,
)
from narvaro.moderation.selectors import people_with, thread_items
from narvaro.organisation.roles import Capability

FEED_CONSUMER = "moderation"
# The archive event a done action appends to the item's chain. A block concerns the author, but
# it is recorded on the item it was decided on, so the item's record shows it was the cause.
ACTION_EVENTS = {
    Action.HIDE: ItemEvent.Type.HIDDEN,
    Action.DELETE: ItemEvent.Type.REMOVED,
    Action.REPORT: ItemEvent.Type.REPORTED,
    Action.BLOCK: ItemEvent.Type.BLOCKED,
}
OVERDUE_AFTER = dt.timedelta(hours=24)
ESCALATE_AFTER = dt.timedelta(days=7)


# -- the queue ---------------------------------------------------------------------------------


def _entries_for(items: QuerySet[Item]) -> None:
    rows = [
        QueueEntry(
            item=item,
            account_id=item.account_id,
            posted_at=item.created_at or item.first_seen_at,
            seen_at=item.first_seen_at,
        )
        for item in items.filter(direction=Direction.RECEIVED)
    ]
    QueueEntry.objects.bulk_create(rows, ignore_conflicts=True)


def queue_fill(*, limit: int | None = None) -> int:
    """Queue every inbound item captured since the last run (the archive feed); return how
    many items were read."""
    return feed_process(FEED_CONSUMER, _entries_for, limit=limit)


def queue_entry_for(item: Item) -> QueueEntry:
    """The item's queue entry, made now if the feed has not reached it yet."""
    entry, _ = QueueEntry.objects.get_or_create(
        item=item,
        defaults={
            "account_id": item.account_id,
            "posted_at": item.created_at or item.first_seen_at,
            "seen_at": item.first_seen_at,
        },
    )
    return entry


def queue_review(*, actor: User, account: Account, item_ids: list[int]) -> int:
    """Mark these pending items of `account` reviewed with no action; return how many."""
    now = timezone.now()
    with transaction.atomic():
        items = Item.objects.filter(pk__in=item_ids, account=account, direction=Direction.RECEIVED)
        for item in items.exclude(moderation_entry__isnull=False):
            queue_entry_for(item)
        entries = QueueEntry.objects.filter(
            account=account, item_id__in=item_ids, reviewed_at__isnull=True
        )
        reviewed = list(entries.values_list("item_id", flat=True))
        entries.update(reviewed_at=now, reviewed_by=actor, outcome=QueueEntry.Outcome.REVIEWED)
        if reviewed:
            audit_record(
                actor=actor,
                action=AuditEvent.Action.UPDATE,
                target=account,
                unit_id=account.unit_id,
                summary=audit_summary(summaries.MODERATION_REVIEWED, count=len(reviewed)),
                changes={"reviewed": [None, reviewed]},
            )
            _resolve_alerts(account, now)
    return len(reviewed)


def _resolve_alerts(account: Account, now: dt.datetime) -> None:
    SupervisionAlert.objects.filter(account=account, resolved_at__isnull=True).update(
        resolved_at=now
    )


# -- moderation --------------------------------------------------------------------------------


def policy_in_force(account: Account) -> CommentPolicyVersion | None:
    """The comment policy version the account links to now (ADR 0006)."""
    return account.comment_policy_version


def live_connection(account: Account) -> Connection | None:
    """The account's connection to its platform, or None (an imported account)."""
    return Connection.objects.select_related("account").filter(account=account).first()


def default_action(reason: str) -> str:
    """Hide: it stops the spread and keeps the evidence on the platform (R18). Deleting is a
    deliberate second choice, for a BBS crime as for anything else."""
    return Action.HIDE


def notice_template(item: Item, version: CommentPolicyVersion | None) -> str:
    """The standard notice to the author (R21), in the organisation's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(
            "moderation/notice.txt",
            {
                "item": item,
                "policy": version,
                "policy_url": version.published_url if version else "",
            },
        ).strip()


def _validate(
    *,
    item: Item,
    action: str,
    reason: str,
    reason_text: str,
    by_hand: bool,
    connection: Connection | None,
    version: CommentPolicyVersion | None,
) -> None:
    errors: dict[str, list[str]] = {}
    if reason not in Reason.values:
        errors.setdefault("reason", []).append(_("Choose the reason for this action."))
    if not reason_text.strip():
        errors.setdefault("reason_text", []).append(
            _("Explain the decision in your own words; the reason is required.")
        )
    if action not in Action.values:
        errors.setdefault("action", []).append(_("Choose an action."))
    if errors:
        raise ValidationError(errors)
    if item.direction != Direction.RECEIVED:
        raise ValidationError(_("Only what the public posted is moderated, not our own posts."))
    if not ItemVersion.objects.filter(item=item).exists():
        raise ValidationError(
            _("This item is not captured in the archive yet; moderate it once it is.")
        )
    if REASON_GROUPS[reason] == ReasonGroup.POLICY and version is None:
        raise ValidationError(
            {"reason": _("The account links to no comment policy, so no policy reason applies.")}
        )
    if action == Action.BLOCK and not (item.author_platform_id or item.author_handle):
        raise ValidationError({"action": _("The archive does not know who posted this item.")})
    if connection is None and not by_hand:
        raise ValidationError(
            {
                "by_hand": _(
                    "This account has no live connection: do it on the platform, then confirm "
                    "here that it is done."
                )
            }
        )


def _store(folder: str, data: bytes, extension: str) -> tuple[str, str]:
    """Store `data` once under its SHA-256; return (digest, storage name)."""
    digest = hashlib.sha256(data).hexdigest()
    name = f"moderation/{folder}/{digest}.{extension}"
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(data))
        if saved != name:  # a concurrent writer stored the same bytes first
            default_storage.delete(saved)
    return digest, name


def item_rendering(item: Item, *, restricted: bool, title: str) -> bytes:
    """A PDF of `item` in its thread, as the archive holds it (R17).

    Restricted (R19): a sheet of metadata and digests only, with no text and no media, and
    a renderer that may load nothing. Otherwise the records printout of the thread, with no
    media of any restricted item in it.
    """
    from narvaro.disclosure.rendering import html_to_pdf, items_html

    language = settings.LANGUAGE_CODE
    if restricted:
        versions = list(
            ItemVersion.objects.filter(item=item)
            .order_by("number")
            .prefetch_related("attachments__media")
        )
        with translation.override(language):
            sheet = render_to_string(
                "moderation/pdf/restricted.html",
                {
                    "item": item,
                    "versions": versions,
                    "title": title,
                    "language": language,
                    "generated_at": timezone.now(),
                },
            )
        return html_to_pdf(sheet, pdf_a=False, media={})
    thread = thread_items(item)
    html, media = items_html(
        items=thread,
        title=title,
        language=language,
        preamble=[_("Rendered before moderation of %(item)s.") % {"item": item}],
    )
    # Media withheld after a CSAM decision (on any item with the same file) are never drawn.
    withheld = media_withheld_digests(media)
    return html_to_pdf(
        html, pdf_a=False, media={sha: name for sha, name in media.items() if sha not in withheld}
    )


def _run(
    *,
    actor: User,
    connection: Connection,
    item: Item,
    action: str,
    reason: str,
    reason_text: str,
    connector: Connector | None,
) -> PlatformAction:
    """The platform action through the channels' public actions (which record it)."""
    if action == Action.HIDE:
        return platform.action_perform(
            actor=actor,
            connection=connection,
            action="hide",
            target=item.remote_id,
            run=lambda c: c.hide_reply(item.remote_id),
            connector=connector,
        )
    if action == Action.DELETE:
        return platform.action_perform(
            actor=actor,
            connection=connection,
            action="delete",
            target=item.remote_id,
            run=lambda c: c.delete(item.remote_id),
            connector=connector,
        )
    author = item.author_platform_id or item.author_handle
    if action == Action.BLOCK:
        return platform.action_perform(
            actor=actor,
            connection=connection,
            action="block",
            target=author,
            run=lambda c: c.block(author),
            connector=connector,
        )
    comment = f"{Reason(reason).label}: {reason_text}"[:1000]
    # A connector may answer a report with a REPORTED event of its own (Mastodon does). Here the
    # decision appends the item's one REPORTED event, with the reason (ACTION_EVENTS), so the
    # platform's is left out; its report id is kept in that event (`platform_remote_id`).
    return platform.action_perform(
        actor=actor,
        connection=connection,
        action="report",
        target=author,
        run=lambda c: replace(
            c.report(author, remote_ids=(item.remote_id,), comment=comment), events=()
        ),
        request={"remote_ids": [item.remote_id], "comment": comment},
        connector=connector,
    )


def media_withhold(
    *, item: Item, record: ModerationAction, actor: User | None, recorded_later: bool = False
) -> None:
    """R19/R20 follow the decision, not the platform's answer: from the moment a CSAM reason
    is recorded, the item's media (and the same files elsewhere) are shown, served and copied
    nowhere, also when the hide or report then fails. Once per item (the item row is locked,
    so two moderators at once append one event). `recorded_later`: appended after the
    decision (migration moderation 0002, for decisions made before this event existed)."""
    Item.objects.select_for_update().filter(pk=item.pk).first()
    if media_withheld_ids([item.pk]):
        return
    version = record.policy_version
    item_event_record(
        item=item,
        type=ItemEvent.Type.MEDIA_WITHHELD,
        details={
            "moderation_action": record.pk,
            "reason": record.reason,
            "action": record.action,
            "policy_version": version.number if version else None,
            **({"recorded_later": True} if recorded_later else {}),
        },
        actor=actor,
        source="moderation",
    )


def moderation_act(
    *,
    actor: User,
    item: Item,
    action: str,
    reason: str,
    reason_text: str,
    by_hand: bool = False,
    block_until: dt.date | None = None,
    notice_text: str = "",
    notice_visibility: str = "direct",
    connector: Connector | None = None,
) -> ModerationAction:
    """Moderate `item` (see the module docstring); return the recorded action.

    Raises ValidationError when the request is refused; a platform failure is not an
    exception but an action recorded as failed. `connector` is for tests only.
    """
    account = Account.objects.select_related("unit", "comment_policy_version__policy").get(
        pk=item.account_id
    )
    connection = live_connection(account)
    version = policy_in_force(account)
    _validate(
        item=item,
        action=action,
        reason=reason,
        reason_text=reason_text,
        by_hand=by_hand,
        connection=connection,
        version=version,
    )
    if action != Action.BLOCK:
        block_until = None
    restricted = reason in RESTRICTED_REASONS
    pdf = item_rendering(
        item,
        restricted=restricted,
        title=_("%(account)s: item %(item)s before moderation")
        % {"account": account, "item": item},
    )
    digest, name = _store("renderings", pdf, "pdf")
    record = ModerationAction(
        account=account,
        item=item,
        action=action,
        reason=reason,
        reason_text=reason_text.strip(),
        policy_version=version,
        block_until=block_until,
        rendering_sha256=digest,
        rendering_name=name,
        rendering_size=len(pdf),
        restricted=restricted,
        archive_holds_media=restricted
        and VersionMedia.objects.filter(version__item=item, media__isnull=False).exists(),
        notice_text=notice_text.strip(),
        actor=actor,
    )
    record.full_clean()
    with transaction.atomic():
        record.save()  # before the platform is touched: the rendering is on record (R17)
        if restricted:
            media_withhold(item=item, record=record, actor=actor)
    if by_hand:
        record.status = ModerationAction.Status.BY_HAND
    else:
        assert connection is not None
        outcome = _run(
            actor=actor,
            connection=connection,
            item=item,
            action=action,
            reason=reason,
            reason_text=reason_text,
            connector=connector,
        )
        record.platform_action = outcome
        if outcome.status == PlatformAction.Status.SENT:
            record.status = ModerationAction.Status.DONE
        else:
            record.status = ModerationAction.Status.FAILED
            record.error = outcome.error
    with transaction.atomic():
        if record.status != ModerationAction.Status.FAILED:
            record.item_event = item_event_record(
                item=item,
                type=ACTION_EVENTS[Action(action)],
                details=_event_details(record),
                actor=actor,
                source="moderation",
            )
            entry = queue_entry_for(item)
            QueueEntry.objects.filter(pk=entry.pk).update(
                reviewed_at=record.created_at,
                reviewed_by=actor,
                outcome=QueueEntry.Outcome.MODERATED,
            )
            _resolve_alerts(account, timezone.now())
        record.save()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=record,
            unit_id=account.unit_id,
            summary=audit_summary(
                summaries.MODERATION_DECIDED,
                moderation_action=action,
                moderation_status=record.status,
                moderation_reason=reason,
            ),
            changes={
                "action": [None, action],
                "reason": [None, reason],
                "reason_text": [None, record.reason_text],
                "policy_version": [None, str(version) if version else None],
                "status": [None, record.status],
                "rendering_sha256": [None, digest],
                **({"error": [None, record.error]} if record.error else {}),
            },
        )
        if reason in ESCALATING_REASONS:
            escalation_open(action=record)
    if record.notice_text and connection is not None and not by_hand and not record.failed:
        _notice_send(record, connection, notice_visibility, connector)
    return record


def _event_details(record: ModerationAction) -> dict[str, Any]:
    """What the archive keeps about the decision, in its chained event (R16, R17)."""
    version = record.policy_version
    outcome = record.platform_action
    return {
        "moderation_action": record.pk,
        "action": record.action,
        "reason": record.reason,
        "reason_group": record.reason_group,
        "reason_text": record.reason_text,
        "policy_version": {
            "id": version.pk,
            "policy": version.policy.name,
            "number": version.number,
        }
        if version
        else None,
        "by_hand": record.status == ModerationAction.Status.BY_HAND,
        "platform_action": record.platform_action_id,
        "platform_remote_id": outcome.remote_id if outcome is not None else "",
        "rendering_sha256": record.rendering_sha256,
        "restricted": record.restricted,
        **(
            {"block_until": record.block_until.isoformat() if record.block_until else None}
            if record.action == Action.BLOCK
            else {}
        ),
    }


def _notice_send(
    record: ModerationAction, connection: Connection, visibility: str, connector: Connector | None
) -> None:
    """The notice to the author as a reply to the item (R21), logged with the action."""
    outcome = platform.action_perform(
        actor=record.actor,
        connection=connection,
        action="reply",
        target=record.item.remote_id,
        run=lambda c: c.reply(
            record.item.remote_id,
            PostDraft(text=record.notice_text, visibility=visibility),
        ),
        request={"text": record.notice_text, "visibility": visibility},
        connector=connector,
    )
    record.notice_action = outcome
    ModerationAction.objects.filter(pk=record.pk).update(notice_action=outcome)


# -- escalation (R20) ---------------------------------------------------------------------------


def _item_evidence(item: Item, restricted: bool) -> dict[str, Any]:
    """The archive's record of the item: identity, every version's digests and (unless
    restricted) its text and raw payload, every event with its chain digest."""
    versions = (
        ItemVersion.objects.filter(item=item)
        .order_by("number")
        .prefetch_related("attachments__media")
    )
    return {
        "platform": item.platform,
        "remote_id": item.remote_id,
        "permalink": item.permalink,
        "kind": item.kind,
        "author_handle": item.author_handle,
        "author_name": item.author_name,
        "author_platform_id": item.author_platform_id,
        "parent_remote_id": item.parent_remote_id,
        "thread_remote_id": item.thread_remote_id,
        "created_at": item.created_at.isoformat() if item.created_at else None,
        "first_seen_at": item.first_seen_at.isoformat(),
        "versions": [
            {
                "number": v.number,
                "seq": v.seq,
                "recorded_at": v.recorded_at.isoformat(),
                "content_digest": v.content_digest,
                "payload_digest": v.payload_digest,
                "chain_digest": v.chain_digest,
                **({} if restricted else {"text": v.text, "raw_payload": v.raw_payload}),
                "attachments": [
                    {
                        "position": a.position,
                        "original_name": a.original_name,
                        "sha256": a.media.sha256 if a.media else None,
                        "content_type": a.media.content_type if a.media else None,
                    }
                    for a in v.attachments.all()
                ],
            }
            for v in versions
        ],
        "events": [
            {
                "type": e.type,
                "seq": e.seq,
                "occurred_at": e.occurred_at.isoformat() if e.occurred_at else None,
                "details": e.details,
                "actor": e.actor_name,
                "chain_digest": e.chain_digest,
            }
            for e in ItemEvent.objects.filter(item=item).order_by("seq")
        ],
    }


def police_report_text(record: ModerationAction) -> str:
    """The text to file with Polisen (polisanmälan), filled from the item (R20)."""
    item = record.item
    version = ItemVersion.objects.filter(item=item).order_by("-number").first()
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(
            "moderation/police_report.txt",
            {
                "action": record,
                "item": item,
                "account": record.account,
                "unit": record.account.unit,
                "text": None if record.restricted or version is None else version.text,
                "version": version,
                "reason": record.get_reason_display(),
            },
        ).strip()


def evidence_bundle(record: ModerationAction, report: str) -> bytes:
    """A zip of the capture, the rendering and the police report with a SHA-256 manifest."""
    with default_storage.open(record.rendering_name, "rb") as handle:
        rendering = handle.read()
    files: dict[str, bytes] = {
        "item.json": json.dumps(
            _item_evidence(record.item, record.restricted), ensure_ascii=False, indent=2
        ).encode(),
        "rendering.pdf": rendering,
        "police-report.txt": report.encode(),
        "moderation.json": json.dumps(
            {**_event_details(record), "created_at": record.created_at.isoformat(),
             "actor": str(record.actor) if record.actor else None},
            ensure_ascii=False,
            indent=2,
        ).encode(),
    }  # fmt: skip
    manifest = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    )
    buffer = io.BytesIO()
    fixed = (1980, 1, 1, 0, 0, 0)  # no timestamps in the zip: the same evidence, the same bytes
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in [*sorted(files.items()), ("manifest-sha256.txt", manifest.encode())]:
            bundle.writestr(zipfile.ZipInfo(name, fixed), data)
    return buffer.getvalue()


def escalation_open(*, action: ModerationAction) -> EscalationTask:
    """Open the escalation of a crime: evidence bundle, police report, the unit's managers."""
    report = police_report_text(action)
    bundle = evidence_bundle(action, report)
    digest, name = _store("evidence", bundle, "zip")
    unit = action.account.unit
    task = EscalationTask(
        action=action,
        account=action.account,
        unit=unit,
        police_report=report,
        bundle_sha256=digest,
        bundle_name=name,
        bundle_size=len(bundle),
    )
    task.full_clean()
    task.save()
    managers = list(people_with(unit, Capability.MANAGE))
    task.assignees.set(managers)
    audit_record(
        actor=action.actor,
        action=AuditEvent.Action.CREATE,
        target=task,
        unit_id=unit.pk,
        summary=audit_summary(summaries.ESCALATION_OPENED, moderation_reason=action.reason),
        changes={"bundle_sha256": [None, digest], "assignees": [None, [str(m) for m in managers]]},
    )
    with translation.override(settings.LANGUAGE_CODE):
        _mail(
            [m.email for m in managers],
            _("Narvaro: a post on %(account)s may be a crime") % {"account": action.account},
            "\n\n".join(
                [
                    _(
                        '%(actor)s moderated an item on %(account)s as "%(reason)s" and an '
                        "escalation task is waiting for you in Narvaro, with the evidence bundle "
                        "and a police-report text to file with the police."
                    )
                    % {
                        "actor": action.actor,
                        "account": action.account,
                        "reason": action.get_reason_display(),
                    },
                    _("Open the escalation in Narvaro: %(url)s")
                    % {
                        "url": absolute_url(reverse("moderation:escalation_detail", args=[task.pk]))
                    },
                ]
            ),
        )
    return task


def escalation_close(
    *, actor: User, task: EscalationTask, status: str, police_reference: str = "", note: str = ""
) -> EscalationTask:
    """Close an escalation as reported to the police (with their reference) or not reported."""
    if task.status != EscalationTask.Status.OPEN:
        raise ValidationError(_("This escalation is already closed."))
    if status == EscalationTask.Status.REPORTED and not police_reference.strip():
        raise ValidationError(
            {"police_reference": _("Give the police's reference (diarienummer) for the report.")}
        )
    if status == EscalationTask.Status.CLOSED and not note.strip():
        raise ValidationError({"note": _("Say why the crime is not reported.")})
    if status not in (EscalationTask.Status.REPORTED, EscalationTask.Status.CLOSED):
        raise ValidationError({"status": _("Choose how the escalation ends.")})
    with transaction.atomic():
        task.status = status
        task.police_reference = police_reference.strip()
        task.closing_note = note.strip()
        task.closed_at = timezone.now()
        task.closed_by = actor
        task.save()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.TRANSITION,
            target=task,
            unit_id=task.unit_id,
            summary=audit_summary(summaries.ESCALATION_CLOSED, escalation_status=status),
            changes={
                "status": [EscalationTask.Status.OPEN, status],
                "police_reference": [None, task.police_reference],
            },
        )
    return task


def download_log(*, actor: User, target: ModerationAction | EscalationTask) -> None:
    """Log that someone downloaded a rendering or an evidence bundle (they hold personal data)."""
    message = (
        summaries.MODERATION_RENDERING_DOWNLOADED
        if isinstance(target, ModerationAction)
        else summaries.EVIDENCE_BUNDLE_DOWNLOADED
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        target=target,
        unit_id=target.account.unit_id,
        summary=audit_summary(message),
    )


# -- supervision (R15) ----------------------------------------------------------------------


def _mail(recipients: list[str], subject: str, body: str) -> None:
    """Send a moderation mail once to each address.

    The callers write subject and body in the organisation's language (the mail is often sent
    by the worker, and the recipient's own choice is not known) and link with full addresses.
    """
    from django.core.mail import send_mail

    addresses = sorted({address for address in recipients if address})
    if addresses:
        send_mail(subject, body, None, addresses, fail_silently=True)


def supervision_check(*, now: dt.datetime | None = None) -> list[SupervisionAlert]:
    """Raise the alerts for queues not reviewed for 24 hours and for 7 days (R15).

    An account's queue waits since the later of its last review and the moment Narvaro saw
    the oldest item still waiting. Each level fires once per waiting period (the unique
    constraint holds it even if two monitors run at once); a review starts a new period.
    """
    now = now or timezone.now()
    waiting = (
        QueueEntry.objects.filter(reviewed_at__isnull=True)
        .values("account")
        .annotate(oldest=Min("seen_at"))
    )
    last_review = dict(
        QueueEntry.objects.filter(reviewed_at__isnull=False)
        .values("account")
        .annotate(last=Max("reviewed_at"))
        .values_list("account", "last")
    )
    raised: list[SupervisionAlert] = []
    for row in waiting:
        since = max(filter(None, [row["oldest"], last_review.get(row["account"])]))
        for level, after in (
            (SupervisionAlert.Level.OVERDUE, OVERDUE_AFTER),
            (SupervisionAlert.Level.ESCALATED, ESCALATE_AFTER),
        ):
            if now - since < after:
                continue
            alert = _raise(row["account"], level, since, now)
            if alert is not None:
                raised.append(alert)
    return raised


def _raise(
    account_id: int, level: str, since: dt.datetime, now: dt.datetime
) -> SupervisionAlert | None:
    if SupervisionAlert.objects.filter(
        account_id=account_id, level=level, waiting_since=since
    ).exists():
        return None
    account = Account.objects.select_related("unit").get(pk=account_id)
    if level == SupervisionAlert.Level.OVERDUE:
        people = list(people_with(account.unit, Capability.MODERATE))
    else:
        people = list(people_with(account.unit, Capability.MANAGE))
        people += list(User.objects.filter(is_active=True, org_role=User.OrgRole.REGISTRAR))
    pending = QueueEntry.objects.filter(account_id=account_id, reviewed_at__isnull=True).count()
    try:
        with transaction.atomic():
            alert = SupervisionAlert.objects.create(
                account=account,
                level=level,
                waiting_since=since,
                pending=pending,
                recipients=sorted({person.username for person in people}),
                raised_at=now,
            )
            audit_record(
                actor=None,
                action=AuditEvent.Action.CREATE,
                target=alert,
                unit_id=account.unit_id,
                summary=audit_summary(summaries.SUPERVISION_ALERT, alert_level=level),
            )
    except IntegrityError:  # another monitor raised it a moment ago
        return None
    days = (now - since).days
    with translation.override(settings.LANGUAGE_CODE):
        body = " ".join(
            [
                ngettext(
                    "%(count)s item on %(account)s waits for review.",
                    "%(count)s items on %(account)s wait for review.",
                    pending,
                )
                % {"count": pending, "account": account},
                ngettext(
                    "The queue has waited since %(since)s (%(days)s day).",
                    "The queue has waited since %(since)s (%(days)s days).",
                    days,
                )
                % {"since": timezone.localtime(since).strftime("%Y-%m-%d %H:%M"), "days": days},
                _("The account holder must keep the comments under supervision (BBS Act, 4 §)."),
            ]
        )
        link = _("Review the moderation queue in Narvaro: %(url)s") % {
            "url": absolute_url(reverse("moderation:queue", args=[account.pk]))
        }
        _mail(
            [person.email for person in people],
            _("Narvaro: the moderation queue of %(account)s waits") % {"account": account},
            f"{body}\n\n{link}",
        )
    return alert
