"""Every change to units and memberships, each written to the audit log."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from narvaro.core.models import AuditEvent, User
from narvaro.core.services import audit_record, model_changes, model_snapshot
from narvaro.organisation.models import Membership, Unit
from narvaro.organisation.selectors import unit_children_map, unit_subtree_ids

UNIT_FIELDS = ["name", "slug", "parent", "description", "audience", "voice", "contact_email"]


@transaction.atomic
def unit_create(*, actor: User | None, **fields: Any) -> Unit:
    """Add a unit to the tree."""
    unit = Unit(**fields)
    unit.full_clean()
    unit.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=unit,
        unit_id=unit.pk,
        summary="unit created" + (f" under {unit.parent}" if unit.parent_id else ""),
    )
    return unit


@transaction.atomic
def unit_update(*, actor: User | None, unit: Unit, **fields: Any) -> Unit:
    """Change a unit. Moving it below itself or one of its own subunits is refused."""
    # Compare with the stored row: a ModelForm has already written the new values onto `unit`.
    before = model_snapshot(Unit.objects.select_for_update().get(pk=unit.pk), UNIT_FIELDS)
    for name, value in fields.items():
        if name not in UNIT_FIELDS:
            raise ValueError(f"unit_update cannot change {name!r}")
        setattr(unit, name, value)
    if unit.parent_id is not None:
        own_subtree = unit_subtree_ids({unit.pk}, unit_children_map())
        if unit.parent_id in own_subtree:
            raise ValidationError(
                {"parent": _("A unit cannot be placed below itself or one of its subunits.")}
            )
    unit.full_clean()
    unit.save()
    diff = model_changes(before, unit, UNIT_FIELDS)
    if diff:
        audit_record(
            actor=actor, action=AuditEvent.Action.UPDATE, target=unit, unit_id=unit.pk, changes=diff
        )
    return unit


@transaction.atomic
def membership_grant(
    *, actor: User | None, unit: Unit, user: User, role: str, requires_approval: bool = False
) -> Membership:
    """Give `user` a role in `unit`, or change the role they already hold there."""
    membership = Membership.objects.filter(unit=unit, user=user).first()
    if membership is None:
        membership = Membership(unit=unit, user=user)
        before: dict[str, Any] = {"role": None, "requires_approval": None}
    else:
        before = model_snapshot(membership, ["role", "requires_approval"])
    membership.role = role
    membership.requires_approval = requires_approval
    membership.full_clean()
    membership.save()
    diff = model_changes(before, membership, ["role", "requires_approval"])
    if diff:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.GRANT,
            target=membership,
            unit_id=unit.pk,
            summary=f"{user} is {role} in {unit}",
            changes=diff,
        )
    return membership


@transaction.atomic
def membership_revoke(*, actor: User | None, membership: Membership) -> None:
    """Remove a person's role in a unit. The audit log keeps that they held it."""
    audit_record(
        actor=actor,
        action=AuditEvent.Action.REVOKE,
        target=membership,
        unit_id=membership.unit_id,
        summary=f"{membership.user} no longer {membership.role} in {membership.unit}",
        changes={"role": [membership.role, None]},
    )
    membership.delete()
