"""Pages of records management, for registrars and admins (R27, R28, R13).

Every view checks the role through the app's scoped selectors (403 for others, 404 for an
unknown object), then calls one service.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from narvaro.archive.models import Item
from narvaro.archive.selectors import get_item_for_user
from narvaro.lib.forms import post_data
from narvaro.lib.htmx import redirect_to
from narvaro.lib.paging import paginate
from narvaro.lib.types import AuthedRequest
from narvaro.retention import selectors, services
from narvaro.retention.forms import (
    ErasureDecisionForm,
    ErasureRequestForm,
    FlagForm,
    HoldForm,
    ReasonForm,
    RuleForm,
)
from narvaro.retention.models import RegistryEntry

View = Callable[..., HttpResponse]


def officer_only(view: View) -> View:
    """Signed in (else the sign-in page) and a registrar or admin (else 403)."""

    @login_required
    @wraps(view)
    def wrapper(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        selectors.require_records_officer(request.user)
        return view(request, *args, **kwargs)

    return wrapper


def _refused(form: Form, exc: ValidationError) -> None:
    """Show a service's refusal on the form (by field where it names one)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _item_from_query(request: AuthedRequest) -> Item | None:
    value = request.GET.get("item", "")
    if not value:
        return None
    if not value.isdigit():
        raise Http404
    return get_item_for_user(request.user, int(value))


# --- Rules and runs -------------------------------------------------------------------------


@officer_only
@require_GET
def rule_list(request: AuthedRequest) -> HttpResponse:
    """Every retention rule; with none active, nothing is ever disposed of."""
    rules = selectors.rule_list_for_user(request.user)
    return render(request, "retention/rule_list.html", {"page": paginate(request, rules)})


@officer_only
@require_http_methods(["GET", "POST"])
def rule_create(request: AuthedRequest) -> HttpResponse:
    form = RuleForm(post_data(request))
    if form.is_valid():
        rule = services.rule_create(actor=request.user, request=request, **form.cleaned_data)
        messages.success(request, _("Rule created. Nothing is disposed of until you commit a run."))
        return redirect_to(request, rule.get_absolute_url())
    return render(request, "retention/rule_form.html", {"form": form})


@officer_only
@require_GET
def rule_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    rule = selectors.get_rule_for_user(request.user, pk)
    runs = selectors.run_list_for_user(request.user).filter(rule=rule)
    return render(
        request, "retention/rule_detail.html", {"rule": rule, "page": paginate(request, runs)}
    )


@officer_only
@require_POST
def rule_deactivate(request: AuthedRequest, pk: int) -> HttpResponse:
    rule = selectors.get_rule_for_user(request.user, pk)
    services.rule_deactivate(actor=request.user, rule=rule, request=request)
    messages.success(request, _("Rule deactivated."))
    return redirect_to(request, rule.get_absolute_url())


