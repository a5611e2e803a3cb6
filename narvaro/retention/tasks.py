"""Background tasks of records management. They list and remind; they never dispose of anything."""

from __future__ import annotations

from django_tasks import task


@task()
def retention_dry_runs() -> dict[str, object]:
    """The weekly reminder: a dry run of every active rule, for a registrar to review.

    A rule whose latest run is still an uncommitted dry run gets no new one (the list is
    waiting for a decision). Registrars and admins are e-mailed what waits. Deliberately never
    commits: disposal (gallring) happens only when a registrar or archivist commits a run (R27).
    """
    from narvaro.retention.services import disposal_runs_remind

    runs = disposal_runs_remind()
    return {"dry_runs": [run.pk for run in runs], "listed": sum(r.item_count for r in runs)}
