"""Every change to units and memberships, each written to the audit log."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from narvaro.core.models import AuditEvent, User
from narvaro.core.services import audit_record, model_changes, model_snapshot
from narvaro.organisation.models import (
    CalendarDay,
    DutyAssignment,
    Membership,
    OpeningHours,
    Unit,
)
from narvaro.organisation.selectors import unit_children_map, unit_subtree_ids

UNIT_FIELDS = [
    "name",
    "slug",
    "parent",
    "description",
    "audience",
    "voice",
    "contact_email",
    "response_target",
]


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


# -- Business hours and the duty roster (R14) ---------------------------------------------


def _hhmm(value: dt.time | None) -> str:
    return "" if value is None else value.strftime("%H:%M")


def _week_text(week: Mapping[int, Sequence[tuple[dt.time, dt.time]]]) -> dict[str, str]:
    return {
        str(day): ", ".join(f"{_hhmm(a)}–{_hhmm(b)}" for a, b in sorted(week.get(day, ())))
        for day in range(7)
    }


@transaction.atomic
def opening_hours_set(
    *, actor: User | None, week: Mapping[int, Sequence[tuple[dt.time, dt.time]]]
) -> list[OpeningHours]:
    """Replace the organisation's normal week (weekday → open intervals, local time).

    Intervals of one day may not overlap; a week with no open time at all is refused (every
    response target would then be unreachable).
    """
    rows: list[OpeningHours] = []
    for weekday in range(7):
        intervals = sorted(week.get(weekday, ()))
        for (_a, b), (c, _d) in itertools.pairwise(intervals):
            if b == dt.time(0) or c < b:
                raise ValidationError(_("The opening hours of one day overlap."))
        for opens, closes in intervals:
            row = OpeningHours(weekday=weekday, opens=opens, closes=closes)
            if not (closes > opens or closes == dt.time(0)):
                raise ValidationError(_("An interval must close after it opens."))
            row.full_clean()
            rows.append(row)
    if not rows:
        raise ValidationError(_("The organisation must be open at some time of the week."))
    before: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for weekday, opens, closes in OpeningHours.objects.select_for_update().values_list(
        "weekday", "opens", "closes"
    ):
        before.setdefault(weekday, []).append((opens, closes))
    OpeningHours.objects.all().delete()
    OpeningHours.objects.bulk_create(rows)
    old, new = _week_text(before), _week_text(week)
    diff = {day: [old[day], new[day]] for day in old if old[day] != new[day]}
    if diff or not before:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=rows[0],
            summary="opening hours changed",
            changes=diff,
        )
    return rows


@transaction.atomic
def calendar_day_set(
    *,
    actor: User | None,
    date: dt.date,
    kind: str,
    opens_at: dt.time | None = None,
    closes_at: dt.time | None = None,
    note: str = "",
) -> CalendarDay:
    """Set the hours of one date (closed, or other hours), replacing what it had."""
    day = CalendarDay.objects.select_for_update().filter(date=date).first()
    fields = ["kind", "opens_at", "closes_at", "note"]
    if day is None:
        day = CalendarDay(date=date)
        before: dict[str, Any] = dict.fromkeys(fields)
    else:
        before = model_snapshot(day, fields)
    day.kind, day.opens_at, day.closes_at, day.note = kind, opens_at, closes_at, note
    day.full_clean()
    day.save()
    diff = model_changes(before, day, fields)
    if diff:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE if before["kind"] else AuditEvent.Action.CREATE,
            target=day,
            summary=f"business hours on {date:%Y-%m-%d}",
            changes=diff,
        )
    return day


@transaction.atomic
def calendar_day_remove(*, actor: User | None, day: CalendarDay) -> None:
    """Give a date back its normal hours (and its public holiday, if it is one)."""
    audit_record(
        actor=actor,
        action=AuditEvent.Action.DELETE,
        target=day,
        summary=f"business hours on {day.date:%Y-%m-%d} back to normal",
    )
    day.delete()


@transaction.atomic
def duty_assign(
    *,
    actor: User | None,
    unit: Unit,
    user: User,
    dates: Sequence[dt.date],
    note: str = "",
) -> list[DutyAssignment]:
    """Put `user` on `unit`'s roster on each of `dates` (a date already set keeps its row and
    takes the new note)."""
    result: list[DutyAssignment] = []
    for date in dates:
        assignment, created = DutyAssignment.objects.get_or_create(
            unit=unit, date=date, user=user, defaults={"note": note}
        )
        if not created and assignment.note != note:
            assignment.note = note
            assignment.full_clean()
            assignment.save(update_fields=["note", "updated_at"])
        result.append(assignment)
    if dates:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            target=result[0],
            unit_id=unit.pk,
            summary=(
                f"{user} on duty in {unit} on "
                + ", ".join(f"{d:%Y-%m-%d}" for d in dates[:10])
                + (f" and {len(dates) - 10} more days" if len(dates) > 10 else "")
            ),
        )
    return result


@transaction.atomic
def duty_unassign(*, actor: User | None, assignment: DutyAssignment) -> None:
    """Take a person off a unit's roster for one day."""
    audit_record(
        actor=actor,
        action=AuditEvent.Action.DELETE,
        target=assignment,
        unit_id=assignment.unit_id,
        summary=f"{assignment.user} no longer on duty in {assignment.unit} "
        f"on {assignment.date:%Y-%m-%d}",
    )
    assignment.delete()
