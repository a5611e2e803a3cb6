"""Background tasks of the channels app. Tasks take ids, never model instances."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def harvest_connections_due() -> dict[str, object]:
    """The scheduled job: enqueue a harvest for every connection that is due."""
    from narvaro.channels.harvest import harvest_due

    return {"enqueued": len(harvest_due())}


@task()
def harvest_connection(connection_id: int) -> dict[str, Any]:
    """Harvest one connected account now."""
    from narvaro.channels.harvest import harvest_run
    from narvaro.channels.models import Connection

    connection = Connection.objects.select_related("account").filter(pk=connection_id).first()
    if connection is None:
        return {"status": "gone"}
    return harvest_run(connection).as_dict()
