"""Background tasks of the packages app. Tasks take ids, never model instances."""

from __future__ import annotations

from django_tasks import task


@task()
def package_export_build(export_id: int) -> dict[str, object]:
    """Build a package requested on the web and keep it for download."""
    from narvaro.packages.services import package_export_run

    export = package_export_run(export_id=export_id)
    return {"export": export.pk, "status": export.status}


@task()
def account_snapshot_build(account_id: int, actor_id: int | None) -> dict[str, object]:
    """Make an account's snapshot (rendering and package) requested on the web."""
    from narvaro.channels.models import Account
    from narvaro.core.models import User
    from narvaro.packages.services import account_snapshot_make

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    snapshot = account_snapshot_make(actor=actor, account=Account.objects.get(pk=account_id))
    return {"snapshot": snapshot.pk}
