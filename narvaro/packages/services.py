"""Making archival packages and account snapshots; every export is written to the audit log."""

from __future__ import annotations

import datetime as dt
import hashlib
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
from narvaro.core.models import AuditEvent, User
from narvaro.core.services import audit_record
from narvaro.organisation.models import Unit
from narvaro.organisation.selectors import unit_children_map, unit_subtree_ids
from narvaro.packages import output
from narvaro.packages.bag import BuiltPackage, Renderer, build_bagit
from narvaro.packages.eark import build_eark
from narvaro.packages.models import AccountSnapshot, PackageExport
from narvaro.packages.records import Scope, account_key

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
        summary=(
            f"{export.kind} package exported: {built.records.items} items, "
            f"{built.records.versions} versions, {built.records.events} events"
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
    """Make a zipped package and keep it in storage for download (the web pages' export)."""
    scope = package_scope(account=account, unit=unit, date_from=date_from, date_to=date_to)
    export = _begin(actor=actor, kind=kind, account=account, unit=unit, scope=scope)
    try:
        with tempfile.TemporaryDirectory(prefix="narvaro-package-") as temp:
            zipped = Path(temp) / export.file_name
            with output.staging(zipped) as (folder, scratch):
                built = BUILDERS[PackageExport.Kind(kind)](
                    folder, scope, scratch=scratch, renderer=_renderer(renderings)
                )
                output.publish(folder, zipped)
            size, digest = zipped.stat().st_size, _sha256(zipped)
            with zipped.open("rb") as handle:
                name = default_storage.save(f"{STORAGE_PREFIX}/{export.file_name}", handle)
    except Exception as exc:
        _fail(export, exc)
        raise
    export = _finish(
        export=export,
        actor=actor,
        built=built,
        request=request,
        storage_name=name,
        size=size,
        sha256=digest,
    )
    return export, built


def package_download_log(
    *, actor: User, export: PackageExport, request: HttpRequest | None = None
) -> None:
    """A download of a stored package is an access to records (R37)."""
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        target=export,
        unit_id=export.account.unit_id if export.account else export.unit_id,
        summary=f"{export.kind} package downloaded",
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
            summary="account snapshot made",
            changes={"export": export.pk, "chain_seq": snapshot.chain_seq, "files": files},
            request=request,
        )
    return snapshot


def current_chain_seq(account: Account) -> int:
    head = ChainHead.objects.filter(account=account).first()
    return head.seq if head else 0
