"""Making archival packages and account snapshots; every export is written to the audit log."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from narvaro.archive.models import ChainHead
from narvaro.channels.models import Account
from narvaro.core.audit_summaries import (
    PACKAGE_DOWNLOADED,
    PACKAGE_EXPORTED,
    SNAPSHOT_MADE,
    SNAPSHOT_REQUESTED,
    audit_summary,
)
from narvaro.core.models import AuditEvent, User
from narvaro.core.services import audit_record
from narvaro.organisation.models import Unit
from narvaro.organisation.selectors import unit_children_map, unit_subtree_ids
from narvaro.packages import output
from narvaro.packages.bag import BuiltPackage, Renderer, build_bagit
from narvaro.packages.eark import build_eark
from narvaro.packages.models import AccountSnapshot, PackageExport
from narvaro.packages.records import Scope, account_key

logger = logging.getLogger(__name__)
STORAGE_PREFIX = "packages"
BUILDERS = {PackageExport.Kind.BAGIT: build_bagit, PackageExport.Kind.EARK: build_eark}


def package_scope(
    *,
    account: Account | None = None,
    unit: Unit | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> Scope:
    """The accounts (one, a unit's and those below it, or all) and the period of a package."""
    if date_from and date_to and date_from > date_to:
        raise ValidationError({"date_to": "The period ends before it starts."})
    accounts = Account.objects.all()
    if account is not None:
        accounts = accounts.filter(pk=account.pk)
    if unit is not None:
        accounts = accounts.filter(unit_id__in=unit_subtree_ids({unit.pk}, unit_children_map()))
    ids = tuple(accounts.order_by("pk").values_list("pk", flat=True))
    return Scope(account_ids=ids, date_from=date_from, date_to=date_to)


def _renderer(enabled: bool) -> Renderer | None:
    if not enabled:
        return None
    from narvaro.packages.rendering import account_renderings

    return account_renderings


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


def _begin(
    *, actor: User | None, kind: str, account: Account | None, unit: Unit | None, scope: Scope
) -> PackageExport:
    export = PackageExport(
        kind=kind,
        account=account,
        unit=unit,
        date_from=scope.date_from,
        date_to=scope.date_to,
        requested_by=actor if actor is not None and actor.pk else None,
    )
    export.full_clean()
    export.save()
    return export


@transaction.atomic
def _finish(
    *,
    export: PackageExport,
    actor: User | None,
    built: BuiltPackage,
    request: HttpRequest | None,
    **fields: Any,
) -> PackageExport:
    for name, value in fields.items():
        setattr(export, name, value)
    export.status = PackageExport.Status.DONE
    export.finished_at = timezone.now()
    export.counts = {
        **built.records.as_dict(),
        "chain_heads": built.records.heads,
        "renderings": built.renderings,
    }
    export.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        target=export,
        unit_id=export.account.unit_id if export.account else export.unit_id,
        summary=audit_summary(
            PACKAGE_EXPORTED,
            package_kind=export.kind,
            items=built.records.items,
            versions=built.records.versions,
            events=built.records.events,
        ),
        changes={
            "accounts": sorted(built.records.heads),
            "from": export.date_from.isoformat() if export.date_from else None,
            "to": export.date_to.isoformat() if export.date_to else None,
            "path": export.path or export.storage_name,
            "sha256": export.sha256,
            "intact": built.records.intact,
        },
        request=request,
    )
    return export


def _fail(export: PackageExport, error: Exception) -> None:
    export.status = PackageExport.Status.FAILED
    export.error = str(error)[:2000]
    export.finished_at = timezone.now()
    export.save(update_fields=["status", "error", "finished_at", "updated_at"])


def package_export_to_path(
    *,
    actor: User | None,
    kind: str,
    out: Path,
    account: Account | None = None,
    unit: Unit | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    renderings: bool = False,
    progress: Callable[[int], None] | None = None,
    request: HttpRequest | None = None,
) -> tuple[PackageExport, BuiltPackage]:
    """Write a package to `out` (a folder, or a zip when it ends in .zip), atomically.

    The package is built in a temporary folder beside `out` and renamed into place; on any
    failure nothing is left under `out`, and the export is recorded as failed.
    """
    scope = package_scope(account=account, unit=unit, date_from=date_from, date_to=date_to)
    output.check_target(out)
    export = _begin(actor=actor, kind=kind, account=account, unit=unit, scope=scope)
    try:
        with output.staging(out) as (folder, scratch):
            built = BUILDERS[PackageExport.Kind(kind)](
                folder, scope, scratch=scratch, progress=progress, renderer=_renderer(renderings)
            )
            output.publish(folder, out)
    except Exception as exc:
        _fail(export, exc)
        raise
    is_file = out.is_file()
    export = _finish(
        export=export,
        actor=actor,
        built=built,
        request=request,
        path=str(out.resolve()),
        size=out.stat().st_size if is_file else None,
        sha256=_sha256(out) if is_file else "",
    )
    return export, built


