"""Background tasks of records management. They list; they never dispose of anything."""

from __future__ import annotations

from django_tasks import task


@task()
def retention_dry_runs() -> dict[str, object]:
    """The weekly reminder: a dry run of every active rule, for a registrar to review.

    Deliberately never commits: disposal (gallring) happens only when a registrar or
    archivist commits a run they have read (R27).
    """
    from narvaro.retention.models import RetentionRule
    from narvaro.retention.services import disposal_run_create

    runs = [
        disposal_run_create(actor=None, rule=rule)
        for rule in RetentionRule.objects.filter(active=True).order_by("pk")
    ]
    return {"dry_runs": [run.pk for run in runs], "listed": sum(r.item_count for r in runs)}
