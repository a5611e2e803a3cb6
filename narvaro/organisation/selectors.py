"""Reads of units and memberships, always scoped to the person asking."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import DateField, F, IntegerField, QuerySet, Value
from django.http import Http404
from django.utils.translation import get_language

from narvaro.core.models import User
from narvaro.organisation.business_time import (
    DEFAULT_WEEK,
    BusinessCalendar,
    DayRule,
    swedish_holidays,
)
from narvaro.organisation.models import (
    CalendarDay,
    DutyAssignment,
    Membership,
    OpeningHours,
    Unit,
    Weekday,
)
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


# -- Business hours, response targets and the duty roster (R14) ---------------------------


def business_calendar_load() -> BusinessCalendar:
    """The organisation's business calendar, from one query.

    The weekly hours and the dated exceptions are read together (UNION ALL); the Swedish
    public holidays come from the `holidays` package. Load it once per request or task and
    pass it to every computation: the calendar itself never queries.
    """
    week = (
        OpeningHours.objects.order_by()
        .annotate(
            c_source=Value("w"),
            c_weekday=F("weekday"),
            c_date=Value(None, output_field=DateField()),
            c_kind=Value(""),
            c_opens=F("opens"),
            c_closes=F("closes"),
        )
        .values_list("c_source", "c_weekday", "c_date", "c_kind", "c_opens", "c_closes")
    )
    days = (
        CalendarDay.objects.order_by()
        .annotate(
            c_source=Value("d"),
            c_weekday=Value(None, output_field=IntegerField()),
            c_date=F("date"),
            c_kind=F("kind"),
            c_opens=F("opens_at"),
            c_closes=F("closes_at"),
        )
        .values_list("c_source", "c_weekday", "c_date", "c_kind", "c_opens", "c_closes")
    )
    weekly: dict[int, list[tuple[dt.time, dt.time]]] = defaultdict(list)
    rules: dict[dt.date, DayRule] = {}
    has_week = False
    for source, weekday, day, kind, opens, closes in week.union(days, all=True):
        if source == "w":
            has_week = True
            weekly[weekday].append((opens, closes))
        else:
            rules[day] = DayRule(closed=kind == CalendarDay.Kind.CLOSED, opens=opens, closes=closes)
    return BusinessCalendar(
        weekly=weekly if has_week else None,
        days=rules,
        holidays=swedish_holidays(),
        tz=settings.TIME_ZONE,
    )


def opening_hours_week() -> dict[int, list[tuple[dt.time, dt.time]]]:
    """The normal week as set (weekday → intervals), the default week when none is set."""
    rows = list(OpeningHours.objects.values_list("weekday", "opens", "closes"))
    if not rows:
        return {day: list(DEFAULT_WEEK.get(day, ())) for day in range(7)}
    week: dict[int, list[tuple[dt.time, dt.time]]] = {day: [] for day in range(7)}
    for weekday, opens, closes in rows:
        week[weekday].append((opens, closes))
    return week


def calendar_day_list(*, since: dt.date | None = None) -> QuerySet[CalendarDay]:
    """The dated exceptions, from `since` on (every one without it)."""
    days = CalendarDay.objects.order_by("date")
    return days if since is None else days.filter(date__gte=since)


def get_calendar_day_for_user(user: User, pk: int) -> CalendarDay:
    """A dated exception, for an org admin (404 for anyone else or an unknown id)."""
    if not user.is_org_admin:
        raise Http404
    try:
        return CalendarDay.objects.get(pk=pk)
    except CalendarDay.DoesNotExist as exc:
        raise Http404 from exc


def unit_response_targets(calendar: BusinessCalendar) -> dict[int, dt.timedelta]:
    """Unit id → the response target in force (business time), for every unit, one query.

    A unit without a target of its own takes its nearest ancestor's; at the top the target is
    one working day of `calendar`.
    """
    rows = {
        uid: (parent, target)
        for uid, parent, target in Unit.objects.values_list("id", "parent_id", "response_target")
    }
    default = calendar.working_day_length()
    resolved: dict[int, dt.timedelta] = {}

    def resolve(uid: int) -> dt.timedelta:
        chain: list[int] = []
        current: int | None = uid
        found = default
        while current is not None and current in rows and len(chain) <= len(rows):
            if current in resolved:
                found = resolved[current]
                break
            parent, target = rows[current]
            chain.append(current)
            if target is not None:
                found = target
                break
            current = parent
        for unit_id in chain:
            resolved[unit_id] = found
        return found

    for uid in rows:
        resolve(uid)
    return resolved


def response_target_for_unit(unit: Unit, calendar: BusinessCalendar) -> dt.timedelta:
    """The response target in force for one unit (its own, inherited or the default)."""
    if unit.response_target is not None:
        return unit.response_target
    return unit_response_targets(calendar).get(unit.pk, calendar.working_day_length())


def _unit_parents() -> dict[int, int | None]:
    return dict(Unit.objects.values_list("id", "parent_id"))


def _chain(unit_id: int, parents: dict[int, int | None]) -> list[int]:
    """`unit_id` and its ancestors, nearest first."""
    chain: list[int] = []
    current: int | None = unit_id
    while current is not None and current in parents and current not in chain:
        chain.append(current)
        current = parents[current]
    return chain


def unit_chain_ids(unit: Unit) -> list[int]:
    """`unit`'s id and its ancestors' ids, nearest first, from one query."""
    return _chain(unit.pk, _unit_parents())


def on_duty(unit: Unit, date: dt.date) -> list[User]:
    """Who covers `unit`'s inbox on `date`: the people rostered in the unit, or, when nobody
    is, in the nearest unit above it that has someone. Two queries."""
    chain = _chain(unit.pk, _unit_parents())
    assignments = (
        DutyAssignment.objects.filter(unit_id__in=chain, date=date)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    )
    by_unit: dict[int, list[User]] = defaultdict(list)
    for assignment in assignments:
        by_unit[assignment.unit_id].append(assignment.user)
    for unit_id in chain:
        if by_unit.get(unit_id):
            return by_unit[unit_id]
    return []


def on_duty_map(date: dt.date) -> dict[int, list[User]]:
    """Unit id → who covers its inbox on `date` (as `on_duty`), for every unit. Two queries."""
    parents = _unit_parents()
    assignments = (
        DutyAssignment.objects.filter(date=date)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    )
    own: dict[int, list[User]] = defaultdict(list)
    for assignment in assignments:
        own[assignment.unit_id].append(assignment.user)
    result: dict[int, list[User]] = {}
    for unit_id in parents:
        result[unit_id] = next((own[uid] for uid in _chain(unit_id, parents) if own.get(uid)), [])
    return result


def holiday_language() -> str:
    """The `holidays` package's name for the active interface language."""
    return "sv" if (get_language() or "").startswith("sv") else "en_US"


