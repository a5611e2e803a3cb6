"""Reads of the channel register, always scoped to the person asking."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from narvaro.channels.models import Account, CommentPolicy, CommentPolicyVersion
from narvaro.core.models import User
from narvaro.organisation.roles import Capability
from narvaro.organisation.selectors import unit_access, unit_children_map, unit_subtree_ids


def _scope_to_units(
    accounts: QuerySet[Account], user: User, capability: Capability
) -> QuerySet[Account]:
    ids = unit_access(user).unit_ids(capability)
    return accounts if ids is None else accounts.filter(unit_id__in=ids)


def account_list_for_user(
    user: User,
    *,
    q: str = "",
    unit: int | None = None,
    include_subunits: bool = True,
    platform: str = "",
    state: str = "",
    kind: str = "",
) -> QuerySet[Account]:
    """The accounts `user` may see (those of units they hold a role in, and below), filtered."""
    accounts = _scope_to_units(
        Account.objects.select_related("unit", "comment_policy_version__policy"),
        user,
        Capability.VIEW,
    )
    if unit:
        unit_ids = unit_subtree_ids({unit}, unit_children_map()) if include_subunits else {unit}
        accounts = accounts.filter(unit_id__in=unit_ids)
    if platform:
        accounts = accounts.filter(platform=platform)
    if state:
        accounts = accounts.filter(state=state)
    if kind:
        accounts = accounts.filter(kind=kind)
    if q:
        accounts = accounts.filter(
            Q(handle__icontains=q) | Q(display_name__icontains=q) | Q(purpose__icontains=q)
        )
    return accounts.order_by("unit__name", "platform", "handle")


def account_register_for_user(user: User, **filters: object) -> QuerySet[Account]:
    """The accounts of `account_list_for_user`, with the people the register lists."""
    return account_list_for_user(user, **filters).prefetch_related(  # type: ignore[arg-type]
        "responsible", "moderators"
    )


def get_account_for_user(user: User, pk: int, *, write: bool = False) -> Account:
    """The account `pk` if `user` may see it (404 otherwise) and, with write, manage it (403)."""
    try:
        account = (
            Account.objects.select_related("unit", "comment_policy_version__policy", "connection")
            .prefetch_related("responsible", "moderators")
            .get(pk=pk)
        )
    except Account.DoesNotExist as exc:
        raise Http404 from exc
    access = unit_access(user)
    if not access.allows(account.unit_id, Capability.VIEW):
        raise Http404
    if write and not access.allows(account.unit_id, Capability.MANAGE):
        raise PermissionDenied
    return account


def can_manage_account(user: User, account: Account) -> bool:
    return unit_access(user).allows(account.unit_id, Capability.MANAGE)


def account_policy_history(account: Account) -> QuerySet:
    """Which comment policy version the account linked to, and from when."""
    return account.policy_publications.select_related("version__policy", "recorded_by")


@dataclass(frozen=True)
class StateCount:
    state: str
    label: str
    count: int


def account_state_counts_for_user(user: User) -> list[StateCount]:
    """How many visible accounts are in each lifecycle state (one query)."""
    rows = dict(
        _scope_to_units(Account.objects.all(), user, Capability.VIEW)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    return [
        StateCount(state, str(label), rows.get(state, 0)) for state, label in Account.State.choices
    ]


def accounts_needing_attention(user: User) -> QuerySet[Account]:
    """Proposed accounts in units `user` manages: they wait for register fields or activation."""
    return _scope_to_units(Account.objects.select_related("unit"), user, Capability.MANAGE).filter(
        state=Account.State.PROPOSED
    )


def account_by_handle(platform: str, handle: str) -> Account | None:
    """An account by platform and handle, for the command line (no person involved)."""
    return Account.objects.filter(platform=platform, handle=handle).first()


def policy_list_for_user(user: User) -> QuerySet[CommentPolicy]:
    """Comment policies are public texts: every signed-in person may read every policy."""
    latest = CommentPolicyVersion.objects.order_by("-number")
    return (
        CommentPolicy.objects.select_related("unit")
        .prefetch_related(Prefetch("versions", queryset=latest))
        .annotate(account_count=Count("versions__accounts", distinct=True))
        .order_by("name")
    )


def can_manage_policy(user: User, policy: CommentPolicy) -> bool:
    """Admins manage every policy; a unit's managers manage the unit's own policies."""
    if user.is_org_admin:
        return True
    return policy.unit_id is not None and unit_access(user).allows(
        policy.unit_id, Capability.MANAGE
    )


def get_policy_for_user(user: User, pk: int, *, write: bool = False) -> CommentPolicy:
    """A comment policy (readable by all signed-in people); with write, 403 unless manager."""
    try:
        policy = CommentPolicy.objects.select_related("unit").get(pk=pk)
    except CommentPolicy.DoesNotExist as exc:
        raise Http404 from exc
    if write and not can_manage_policy(user, policy):
        raise PermissionDenied
    return policy


def get_policy_version_for_user(
    user: User, policy_pk: int, number: int, *, write: bool = False
) -> CommentPolicyVersion:
    policy = get_policy_for_user(user, policy_pk, write=write)
    try:
        return policy.versions.select_related("policy", "created_by").get(number=number)
    except CommentPolicyVersion.DoesNotExist as exc:
        raise Http404 from exc


def policy_versions(policy: CommentPolicy) -> QuerySet[CommentPolicyVersion]:
    return policy.versions.select_related("created_by").order_by("-number")


def policy_version_choices_for_user(user: User) -> QuerySet[CommentPolicyVersion]:
    """The versions an account form may point at: every version of every policy."""
    return CommentPolicyVersion.objects.select_related("policy").order_by("policy__name", "-number")
