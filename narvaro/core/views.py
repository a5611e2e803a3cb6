"""Sign-in, two-factor, the overview, people and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from narvaro.core import services, two_factor
from narvaro.core.forms import AuditFilterForm, PersonForm, TwoFactorTokenForm
from narvaro.core.middleware import second_factor_url
from narvaro.core.models import User
from narvaro.core.permissions import require_audit_reader, require_org_admin
from narvaro.core.selectors import (
    audit_event_list_for_user,
    overview_for_user,
    user_has_confirmed_device,
    user_list_for_user,
)
from narvaro.lib.forms import post_data
from narvaro.lib.htmx import redirect_to, render_page
from narvaro.lib.paging import paginate, querystring_without_page
from narvaro.lib.types import AuthedRequest


def safe_next(request: HttpRequest) -> str:
    """The ?next= address if it stays on this site, else the overview (no open redirects)."""
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True


@login_required
@require_GET
def overview(request: AuthedRequest) -> HttpResponse:
    """The start page: what this person is responsible for and what needs them."""
    return render(request, "core/overview.html", {"overview": overview_for_user(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: AuthedRequest) -> HttpResponse:
    """Register an authenticator app: scan the code, type one code back to confirm.

    Replacing an existing authenticator needs a session verified with it (or a backup
    code): a password alone must never be enough to swap the second factor.
    """
    if not request.user.is_verified() and user_has_confirmed_device(request.user):
        return redirect(second_factor_url(request, safe_next(request)))
    device = two_factor.pending_totp_device(request.user)
    form = TwoFactorTokenForm(post_data(request))
    if form.is_valid():
        if two_factor.totp_device_confirm(
            request=request, device=device, token=form.cleaned_data["token"]
        ):
            messages.success(request, _("Two-factor authentication is now on."))
            backup = reverse("core:two_factor_backup_codes")
            return redirect(f"{backup}?{urlencode({'next': safe_next(request)})}")
        form.add_error("token", _("That code is not valid. Check the time on your phone."))
    context = {"form": form, "qr_svg": two_factor.qr_svg(device), "secret": device_secret(device)}
    return render(request, "core/two_factor_setup.html", context)


def device_secret(device: object) -> str:
    """The shared secret in base32, grouped for typing into an app by hand."""
    from base64 import b32encode

    raw = b32encode(device.bin_key).decode().rstrip("=")  # type: ignore[attr-defined]
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_backup_codes(request: AuthedRequest) -> HttpResponse:
    """Single-use backup codes for when the phone is lost: shown once, right after creation.

    Only a session verified with a second factor may create them.
    """
    if not request.user.is_verified():
        return redirect(second_factor_url(request))
    codes: list[str] = []
    if request.method == "POST":
        codes = two_factor.backup_codes_create(user=request.user, request=request)
    context = {"codes": codes, "next": safe_next(request)}
    return render(request, "core/two_factor_backup_codes.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: AuthedRequest) -> HttpResponse:
    """Ask for the second factor after the password."""
    form = TwoFactorTokenForm(post_data(request))
    if form.is_valid():
        if two_factor.two_factor_verify(request=request, token=form.cleaned_data["token"]):
            return redirect(safe_next(request))
        form.add_error("token", _("That code is not valid."))
    return render(request, "core/two_factor_verify.html", {"form": form})


@require_audit_reader
@require_GET
def audit_log(request: AuthedRequest) -> HttpResponse:
    """The audit log, newest first, filtered by action and text."""
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = audit_event_list_for_user(request.user, **filters)
    context = {
        "form": form,
        "page": paginate(request, events),
        "querystring": querystring_without_page(request),
    }
    return render_page(request, "core/audit_log.html", "core/partials/audit_rows.html", context)


@require_org_admin
@require_GET
def person_list(request: AuthedRequest) -> HttpResponse:
    """Everyone who can sign in, with their organisation-wide role and 2FA state."""
    people = user_list_for_user(request.user)
    return render(request, "core/person_list.html", {"page": paginate(request, people)})


@require_org_admin
@require_http_methods(["GET", "POST"])
def person_create(request: AuthedRequest) -> HttpResponse:
    form = PersonForm(post_data(request))
    if form.is_valid():
        person = services.user_create(actor=request.user, **form.cleaned_data)
        services.password_reset_send(request=request, user=person)
        messages.success(request, _("Person added. They have been sent a link to set a password."))
        return redirect_to(request, reverse("core:person_list"))
    return render(request, "core/person_form.html", {"form": form})


@require_org_admin
@require_http_methods(["GET", "POST"])
def person_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(user_list_for_user(request.user), pk=pk)
    form = PersonForm(post_data(request), instance=person)
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "username"}
        try:
            services.user_update(actor=request.user, user=person, request=request, **data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect_to(request, reverse("core:person_list"))
    return render(request, "core/person_form.html", {"form": form, "person": person})


@require_GET
def accessibility_statement(request: HttpRequest) -> HttpResponse:
    """The accessibility statement required by DOS-lagen (R39), open to everyone."""
    return render(request, "core/accessibility.html", {"contact": settings.DEFAULT_FROM_EMAIL})


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """A liveness probe for load balancers and `narvaro demo`."""
    User.objects.exists()
    return JsonResponse({"status": "ok"})
