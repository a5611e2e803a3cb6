"""Units and the people in them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from narvaro.channels.selectors import account_list_for_user
from narvaro.core.permissions import require_org_admin
from narvaro.core.selectors import audit_events_for_object
from narvaro.lib.forms import post_data
from narvaro.lib.htmx import redirect_to
from narvaro.lib.types import AuthedRequest
from narvaro.organisation import services
from narvaro.organisation.forms import (
    CalendarDayForm,
    DutyAssignForm,
    MembershipChangeForm,
    MembershipForm,
    OpeningHoursForm,
    UnitForm,
)
from narvaro.organisation.models import CalendarDay, Unit
from narvaro.organisation.roles import Capability
from narvaro.organisation.selectors import (
    business_calendar_load,
    calendar_day_list,
    get_calendar_day_for_user,
    get_duty_assignment_for_user,
    get_membership_for_user,
    get_unit_for_user,
    holiday_rows,
    membership_list_for_unit,
    on_duty,
    opening_hours_week,
    response_target_for_unit,
    roster_for_unit,
    unit_access,
    unit_ancestors,
    unit_tree_for_user,
    week_rows,
)
from narvaro.organisation.templatetags.narvaro_business_time import business_time


def roster_start(text: str | None, today: dt.date) -> dt.date:
    """The Monday of the week of `text` (an ISO date), or of this week."""
    try:
        day = dt.date.fromisoformat(text) if text else today
    except ValueError:
        day = today
    return day - dt.timedelta(days=day.weekday())


def _can_create_units(request: AuthedRequest) -> bool:
    managed = unit_access(request.user).unit_ids(Capability.MANAGE)
    return managed is None or bool(managed)


@dataclass(frozen=True)
class ResponseTarget:
    """The target in force for a unit and where it comes from (for the unit page)."""

    value: dt.timedelta
    own: bool
    working_day: bool


def _response_target(unit: Unit) -> ResponseTarget:
    calendar = business_calendar_load()
    value = response_target_for_unit(unit, calendar)
    return ResponseTarget(
        value=value,
        own=unit.response_target is not None,
        working_day=value == calendar.working_day_length(),
    )


def _inherited_target_text(parent: Unit | None) -> str:
    """What an empty target means for a unit below `parent`, for the field's help text."""
    calendar = business_calendar_load()
    if parent is None:
        value = calendar.working_day_length()
        return _("one working day (%(time)s)") % {"time": business_time(value)}
    value = response_target_for_unit(parent, calendar)
    return _("as %(unit)s, %(time)s") % {"unit": parent.name, "time": business_time(value)}


@login_required
@require_GET
def unit_list(request: AuthedRequest) -> HttpResponse:
    """The unit tree, as far as the person may see it."""
    context = {"rows": unit_tree_for_user(request.user), "can_create": _can_create_units(request)}
    return render(request, "organisation/unit_list.html", context)