@dataclass(frozen=True)
class RosterDay:
    """One line of a unit's roster page."""

    date: dt.date
    assignments: list[DutyAssignment]
    covered_by: Unit | None  # the unit above whose roster covers the day, when none here
    covering: list[User]
    open_intervals: list[tuple[dt.datetime, dt.datetime]]
    holiday: str


def roster_for_unit(
    unit: Unit, first: dt.date, days: int, calendar: BusinessCalendar
) -> list[RosterDay]:
    """The roster of `unit` for `days` days from `first`, with the cover from above on days
    nobody is rostered here. Three queries whatever the number of days."""
    parents = _unit_parents()
    chain = _chain(unit.pk, parents)
    last = first + dt.timedelta(days=days - 1)
    assignments = (
        DutyAssignment.objects.filter(unit_id__in=chain, date__range=(first, last))
        .select_related("user")
        .order_by("date", "user__first_name", "user__last_name", "user__username")
    )
    by_day: dict[tuple[int, dt.date], list[DutyAssignment]] = defaultdict(list)
    for assignment in assignments:
        by_day[(assignment.unit_id, assignment.date)].append(assignment)
    names = dict(Unit.objects.filter(id__in=chain[1:]).values_list("id", "name"))
    holidays = swedish_holidays(language=holiday_language(), years={first.year, last.year})
    rows: list[RosterDay] = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        covered_by: Unit | None = None
        covering: list[User] = []
        if not by_day.get((unit.pk, day)):
            for uid in chain[1:]:
                if by_day.get((uid, day)):
                    covered_by = Unit(id=uid, name=names.get(uid, ""))
                    covering = [a.user for a in by_day[(uid, day)]]
                    break
        rows.append(
            RosterDay(
                date=day,
                assignments=by_day.get((unit.pk, day), []),
                covered_by=covered_by,
                covering=covering,
                open_intervals=calendar.intervals_on(day),
                holiday=holidays.get(day, "") if day not in calendar.days else "",
            )
        )
    return rows


def get_duty_assignment_for_user(user: User, pk: int) -> DutyAssignment:
    """A roster line if `user` may see its unit (404) and manage it (403)."""
    try:
        assignment = DutyAssignment.objects.select_related("unit", "user").get(pk=pk)
    except DutyAssignment.DoesNotExist as exc:
        raise Http404 from exc
    access = unit_access(user)
    if not access.allows(assignment.unit_id, Capability.VIEW):
        raise Http404
    if not access.allows(assignment.unit_id, Capability.MANAGE):
        raise PermissionDenied
    return assignment


def roster_candidates(unit: Unit) -> QuerySet[User]:
    """Who can be put on a unit's roster: active people who may answer in the unit (a
    responding role in it or a unit above it)."""
    chain = _chain(unit.pk, _unit_parents())
    roles = [role for role in Membership.Role if role_allows(role, Capability.RESPOND)]
    return (
        User.objects.filter(
            is_active=True, memberships__unit_id__in=chain, memberships__role__in=roles
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


@dataclass(frozen=True)
class WeekRow:
    """One weekday of the normal week, for the business hours page."""

    weekday: int
    label: str
    intervals: list[str]  # "08:00–12:00"


def week_rows(calendar: BusinessCalendar) -> list[WeekRow]:
    """The calendar's normal week, Monday first."""

    def clock(seconds: int) -> str:
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"

    return [
        WeekRow(
            weekday=day.value,
            label=str(day.label),
            intervals=[f"{clock(a)}–{clock(b)}" for a, b in calendar.weekly[day.value]],
        )
        for day in Weekday
    ]


@dataclass(frozen=True)
class HolidayRow:
    """A Swedish holiday on which the organisation is closed (unless a calendar day says
    otherwise)."""

    date: dt.date
    name: str
    calendar_day: DayRule | None


def holiday_rows(
    calendar: BusinessCalendar, years: list[int], *, since: dt.date | None = None
) -> list[HolidayRow]:
    """The holidays of `years` (from `since` on), named in the active language."""
    names = swedish_holidays(language=holiday_language(), years=years)
    return [
        HolidayRow(date=day, name=name, calendar_day=calendar.days.get(day))
        for day, name in sorted(names.items())
        if day.year in years and (since is None or day >= since)
    ]
