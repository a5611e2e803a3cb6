"""Background tasks of the archive. Tasks take ids, never model instances, and call services."""

from __future__ import annotations

import logging

from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def fixity_check() -> dict[str, object]:
    """The scheduled fixity job: verify the archive and raise an alert when anything is broken."""
    from narvaro.archive.fixity import verify_archive
    from narvaro.archive.services import fixity_alert_raise

    report = verify_archive()
    if not report.intact:
        fixity_alert_raise(report=report)
    return {"intact": report.intact, "problems": len(report.problems)}
