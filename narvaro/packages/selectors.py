"""Reads of packages and snapshots, scoped to the person asking.

Packages hold every record, secret ones included, so only registrars and admins list, make
and download them (R37). An account's snapshots are shown to whoever sees the account; those
who manage it, registrars and admins may make one (R11).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from narvaro.archive.models import ChainHead
from narvaro.archive.selectors import sees_secret_records
from narvaro.channels.models import Account
from narvaro.channels.selectors import can_manage_account
from narvaro.core.models import User
from narvaro.packages.models import AccountSnapshot, PackageExport


def can_export_packages(user: User) -> bool:
    return user.is_authenticated and sees_secret_records(user)


def require_package_officer(user: User) -> None:
    """403 for anyone who is not a registrar or admin."""
    if not can_export_packages(user):
        raise PermissionDenied


def package_export_list_for_user(user: User) -> QuerySet[PackageExport]:
    """Every package for registrars and admins, newest first; nothing for anyone else."""
    exports = PackageExport.objects.select_related("account", "unit", "requested_by")
    return exports if can_export_packages(user) else exports.none()


def get_package_export_for_user(user: User, pk: int) -> PackageExport:
    """A finished package `user` may download: 404 when unknown or not ready, 403 for others."""
    require_package_officer(user)
    try:
        return PackageExport.objects.select_related("account").get(
            pk=pk, status=PackageExport.Status.DONE
        )
    except PackageExport.DoesNotExist as exc:
        raise Http404 from exc


def can_make_snapshot(user: User, account: Account) -> bool:
    return can_export_packages(user) or can_manage_account(user, account)


def account_snapshots(account: Account) -> QuerySet[AccountSnapshot]:
    return AccountSnapshot.objects.filter(account=account).select_related("made_by", "export")


def snapshot_problems(account: Account) -> dict[str, str]:
    """Why `account` cannot be closed yet (R11); empty when a final snapshot covers it all.

    A snapshot is final when it covers the account's whole chain: nothing was archived after
    it. An account that never archived anything needs none.
    """
    head = ChainHead.objects.filter(account=account).only("seq").first()
    seq = head.seq if head else 0
    if seq == 0:
        return {}
    latest = AccountSnapshot.objects.filter(account=account).order_by("-made_at", "-id").first()
    if latest is None:
        return {"snapshot": _("Make a final snapshot (rendering and package) before closing.")}
    if latest.chain_seq < seq:
        return {
            "snapshot": _(
                "Records were archived after the last snapshot; make a new one before closing."
            )
        }
    return {}
