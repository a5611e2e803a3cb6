"""Reads of units and memberships, always scoped to the person asking."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from narvaro.core.models import User
from narvaro.organisation.models import Membership, Unit
from narvaro.organisation.roles import Capability, role_allows


def unit_children_map() -> dict[int | None, list[int]]:
    """Parent id → child ids for the whole tree, in one query.

    An organisation has tens to a few hundred units, so the tree is read whole rather than
    walked with recursive queries.
    """
    children: dict[int | None, list[int]] = defaultdict(list)
    for unit_id, parent_id in Unit.objects.values_list("id", "parent_id"):
        children[parent_id].append(unit_id)
    return children


def unit_subtree_ids(root_ids: set[int], children: dict[int | None, list[int]]) -> set[int]:
    """The given units and every unit below them."""
    found: set[int] = set()
    stack = list(root_ids)
    while stack:
        unit_id = stack.pop()
        if unit_id in found:
            continue
        found.add(unit_id)
        stack.extend(children.get(unit_id, ()))
    return found


@dataclass(frozen=True)
class UnitAccess:
    """Which units a person may view and manage. Computed once per request by `unit_access`."""

    everything: bool
    can_view_all: bool
    by_capability: dict[Capability, frozenset[int]]

    def unit_ids(self, capability: Capability) -> frozenset[int] | None:
        """Unit ids with `capability`, or None meaning "every unit"."""
        if self.everything or (capability == Capability.VIEW and self.can_view_all):
            return None
        return self.by_capability.get(capability, frozenset())

    def allows(self, unit_id: int | None, capability: Capability) -> bool:
        ids = self.unit_ids(capability)
        return ids is None or unit_id in ids


def unit_access(user: User) -> UnitAccess:
    """The units `user` may act in, per capability, including every unit below a membership.

    Admins may do everything everywhere; registrars may view every unit (they answer requests
    for public records across the organisation) but change nothing through unit roles.
    """
    cached = getattr(user, "_narvaro_unit_access", None)
    if cached is not None:
        return cached
    if not user.is_authenticated or not user.is_active:
        access = UnitAccess(everything=False, can_view_all=False, by_capability={})
    elif user.is_org_admin:
        access = UnitAccess(everything=True, can_view_all=True, by_capability={})
    else:
        memberships = list(Membership.objects.filter(user=user).values_list("unit_id", "role"))
        children = unit_children_map() if memberships else {}
        by_capability: dict[Capability, frozenset[int]] = {}
        for capability in Capability:
            roots = {uid for uid, role in memberships if role_allows(role, capability)}
            by_capability[capability] = frozenset(unit_subtree_ids(roots, children))
        access = UnitAccess(
            everything=False, can_view_all=user.is_registrar, by_capability=by_capability
        )
    user._narvaro_unit_access = access  # type: ignore[attr-defined]
    return access


def unit_list_for_user(user: User, capability: Capability = Capability.VIEW) -> QuerySet[Unit]:
    """Units `user` holds `capability` in."""
    ids = unit_access(user).unit_ids(capability)
    units = Unit.objects.select_related("parent")
    return units if ids is None else units.filter(id__in=ids)


def get_unit_for_user(user: User, pk: int, *, write: bool = False) -> Unit:
    """The unit `pk` if `user` may see it (404 otherwise) and, with write, manage it (403)."""
    access = unit_access(user)
    if not access.allows(pk, Capability.VIEW):
        raise Http404
    try:
        unit = Unit.objects.select_related("parent").get(pk=pk)
    except Unit.DoesNotExist as exc:
        raise Http404 from exc
    if write and not access.allows(pk, Capability.MANAGE):
        raise PermissionDenied
    return unit


def get_unit_by_slug(slug: str) -> Unit | None:
    """A unit by its short name, for the command line (no person involved)."""
    return Unit.objects.filter(slug=slug).first()


@dataclass(frozen=True)
class TreeRow:
    """One line of the indented unit tree."""

    unit: Unit
    depth: int


def unit_tree_for_user(user: User) -> list[TreeRow]:
    """The units `user` may see, in tree order with their depth, from one query.

    A visible unit whose parent is hidden is shown as a root.
    """
    units = list(unit_list_for_user(user).order_by("name"))
    by_id = {unit.id: unit for unit in units}
    children: dict[int | None, list[Unit]] = defaultdict(list)
    for unit in units:
        parent = unit.parent_id if unit.parent_id in by_id else None
        children[parent].append(unit)
    rows: list[TreeRow] = []

    def walk(parent: int | None, depth: int) -> None:
        for unit in children.get(parent, []):
            rows.append(TreeRow(unit=unit, depth=depth))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return rows


def unit_ancestors(unit: Unit) -> list[Unit]:
    """The chain from the root down to `unit`'s parent (for breadcrumbs), from one query."""
    rows = {
        uid: (parent, name)
        for uid, parent, name in Unit.objects.values_list("id", "parent_id", "name")
    }
    chain: list[Unit] = []
    current = unit.parent_id
    while current is not None and current in rows and len(chain) < len(rows):
        parent, name = rows[current]
        chain.append(Unit(id=current, name=name, parent_id=parent))
        current = parent
    return list(reversed(chain))


def membership_list_for_unit(unit: Unit) -> QuerySet[Membership]:
    """The people holding roles directly in `unit` (callers check access to the unit first)."""
    return (
        Membership.objects.filter(unit=unit)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    )


def get_membership_for_user(user: User, pk: int, *, write: bool = False) -> Membership:
    """A membership if `user` may see its unit (404) and, with write, manage it (403)."""
    try:
        membership = Membership.objects.select_related("unit", "user").get(pk=pk)
    except Membership.DoesNotExist as exc:
        raise Http404 from exc
    access = unit_access(user)
    if not access.allows(membership.unit_id, Capability.VIEW):
        raise Http404
    if write and not access.allows(membership.unit_id, Capability.MANAGE):
        raise PermissionDenied
    return membership


def memberships_of_user(user: User) -> QuerySet[Membership]:
    """The roles `user` holds, for the overview page."""
    return Membership.objects.filter(user=user).select_related("unit").order_by("unit__name")
