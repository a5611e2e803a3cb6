"""The channel register (accounts) and comment policies."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from narvaro.channels import services
from narvaro.channels.forms import (
    AccountFilterForm,
    AccountForm,
    CommentPolicyForm,
    CommentPolicyVersionForm,
    PublishVersionForm,
)
from narvaro.channels.lifecycle import TRANSITIONS, activation_problems, allowed_targets
from narvaro.channels.models import Account
from narvaro.channels.selectors import (
    account_list_for_user,
    account_policy_history,
    account_register_for_user,
    can_manage_account,
    can_manage_policy,
    get_account_for_user,
    get_policy_for_user,
    get_policy_version_for_user,
    policy_list_for_user,
    policy_versions,
)
from narvaro.core.selectors import audit_events_for_object
from narvaro.lib.forms import post_data
from narvaro.lib.htmx import redirect_to, render_page
from narvaro.lib.paging import paginate, querystring_without_page
from narvaro.lib.types import AuthedRequest
from narvaro.organisation.roles import Capability
from narvaro.organisation.selectors import unit_access


@login_required
@require_GET
def account_list(request: AuthedRequest) -> HttpResponse:
    """The channel register, filtered by unit, platform, state and kind."""
    form = AccountFilterForm(request.GET or None, user=request.user)
    accounts = account_list_for_user(request.user, **form.filters())
    managed = unit_access(request.user).unit_ids(Capability.MANAGE)
    context = {
        "form": form,
        "page": paginate(request, accounts),
        "querystring": querystring_without_page(request),
        "can_create": managed is None or bool(managed),
    }
    return render_page(
        request, "channels/account_list.html", "channels/partials/account_rows.html", context
    )


@login_required
@require_GET
def account_export(request: AuthedRequest, fmt: str) -> HttpResponse:
    """Download the channel register (R1) as CSV or JSON, with the list's filters applied."""
    if fmt not in {"csv", "json"}:
        raise Http404
    form = AccountFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    accounts = account_register_for_user(request.user, **filters)
    content, content_type = services.account_register_export(
        actor=request.user, accounts=accounts, fmt=fmt, filters=filters
    )
    response = HttpResponse(content, content_type=content_type)
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="channel-register-{stamp}.{fmt}"'
    return response


