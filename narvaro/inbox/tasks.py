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
