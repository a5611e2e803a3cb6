"""Acting on a platform for a connected account, captured into the archive as it happens.

`action_perform` runs one connector action and records its outcome as a `PlatformAction`:
sent (with the platform's id, and the post captured into the archive through the single
writer, as the platform now holds it) or failed (with the platform's error). A failure is
never shown as sent. A refused token also flags the connection for reconnecting, exactly
as a failed harvest would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from narvaro.archive.services import capture_batch
from narvaro.channels.connectors.base import (
    ActionResult,
    AuthError,
    Connector,
    ConnectorError,
    PostDraft,
)
from narvaro.channels.harvest import connector_for
from narvaro.channels.models import Connection, PlatformAction
from narvaro.core.models import AuditEvent, User
from narvaro.core.services import audit_record


def _draft_summary(draft: PostDraft) -> dict[str, Any]:
    return {
        "text": draft.text,
        "content_warning": draft.content_warning,
        "visibility": draft.visibility,
        "language": draft.language,
        "media": [
            {
                "name": m.file_name,
                "type": m.content_type,
                "alt": m.alt_text,
                "bytes": len(m.content),
            }
            for m in draft.media
        ],
    }


def action_perform(
    *,
    actor: User | None,
    connection: Connection,
    action: str,
    run: Callable[[Connector], ActionResult],
    target: str = "",
    request: dict[str, Any] | None = None,
    connector: Connector | None = None,
) -> PlatformAction:
    """Run `run(connector)` and record it as sent or failed; never raises a platform error."""
    account = connection.account
    record = PlatformAction(
        account=account,
        action=action,
        target=target[:500],
        request=request or {},
        actor=actor if actor is not None and actor.pk else None,
        created_at=timezone.now(),
    )
    try:
        connector = connector or connector_for(connection)
        result = run(connector)
    except ConnectorError as exc:
        record.status = PlatformAction.Status.FAILED
        record.error = f"{type(exc).__name__}: {exc}"[:500]
        with transaction.atomic():
            record.save()
            audit_record(
                actor=actor,
                action=AuditEvent.Action.UPDATE,
                target=account,
                unit_id=account.unit_id,
                summary=f"{action} failed on {account.platform}",
                changes={"action": [None, action], "error": [None, record.error]},
            )
            if isinstance(exc, AuthError) and connection.status == Connection.Status.ACTIVE:
                Connection.objects.filter(pk=connection.pk).update(
                    status=Connection.Status.RECONNECT, last_error=record.error
                )
                connection.status = Connection.Status.RECONNECT
        return record
    record.status = PlatformAction.Status.SENT
    record.remote_id = result.remote_id[:500]
    with transaction.atomic():
        if result.capture is not None or result.events:
            capture_batch(
                account=account,
                captures=[result.capture] if result.capture is not None else [],
                events=_held_events(result),
                source=f"action:{action}",
            )
        record.save()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=account,
            unit_id=account.unit_id,
            summary=f"{action} sent on {account.platform}",
            changes={"action": [None, action], "remote_id": [None, record.remote_id]},
        )
    return record


def _held_events(result: ActionResult) -> list[Any]:
    """Events only about items the archive holds (a block or report may name others)."""
    from narvaro.archive.models import Item

    if not result.events:
        return []
    held = set(
        Item.objects.filter(remote_id__in=[e.remote_id for e in result.events]).values_list(
            "remote_id", flat=True
        )
    )
    if result.capture is not None:
        held.add(result.capture.remote_id)
    return [e for e in result.events if e.remote_id in held]


def publish(*, actor: User | None, connection: Connection, draft: PostDraft) -> PlatformAction:
    return action_perform(
        actor=actor,
        connection=connection,
        action="publish",
        run=lambda c: c.publish(draft),
        request=_draft_summary(draft),
    )


def reply(
    *, actor: User | None, connection: Connection, parent_remote_id: str, draft: PostDraft
) -> PlatformAction:
    return action_perform(
        actor=actor,
        connection=connection,
        action="reply",
        target=parent_remote_id,
        run=lambda c: c.reply(parent_remote_id, draft),
        request=_draft_summary(draft),
    )


def delete(*, actor: User | None, connection: Connection, remote_id: str) -> PlatformAction:
    return action_perform(
        actor=actor,
        connection=connection,
        action="delete",
        target=remote_id,
        run=lambda c: c.delete(remote_id),
    )


def hide_reply(*, actor: User | None, connection: Connection, remote_id: str) -> PlatformAction:
    return action_perform(
        actor=actor,
        connection=connection,
        action="hide",
        target=remote_id,
        run=lambda c: c.hide_reply(remote_id),
    )


def block(*, actor: User | None, connection: Connection, account_id: str) -> PlatformAction:
    return action_perform(
        actor=actor,
        connection=connection,
        action="block",
        target=account_id,
        run=lambda c: c.block(account_id),
    )


def report(
    *,
    actor: User | None,
    connection: Connection,
    account_id: str,
    remote_ids: tuple[str, ...] = (),
    comment: str = "",
) -> PlatformAction:
    return action_perform(
        actor=actor,
        connection=connection,
        action="report",
        target=account_id,
        run=lambda c: c.report(account_id, remote_ids=remote_ids, comment=comment),
        request={"remote_ids": list(remote_ids), "comment": comment},
    )
