"""Background tasks of requests for public records. Tasks take ids, never model instances."""

from __future__ import annotations

from django_tasks import task


@task()
def delivery_render(delivery_id: int) -> dict[str, object]:
    """Make a delivery's files (printout, electronic copy, decision); a minute for hundreds."""
    from narvaro.disclosure.services import delivery_render as render

    delivery = render(delivery_id=delivery_id)
    return {"delivery": delivery.pk, "status": delivery.status}


@task()
def deliveries_recover_stalled() -> dict[str, object]:
    """Queue again (or mark failed) the deliveries whose worker died mid-render."""
    from narvaro.disclosure.services import deliveries_recover_stalled as recover

    changed = recover()
    return {"deliveries": [[d.request_id, d.number, d.status] for d in changed]}