@login_required
@require_GET
def unit_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    unit = get_unit_for_user(request.user, pk)
    access = unit_access(request.user)
    context = {
        "unit": unit,
        "ancestors": unit_ancestors(unit),
        "children": unit.children.order_by("name"),
        "accounts": account_list_for_user(request.user, unit=unit.pk, include_subunits=False),
        "memberships": membership_list_for_unit(unit),
        "history": audit_events_for_object("organisation.unit", unit.pk)[:20],
        "can_manage": access.allows(unit.pk, Capability.MANAGE),
        "response_target": _response_target(unit),
        "on_duty": on_duty(unit, timezone.localdate()),
    }
    return render(request, "organisation/unit_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def unit_create(request: AuthedRequest) -> HttpResponse:
    if not _can_create_units(request):
        raise PermissionDenied
    initial = {"parent": request.GET.get("parent")}
    form = UnitForm(
        post_data(request),
        user=request.user,
        initial=initial,
        inherited_target=_inherited_target_text(None),
    )
    if form.is_valid():
        unit = services.unit_create(actor=request.user, **form.cleaned_data)
        messages.success(request, _("Unit created."))
        return redirect_to(request, unit.get_absolute_url())
    return render(request, "organisation/unit_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def unit_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    unit = get_unit_for_user(request.user, pk, write=True)
    form = UnitForm(
        post_data(request),
        instance=unit,
        user=request.user,
        inherited_target=_inherited_target_text(unit.parent),
    )
    if form.is_valid():
        try:
            services.unit_update(actor=request.user, unit=unit, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect_to(request, unit.get_absolute_url())
    return render(request, "organisation/unit_form.html", {"form": form, "unit": unit})


@login_required
@require_http_methods(["GET", "POST"])
def membership_add(request: AuthedRequest, pk: int) -> HttpResponse:
    unit = get_unit_for_user(request.user, pk, write=True)
    form = MembershipForm(post_data(request), user=request.user)
    if form.is_valid():
        services.membership_grant(actor=request.user, unit=unit, **form.cleaned_data)
        messages.success(request, _("Role given."))
        return redirect_to(request, unit.get_absolute_url())
    return render(request, "organisation/membership_form.html", {"form": form, "unit": unit})


@login_required
@require_http_methods(["GET", "POST"])
def membership_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    membership = get_membership_for_user(request.user, pk, write=True)
    initial = {"role": membership.role, "requires_approval": membership.requires_approval}
    form = MembershipChangeForm(post_data(request), initial=initial)
    if form.is_valid():
        services.membership_grant(
            actor=request.user, unit=membership.unit, user=membership.user, **form.cleaned_data
        )
        messages.success(request, _("Role changed."))
        return redirect_to(request, membership.unit.get_absolute_url())
    context = {"form": form, "unit": membership.unit, "membership": membership}
    return render(request, "organisation/membership_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def membership_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    """Confirm, then remove a role (GET shows the question, POST does it)."""
    membership = get_membership_for_user(request.user, pk, write=True)
    if request.method == "POST":
        services.membership_revoke(actor=request.user, membership=membership)
        messages.success(request, _("Role removed."))
        return redirect_to(request, membership.unit.get_absolute_url())
    return render(request, "organisation/membership_revoke.html", {"membership": membership})


# -- Business hours and holidays (R14) ----------------------------------------------------


@login_required
@require_GET
def business_hours(request: AuthedRequest) -> HttpResponse:
    """The normal week, the dated exceptions ahead and the Swedish holidays of two years."""
    today = timezone.localdate()
    calendar = business_calendar_load()
    context = {
        "week": week_rows(calendar),
        "working_day": calendar.working_day_length(),
        "days": calendar_day_list(since=today),
        "holidays": holiday_rows(calendar, [today.year, today.year + 1], since=today),
        "can_edit": request.user.is_org_admin,
        "time_zone": settings.TIME_ZONE,
    }
    return render(request, "organisation/business_hours.html", context)


@require_org_admin
@require_http_methods(["GET", "POST"])
def opening_hours_edit(request: AuthedRequest) -> HttpResponse:
    form = OpeningHoursForm(post_data(request), week=opening_hours_week())
    if form.is_valid():
        try:
            services.opening_hours_set(actor=request.user, week=form.cleaned_data["week"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Opening hours saved."))
            return redirect_to(request, reverse("organisation:business_hours"))
    return render(request, "organisation/opening_hours_form.html", {"form": form})


@require_org_admin
@require_http_methods(["GET", "POST"])
def calendar_day_add(request: AuthedRequest) -> HttpResponse:
    initial = {"date": request.GET.get("date"), "kind": CalendarDay.Kind.CLOSED}
    form = CalendarDayForm(post_data(request), initial=initial)
    if form.is_valid():
        fields = {name: form.cleaned_data[name] for name in CalendarDayForm.Meta.fields}
        services.calendar_day_set(actor=request.user, **fields)
        messages.success(request, _("The day's hours are saved."))
        return redirect_to(request, reverse("organisation:business_hours"))
    return render(request, "organisation/calendar_day_form.html", {"form": form})


@require_org_admin
@require_http_methods(["GET", "POST"])
def calendar_day_remove(request: AuthedRequest, pk: int) -> HttpResponse:
    """Confirm, then give a date back its normal hours (GET asks, POST does it)."""
    day = get_calendar_day_for_user(request.user, pk)
    if request.method == "POST":
        services.calendar_day_remove(actor=request.user, day=day)
        messages.success(request, _("The day has its normal hours again."))
        return redirect_to(request, reverse("organisation:business_hours"))
    return render(request, "organisation/calendar_day_remove.html", {"day": day})


# -- The duty roster (R14) ----------------------------------------------------------------

ROSTER_DAYS = 28


@login_required
@require_GET
def roster(request: AuthedRequest, pk: int) -> HttpResponse:
    """Who covers the unit's inbox, four weeks from the Monday of the week asked for."""
    unit = get_unit_for_user(request.user, pk)
    first = roster_start(request.GET.get("from"), timezone.localdate())
    calendar = business_calendar_load()
    context = {
        "unit": unit,
        "ancestors": unit_ancestors(unit),
        "rows": roster_for_unit(unit, first, ROSTER_DAYS, calendar),
        "first": first,
        "last": first + dt.timedelta(days=ROSTER_DAYS - 1),
        "previous": first - dt.timedelta(days=ROSTER_DAYS),
        "next": first + dt.timedelta(days=ROSTER_DAYS),
        "today": timezone.localdate(),
        "can_manage": unit_access(request.user).allows(unit.pk, Capability.MANAGE),
    }
    return render(request, "organisation/roster.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def duty_add(request: AuthedRequest, pk: int) -> HttpResponse:
    unit = get_unit_for_user(request.user, pk, write=True)
    initial = {"first": request.GET.get("date") or timezone.localdate()}
    form = DutyAssignForm(post_data(request), unit=unit, initial=initial)
    if form.is_valid():
        data = form.cleaned_data
        services.duty_assign(
            actor=request.user, unit=unit, user=data["user"], dates=data["dates"], note=data["note"]
        )
        messages.success(request, _("The roster is updated."))
        url = reverse("organisation:roster", args=[unit.pk])
        return redirect_to(request, f"{url}?from={data['dates'][0]:%Y-%m-%d}")
    return render(request, "organisation/duty_form.html", {"form": form, "unit": unit})


@login_required
@require_http_methods(["GET", "POST"])
def duty_remove(request: AuthedRequest, pk: int) -> HttpResponse:
    """Confirm, then take a person off the roster for a day (GET asks, POST does it)."""
    assignment = get_duty_assignment_for_user(request.user, pk)
    url = reverse("organisation:roster", args=[assignment.unit_id])
    back = f"{url}?from={assignment.date:%Y-%m-%d}"
    if request.method == "POST":
        services.duty_unassign(actor=request.user, assignment=assignment)
        messages.success(request, _("The roster is updated."))
        return redirect_to(request, back)
    return render(
        request, "organisation/duty_remove.html", {"assignment": assignment, "back": back}
    )