def _build_to_storage(
    export: PackageExport, scope: Scope, *, renderings: bool
) -> tuple[BuiltPackage, dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="narvaro-package-") as temp:
        zipped = Path(temp) / export.file_name
        with output.staging(zipped) as (folder, scratch):
            built = BUILDERS[PackageExport.Kind(export.kind)](
                folder, scope, scratch=scratch, renderer=_renderer(renderings)
            )
            output.publish(folder, zipped)
        size, digest = zipped.stat().st_size, _sha256(zipped)
        with zipped.open("rb") as handle:
            name = default_storage.save(f"{STORAGE_PREFIX}/{export.file_name}", handle)
    return built, {"storage_name": name, "size": size, "sha256": digest}


def package_export_to_storage(
    *,
    actor: User | None,
    kind: str,
    account: Account | None = None,
    unit: Unit | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    renderings: bool = False,
    request: HttpRequest | None = None,
) -> tuple[PackageExport, BuiltPackage]:
    """Make a zipped package now and keep it in storage for download."""
    scope = package_scope(account=account, unit=unit, date_from=date_from, date_to=date_to)
    export = _begin(actor=actor, kind=kind, account=account, unit=unit, scope=scope)
    try:
        built, stored = _build_to_storage(export, scope, renderings=renderings)
    except Exception as exc:
        _fail(export, exc)
        raise
    export = _finish(export=export, actor=actor, built=built, request=request, **stored)
    return export, built


@transaction.atomic
def package_export_request(
    *,
    actor: User,
    kind: str,
    account: Account | None = None,
    unit: Unit | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    renderings: bool = False,
) -> PackageExport:
    """Record a package asked for on the web; a background task builds it."""
    from narvaro.packages.tasks import package_export_build as package_export_build_task

    scope = package_scope(account=account, unit=unit, date_from=date_from, date_to=date_to)
    export = _begin(actor=actor, kind=kind, account=account, unit=unit, scope=scope)
    export.counts = {"renderings_requested": renderings}
    export.save(update_fields=["counts"])
    transaction.on_commit(lambda: package_export_build_task.enqueue(export.pk))
    return export


def package_export_run(*, export_id: int) -> PackageExport:
    """Build a requested package (the task's work); a failure is recorded on the export."""
    export = PackageExport.objects.select_related("account", "unit", "requested_by").get(
        pk=export_id
    )
    if export.status != PackageExport.Status.RUNNING:
        return export
    scope = package_scope(
        account=export.account,
        unit=export.unit,
        date_from=export.date_from,
        date_to=export.date_to,
    )
    renderings = bool(export.counts.get("renderings_requested"))
    try:
        built, stored = _build_to_storage(export, scope, renderings=renderings)
    except Exception as exc:  # recorded for the person who asked; the log has the traceback
        logger.exception("package export %s failed", export.pk)
        _fail(export, exc)
        return export
    return _finish(export=export, actor=export.requested_by, built=built, request=None, **stored)


@transaction.atomic
def account_snapshot_request(*, actor: User, account: Account) -> None:
    """Ask for a snapshot of `account`; a background task makes it."""
    from narvaro.packages.tasks import account_snapshot_build as account_snapshot_build_task

    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        target=account,
        unit_id=account.unit_id,
        summary=audit_summary(SNAPSHOT_REQUESTED),
    )
    transaction.on_commit(lambda: account_snapshot_build_task.enqueue(account.pk, actor.pk))


def package_download_log(
    *, actor: User, export: PackageExport, request: HttpRequest | None = None
) -> None:
    """A download of a stored package is an access to records (R37)."""
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        target=export,
        unit_id=export.account.unit_id if export.account else export.unit_id,
        summary=audit_summary(PACKAGE_DOWNLOADED, package_kind=export.kind),
        changes={"sha256": export.sha256},
        request=request,
    )


def account_snapshot_make(
    *, actor: User | None, account: Account, request: HttpRequest | None = None
) -> AccountSnapshot:
    """A full package of the account, with its PDF/A rendering when available (R11)."""
    from narvaro.packages.rendering import rendering_available

    export, built = package_export_to_storage(
        actor=actor,
        kind=PackageExport.Kind.BAGIT,
        account=account,
        renderings=rendering_available(),
        request=request,
    )
    head = built.records.heads.get(account_key(account), {})
    files = [
        {
            "kind": "package",
            "name": export.storage_name,
            "sha256": export.sha256,
            "size": export.size,
        }
    ] + [{"kind": "rendering", "name": name} for name in built.renderings]
    with transaction.atomic():
        snapshot = AccountSnapshot(
            account=account,
            made_by=actor if actor is not None and actor.pk else None,
            export=export,
            chain_seq=int(head.get("seq", 0)),
            files=files,
        )
        snapshot.full_clean()
        snapshot.save()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            target=account,
            unit_id=account.unit_id,
            summary=audit_summary(SNAPSHOT_MADE),
            changes={"export": export.pk, "chain_seq": snapshot.chain_seq, "files": files},
            request=request,
        )
    return snapshot


def current_chain_seq(account: Account) -> int:
    head = ChainHead.objects.filter(account=account).first()
    return head.seq if head else 0