@login_required
@require_GET
def account_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_account_for_user(request.user, pk)
    can_manage = can_manage_account(request.user, account)
    context = {
        "account": account,
        "can_manage": can_manage,
        "transitions": [
            (to, TRANSITIONS[(account.state, to)]) for to in allowed_targets(account.state)
        ]
        if can_manage
        else [],
        "problems": activation_problems(account) if account.state == Account.State.PROPOSED else {},
        "policy_history": account_policy_history(account),
        "history": audit_events_for_object("channels.account", account.pk)[:30],
    }
    return render(request, "channels/account_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def account_create(request: AuthedRequest) -> HttpResponse:
    managed = unit_access(request.user).unit_ids(Capability.MANAGE)
    if managed is not None and not managed:
        raise PermissionDenied
    form = AccountForm(
        post_data(request), user=request.user, initial={"unit": request.GET.get("unit")}
    )
    if form.is_valid():
        try:
            account = services.account_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Account proposed. Fill in every field to activate it."))
            return redirect_to(request, account.get_absolute_url())
    return render(request, "channels/account_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def account_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    account = get_account_for_user(request.user, pk, write=True)
    form = AccountForm(post_data(request), instance=account, user=request.user)
    if form.is_valid():
        try:
            services.account_update(actor=request.user, account=account, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect_to(request, account.get_absolute_url())
    return render(request, "channels/account_form.html", {"form": form, "account": account})


@login_required
@require_POST
def account_transition(request: AuthedRequest, pk: int, state: str) -> HttpResponse:
    """Move an account to `state`; refusals are shown with what is missing."""
    account = get_account_for_user(request.user, pk, write=True)
    if state not in Account.State.values:
        raise Http404
    try:
        services.account_transition(actor=request.user, account=account, to_state=state)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("The account is now %(state)s.") % {"state": Account.State(state).label.lower()},
        )
    return redirect_to(request, account.get_absolute_url())


@login_required
@require_GET
def policy_list(request: AuthedRequest) -> HttpResponse:
    context = {
        "policies": policy_list_for_user(request.user),
        "can_create": request.user.is_org_admin
        or bool(unit_access(request.user).unit_ids(Capability.MANAGE)),
    }
    return render(request, "channels/policy_list.html", context)


@login_required
@require_GET
def policy_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    policy = get_policy_for_user(request.user, pk)
    context = {
        "policy": policy,
        "versions": policy_versions(policy),
        "can_manage": can_manage_policy(request.user, policy),
    }
    return render(request, "channels/policy_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def policy_create(request: AuthedRequest) -> HttpResponse:
    if not (request.user.is_org_admin or unit_access(request.user).unit_ids(Capability.MANAGE)):
        raise PermissionDenied
    form = CommentPolicyForm(post_data(request), user=request.user)
    if form.is_valid():
        policy = services.policy_create(actor=request.user, **form.cleaned_data)
        messages.success(request, _("Comment policy created. Publish it before accounts use it."))
        return redirect_to(request, policy.get_absolute_url())
    return render(request, "channels/policy_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def policy_version_create(request: AuthedRequest, pk: int) -> HttpResponse:
    policy = get_policy_for_user(request.user, pk, write=True)
    latest = policy_versions(policy).first()
    form = CommentPolicyVersionForm(
        post_data(request), initial={"text": latest.text if latest else ""}
    )
    if form.is_valid():
        services.policy_version_add(actor=request.user, policy=policy, **form.cleaned_data)
        messages.success(request, _("New version saved. It is not published yet."))
        return redirect_to(request, policy.get_absolute_url())
    return render(request, "channels/policy_form.html", {"form": form, "policy": policy})


@login_required
@require_http_methods(["GET", "POST"])
def policy_version_publish(request: AuthedRequest, pk: int, number: int) -> HttpResponse:
    version = get_policy_version_for_user(request.user, pk, number, write=True)
    form = PublishVersionForm(post_data(request))
    if form.is_valid():
        try:
            services.policy_version_publish(
                actor=request.user, version=version, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Version %(number)s is published.") % {"number": number})
            return redirect_to(request, reverse("channels:policy_detail", args=[pk]))
    return render(request, "channels/policy_publish.html", {"form": form, "version": version})


@login_required
@require_GET
def policy_version_detail(request: AuthedRequest, pk: int, number: int) -> HttpResponse:
    version = get_policy_version_for_user(request.user, pk, number)
    return render(request, "channels/policy_version.html", {"version": version})


# -- capture health, reconnect and completeness (live connections) -----------------------------


def _period(request: AuthedRequest) -> tuple[Any, Any, Any]:
    from narvaro.channels.forms_capture import PeriodForm

    form = PeriodForm(request.GET or None)
    start, end = form.period()
    return form, start, end


@login_required
@require_GET
def account_capture(request: AuthedRequest, pk: int) -> HttpResponse:
    """Capture health: last harvest, lag, gap windows, recent platform actions."""
    from narvaro.channels.capture_health import capture_health

    account = get_account_for_user(request.user, pk)
    context = {
        "account": account,
        "can_manage": can_manage_account(request.user, account),
        **capture_health(account),
    }
    return render(request, "channels/account_capture.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def account_reconnect(request: AuthedRequest, pk: int) -> HttpResponse:
    """Replace the platform token; every record and the harvest cursor are kept."""
    from narvaro.channels.connectors.base import ConnectorError
    from narvaro.channels.forms_capture import MastodonSignInForm, ReconnectForm
    from narvaro.channels.harvest import build_connector, connection_save
    from narvaro.channels.models import Connection

    account = get_account_for_user(request.user, pk, write=True)
    connection = Connection.objects.filter(account=account).first()
    form = ReconnectForm(
        post_data(request),
        platform=account.platform,
        initial={"url": connection.base_url if connection else ""},
    )
    sign_in = (
        MastodonSignInForm(initial={"instance": connection.base_url if connection else ""})
        if account.platform == "mastodon"
        else None
    )
    if form.is_valid():
        credentials = form.credentials()
        connector = build_connector(
            platform=account.platform,
            base_url=form.cleaned_data["url"],
            credentials=credentials,
            handle=account.handle,
        )
        try:
            profile = connector.verify()
        except (ConnectorError, KeyError) as exc:
            form.add_error(None, _("The platform refused these credentials: %s") % exc)
        else:
            if profile.handle != account.handle:
                form.add_error(
                    None,
                    _("These credentials belong to %(other)s, not to %(handle)s.")
                    % {"other": profile.handle, "handle": account.handle},
                )
            else:
                connection_save(
                    actor=request.user,
                    account=account,
                    base_url=form.cleaned_data["url"],
                    credentials=credentials,
                    profile=profile,
                )
                messages.success(
                    request, _("Reconnected. The next harvest back-fills what was missed.")
                )
                return redirect_to(request, reverse("channels:account_capture", args=[pk]))
    return render(
        request,
        "channels/account_reconnect.html",
        {"account": account, "form": form, "connection": connection, "sign_in": sign_in},
    )


@login_required
@require_POST
def account_oauth_start(request: AuthedRequest, pk: int) -> HttpResponse:
    """Sign in on the account's Mastodon instance: register there once, then go there."""
    from django.shortcuts import redirect

    from narvaro.channels.connectors.base import ConnectorError
    from narvaro.channels.forms_capture import MastodonSignInForm, ReconnectForm
    from narvaro.channels.models import Connection
    from narvaro.channels.oauth import oauth_begin

    account = get_account_for_user(request.user, pk, write=True)
    if account.platform != "mastodon":
        raise Http404
    sign_in = MastodonSignInForm(request.POST)
    if sign_in.is_valid():
        try:
            address = oauth_begin(
                actor=request.user,
                session=request.session,
                account=account,
                base_url=sign_in.cleaned_data["instance"],
                redirect_uri=request.build_absolute_uri(reverse("channels:oauth_callback")),
            )
        except ConnectorError as exc:
            sign_in.add_error(
                "instance", _("Narvaro could not register with this instance: %s") % exc
            )
        else:
            return redirect(address)
    connection = Connection.objects.filter(account=account).first()
    form = ReconnectForm(
        platform=account.platform, initial={"url": connection.base_url if connection else ""}
    )
    return render(
        request,
        "channels/account_reconnect.html",
        {"account": account, "form": form, "connection": connection, "sign_in": sign_in},
        status=400,
    )


@login_required
@require_GET
def oauth_callback(request: AuthedRequest) -> HttpResponse:
    """Where the instance sends the browser back: check the state, store the token."""
    from django.shortcuts import redirect

    from narvaro.channels.connectors.base import ConnectorError
    from narvaro.channels.oauth import oauth_complete, oauth_state_take

    state = request.GET.get("state", "")
    sign_in = oauth_state_take(request.session, state) if state else None
    if sign_in is None:
        messages.error(
            request,
            _(
                "This sign-in is unknown, was already used or took longer than ten minutes. "
                "Nothing was stored; start again from the account."
            ),
        )
        return redirect("channels:account_list")
    account = get_account_for_user(request.user, sign_in.account_id, write=True)
    reconnect = reverse("channels:account_reconnect", args=[account.pk])
    code = request.GET.get("code", "")
    if not code:
        messages.error(
            request,
            _("The instance did not grant access (%(reason)s). Nothing was stored.")
            % {"reason": request.GET.get("error_description") or request.GET.get("error") or "-"},
        )
        return redirect(reconnect)
    try:
        oauth_complete(actor=request.user, account=account, sign_in=sign_in, code=code)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(reconnect)
    except ConnectorError as exc:
        messages.error(request, _("The instance refused the sign-in: %s") % exc)
        return redirect(reconnect)
    messages.success(
        request, _("Connected. The token is stored encrypted; the next harvest runs shortly.")
    )
    return redirect("channels:account_capture", pk=account.pk)


@login_required
@require_GET
def account_completeness(request: AuthedRequest, pk: int) -> HttpResponse:
    """The completeness report for one account and period (page)."""
    from narvaro.channels.capture_health import completeness_report
    from narvaro.core.models import AuditEvent
    from narvaro.core.services import audit_record

    account = get_account_for_user(request.user, pk)
    form, start, end = _period(request)
    report = completeness_report(account, start, end)
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        target=account,
        unit_id=account.unit_id,
        summary="completeness report viewed",
        changes={"period": [None, f"{start.date()}..{end.date()}"]},
        request=request,
    )
    return render(
        request,
        "channels/account_completeness.html",
        {"account": account, "form": form, "report": report, "query": request.GET.urlencode()},
    )


@login_required
@require_GET
def account_completeness_csv(request: AuthedRequest, pk: int) -> HttpResponse:
    """The completeness report as CSV, logged as an export."""
    from narvaro.channels.capture_health import completeness_csv, completeness_report
    from narvaro.core.models import AuditEvent
    from narvaro.core.services import audit_record

    account = get_account_for_user(request.user, pk)
    _form, start, end = _period(request)
    report = completeness_report(account, start, end)
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        target=account,
        unit_id=account.unit_id,
        summary="completeness report exported",
        changes={
            "period": [None, f"{start.date()}..{end.date()}"],
            "gaps": [None, len(report.rows)],
        },
        request=request,
    )
    response = HttpResponse(completeness_csv(report), content_type="text/csv; charset=utf-8")
    name = f"completeness-{account.platform}-{start.date()}-{end.date()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