@officer_only
@require_POST
def run_create(request: AuthedRequest, pk: int) -> HttpResponse:
    """A dry run of the rule: lists what it would dispose of, changes nothing."""
    rule = selectors.get_rule_for_user(request.user, pk)
    try:
        run = services.disposal_run_create(actor=request.user, rule=rule, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect_to(request, rule.get_absolute_url())
    return redirect_to(request, run.get_absolute_url())


@officer_only
@require_GET
def run_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    run = selectors.get_run_for_user(request.user, pk)
    services.disposal_run_view_log(actor=request.user, run=run, request=request)
    context = {"run": run, "page": paginate(request, selectors.run_entries(run))}
    return render(request, "retention/run_detail.html", context)


@officer_only
@require_http_methods(["GET", "POST"])
def run_commit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Confirm, then dispose of what the dry run listed (GET asks, POST does it)."""
    run = selectors.get_run_for_user(request.user, pk)
    if request.method == "POST":
        try:
            run = services.disposal_run_commit(actor=request.user, run=run, request=request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect_to(request, run.get_absolute_url())
        messages.success(request, _("Disposal committed and logged."))
        return redirect_to(request, run.get_absolute_url())
    return render(request, "retention/run_commit.html", {"run": run})


@officer_only
@require_GET
def disposal_log(request: AuthedRequest) -> HttpResponse:
    """The gallring log: every disposed version, under which decision, by whom, kept for ever."""
    entries = selectors.disposal_log_for_user(request.user)
    return render(request, "retention/disposal_log.html", {"page": paginate(request, entries)})


# --- Legal holds --------------------------------------------------------------------------------


@officer_only
@require_GET
def hold_list(request: AuthedRequest) -> HttpResponse:
    holds = selectors.hold_list_for_user(request.user)
    return render(request, "retention/hold_list.html", {"page": paginate(request, holds)})


@officer_only
@require_http_methods(["GET", "POST"])
def hold_create(request: AuthedRequest) -> HttpResponse:
    """Place a hold on a record (?item=), its thread, an account or an author."""
    item = _item_from_query(request)
    form = HoldForm(post_data(request), with_item=item is not None)
    if form.is_valid():
        try:
            services.hold_place(actor=request.user, item=item, request=request, **form.cleaned_data)
        except ValidationError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("Legal hold placed."))
            return redirect_to(request, reverse("retention:hold_list"))
    return render(request, "retention/hold_form.html", {"form": form, "item": item})


@officer_only
@require_http_methods(["GET", "POST"])
def hold_release(request: AuthedRequest, pk: int) -> HttpResponse:
    hold = selectors.get_hold_for_user(request.user, pk)
    form = ReasonForm(post_data(request))
    if form.is_valid():
        try:
            services.hold_release(
                actor=request.user, hold=hold, reason=form.cleaned_data["reason"], request=request
            )
        except ValidationError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("Legal hold released."))
            return redirect_to(request, reverse("retention:hold_list"))
    return render(request, "retention/hold_release.html", {"form": form, "hold": hold})


# --- Erasure requests (R28) ---------------------------------------------------------------------


@officer_only
@require_GET
def erasure_list(request: AuthedRequest) -> HttpResponse:
    requests = selectors.erasure_list_for_user(request.user)
    return render(request, "retention/erasure_list.html", {"page": paginate(request, requests)})


@officer_only
@require_http_methods(["GET", "POST"])
def erasure_create(request: AuthedRequest) -> HttpResponse:
    item = _item_from_query(request)
    form = ErasureRequestForm(post_data(request))
    if form.is_valid():
        erasure = services.erasure_request_record(
            actor=request.user, item=item, request=request, **form.cleaned_data
        )
        messages.success(request, _("Erasure request recorded."))
        return redirect_to(request, erasure.get_absolute_url())
    return render(request, "retention/erasure_form.html", {"form": form, "item": item})


@officer_only
@require_GET
def erasure_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    erasure = selectors.get_erasure_for_user(request.user, pk)
    return render(request, "retention/erasure_detail.html", {"erasure": erasure})


@officer_only
@require_http_methods(["GET", "POST"])
def erasure_decide(request: AuthedRequest, pk: int) -> HttpResponse:
    erasure = selectors.get_erasure_for_user(request.user, pk)
    form = ErasureDecisionForm(post_data(request))
    if form.is_valid():
        try:
            services.erasure_request_decide(
                actor=request.user, erasure=erasure, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect_to(request, erasure.get_absolute_url())
    return render(request, "retention/erasure_decide.html", {"form": form, "erasure": erasure})


# --- Registration (R13) -------------------------------------------------------------------------


@officer_only
@require_GET
def registry_list(request: AuthedRequest) -> HttpResponse:
    entries = selectors.registry_list_for_user(request.user)
    return render(request, "retention/registry_list.html", {"page": paginate(request, entries)})


@officer_only
@require_GET
def registry_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    entry = selectors.get_registry_entry_for_user(request.user, pk)
    services.registry_entry_view_log(actor=request.user, entry=entry, request=request)
    items = selectors.registry_items(entry).select_related("account")
    return render(request, "retention/registry_detail.html", {"entry": entry, "items": items})


@officer_only
@require_http_methods(["GET", "POST"])
def registry_flag(request: AuthedRequest, pk: int, kind: str) -> HttpResponse:
    """Register a record (or its thread) as a case or as secret."""
    if kind not in RegistryEntry.Kind.values:
        raise Http404
    item = get_item_for_user(request.user, pk)
    initial = {
        "received_on": timezone.localdate(item.first_seen_at),
        "sender": item.author_name or item.author_handle,
    }
    form = FlagForm(post_data(request), kind=kind, initial=initial)
    if form.is_valid():
        try:
            entry = services.registry_flag(
                actor=request.user, item=item, kind=kind, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("Registered."))
            return redirect_to(request, entry.get_absolute_url())
    context = {"form": form, "item": item, "kind": RegistryEntry.Kind(kind)}
    return render(request, "retention/registry_flag.html", context)


@officer_only
@require_http_methods(["GET", "POST"])
def registry_lift(request: AuthedRequest, pk: int) -> HttpResponse:
    """Lift a secret flag (the registration stays)."""
    entry = selectors.get_registry_entry_for_user(request.user, pk)
    form = ReasonForm(post_data(request))
    if form.is_valid():
        try:
            services.registry_secrecy_lift(
                actor=request.user, entry=entry, reason=form.cleaned_data["reason"], request=request
            )
        except ValidationError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("Secrecy lifted."))
            return redirect_to(request, entry.get_absolute_url())
    return render(request, "retention/registry_lift.html", {"form": form, "entry": entry})


@officer_only
@require_GET
def registry_export(request: AuthedRequest) -> HttpResponse:
    """Every registry entry as JSON for the case-management system (logged, R13, R37)."""
    entries = list(selectors.registry_list_for_user(request.user).order_by("created_at", "id"))
    content = services.registry_export(
        actor=request.user, entries=entries, via="web", request=request
    )
    response = HttpResponse(content, content_type="application/json; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="registry-{stamp}.json"'
    return response
