"""Units and the people in them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from narvaro.channels.selectors import account_list_for_user
from narvaro.core.selectors import audit_events_for_object
from narvaro.lib.forms import post_data
from narvaro.lib.htmx import redirect_to
from narvaro.lib.types import AuthedRequest
from narvaro.organisation import services
from narvaro.organisation.forms import MembershipChangeForm, MembershipForm, UnitForm
from narvaro.organisation.roles import Capability
from narvaro.organisation.selectors import (
    get_membership_for_user,
    get_unit_for_user,
    membership_list_for_unit,
    unit_access,
    unit_ancestors,
    unit_tree_for_user,
)


def _can_create_units(request: AuthedRequest) -> bool:
    managed = unit_access(request.user).unit_ids(Capability.MANAGE)
    return managed is None or bool(managed)


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
    }
    return render(request, "organisation/unit_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def unit_create(request: AuthedRequest) -> HttpResponse:
    if not _can_create_units(request):
        raise PermissionDenied
    initial = {"parent": request.GET.get("parent")}
    form = UnitForm(post_data(request), user=request.user, initial=initial)
    if form.is_valid():
        unit = services.unit_create(actor=request.user, **form.cleaned_data)
        messages.success(request, _("Unit created."))
        return redirect_to(request, unit.get_absolute_url())
    return render(request, "organisation/unit_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def unit_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    unit = get_unit_for_user(request.user, pk, write=True)
    form = UnitForm(post_data(request), instance=unit, user=request.user)
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
