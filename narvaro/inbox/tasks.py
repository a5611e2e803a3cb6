"""Background tasks of the inbox. Tasks take ids, never model instances, and call services."""

from __future__ import annotations

from django_tasks import task


@task()
def inbox_derive() -> dict[str, int]:
    """Derive conversations from the archive items the inbox has not yet seen."""
    from narvaro.inbox.derive import conversations_derive

    result = conversations_derive()
    return {
        "conversations": result.conversations,
        "inbound": result.inbound,
        "responses": result.responses,
        "reopened": result.reopened,
    }


@task()
def inbox_due_recompute() -> dict[str, int]:
    """Nightly: due moments follow changed business hours, holidays and targets."""
    from narvaro.inbox.targets import conversations_due_recompute

    return {"changed": conversations_due_recompute()}
