"""Pages of moderation: the queues, moderating one item, the log, escalations (R15–R22).

Every view reaches its object through one scoped selector (404 for an unknown or hidden
object, 403 for one the person may see but not moderate), then calls one service.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.forms import Form
from django.http import FileResponse, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from narvaro.lib.forms import post_data
from narvaro.lib.htmx import redirect_to, render_page
from narvaro.lib.paging import paginate, querystring_without_page
from narvaro.lib.types import AuthedRequest
from narvaro.moderation import selectors, services
from narvaro.moderation.forms import EscalationCloseForm, ModerationForm, QueueFilterForm


def _refused(form: Form, exc: ValidationError) -> None:
    """Show a service's refusal on the form (by field where it names one)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@login_required
@require_GET
def overview(request: AuthedRequest) -> HttpResponse:
    """The accounts the person moderates, with what waits and the open supervision alerts."""
    accounts = list(selectors.account_list_for_moderation(request.user))
    alerts = selectors.alerts_for_accounts([a.pk for a in accounts])
    return render(
        request,
        "moderation/overview.html",
        {
            "accounts": accounts,
            "alerts": alerts,
            "escalations": selectors.can_manage_escalations(request.user),
        },
    )


@login_required
@require_GET
def queue(request: AuthedRequest, pk: int) -> HttpResponse:
    """An account's moderation queue, newest first, filtered and paginated."""
    account = selectors.get_account_for_moderation(request.user, pk)
    form = QueueFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = selectors.queue_for_account(
        account,
        kind=filters.get("kind", ""),
        author=filters.get("author", ""),
        q=filters.get("q", ""),
        include_reviewed=filters.get("show") == "all",
    )
    page = paginate(request, entries)
    flags = selectors.data_flags([entry.item_id for entry in page.object_list])
    for entry in page.object_list:
        entry.flags = flags.get(entry.item_id, [])  # type: ignore[attr-defined]
    context = {
        "account": account,
        "form": form,
        "page": page,
        "querystring": querystring_without_page(request),
        "can_moderate": selectors.can_moderate(request.user, account),
    }
    return render_page(
        request, "moderation/queue.html", "moderation/partials/queue_rows.html", context
    )


@login_required
@require_POST
def queue_review(request: AuthedRequest, pk: int) -> HttpResponse:
    """Mark the chosen items reviewed with no action (one or many)."""
    account = selectors.get_account_for_moderation(request.user, pk, write=True)
    ids = [int(value) for value in request.POST.getlist("item") if value.isdigit()]
    count = services.queue_review(actor=request.user, account=account, item_ids=ids)
    messages.success(request, _("%(count)s item(s) marked reviewed.") % {"count": count})
    return redirect_to(request, reverse("moderation:queue", args=[account.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def item_moderate(request: AuthedRequest, item_id: int) -> HttpResponse:
    """Moderate one item: its thread, its history, and the form (reason required)."""
    item = selectors.get_item_for_moderation(request.user, item_id, write=True)
    connection = services.live_connection(item.account)
    version = services.policy_in_force(item.account)
    suggested = selectors.suggested_reason(item)
    form = ModerationForm(
        post_data(request),
        live=connection is not None,
        initial={"notice_text": services.notice_template(item, version), "reason": suggested},
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            record = services.moderation_act(
                actor=request.user,
                item=item,
                action=data["action"],
                reason=data["reason"],
                reason_text=data["reason_text"],
                by_hand=data["by_hand"],
                block_until=data["block_until"],
                notice_text=data["notice_text"] if data.get("send_notice") else "",
                notice_visibility=data.get("notice_visibility") or "direct",
            )
        except ValidationError as exc:
            _refused(form, exc)
        else:
            return redirect_to(request, record.get_absolute_url())
    return render(
        request,
        "moderation/item_moderate.html",
        {**_item_context(item, form, connection is not None, version), "suggested": suggested},
    )


def _item_context(
    item: object, form: ModerationForm, live: bool, version: object
) -> dict[str, object]:
    from narvaro.archive.models import Item

    assert isinstance(item, Item)
    restricted = selectors.is_restricted(item)
    return {
        "item": item,
        "form": form,
        "live": live,
        "policy_version": version,
        "restricted": restricted,
        "thread": [] if restricted else selectors.thread_items(item),
        "history": list(selectors.actions_for_item(item)),
    }


@login_required
@require_GET
def action_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """One moderation decision: reason, policy version, rendering, platform outcome."""
    action = selectors.get_action_for_user(request.user, pk)
    escalation = getattr(action, "escalation", None)
    return render(
        request,
        "moderation/action_detail.html",
        {
            "action": action,
            "escalation": escalation,
            "sees_escalation": escalation is not None
            and selectors.sees_restricted(request.user, action.account.unit_id),
        },
    )


@login_required
@require_GET
def action_rendering(request: AuthedRequest, pk: int) -> FileResponse:
    """The stored rendering (PDF) of the item as it was before the action; logged."""
    action = selectors.get_action_for_user(request.user, pk)
    services.download_log(actor=request.user, target=action)
    return FileResponse(
        default_storage.open(action.rendering_name, "rb"),
        as_attachment=True,
        filename=f"moderation-{action.pk}-{action.rendering_sha256[:12]}.pdf",
        content_type="application/pdf",
    )


@login_required
@require_GET
def moderation_log(request: AuthedRequest, pk: int) -> HttpResponse:
    """Every moderation decision on the account, newest first (R16, R22)."""
    account = selectors.get_account_for_moderation(request.user, pk)
    page = paginate(request, selectors.moderation_log_for_account(account))
    return render(
        request,
        "moderation/log.html",
        {
            "account": account,
            "page": page,
            "sees_restricted": selectors.sees_restricted(request.user, account.unit_id),
        },
    )


@login_required
@require_GET
def escalation_list(request: AuthedRequest) -> HttpResponse:
    """The escalations of the units the person manages (every one for registrars)."""
    if not selectors.can_manage_escalations(request.user):
        raise PermissionDenied
    page = paginate(request, selectors.escalation_list_for_user(request.user))
    return render(request, "moderation/escalation_list.html", {"page": page})


@login_required
@require_GET
def escalation_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """An escalation: the police-report text, the evidence bundle and how it ended."""
    task = selectors.get_escalation_for_user(request.user, pk)
    return render(
        request,
        "moderation/escalation_detail.html",
        {"task": task, "assignees": list(task.assignees.all()), "form": EscalationCloseForm()},
    )


@login_required
@require_GET
def escalation_bundle(request: AuthedRequest, pk: int) -> FileResponse:
    """The evidence bundle (zip with a SHA-256 manifest); logged."""
    task = selectors.get_escalation_for_user(request.user, pk)
    services.download_log(actor=request.user, target=task)
    return FileResponse(
        default_storage.open(task.bundle_name, "rb"),
        as_attachment=True,
        filename=f"evidence-{task.pk}-{task.bundle_sha256[:12]}.zip",
        content_type="application/zip",
    )


@login_required
@require_POST
def escalation_close(request: AuthedRequest, pk: int) -> HttpResponse:
    """Close an escalation: reported to the police (with their reference) or not."""
    task = selectors.get_escalation_for_user(request.user, pk)
    form = EscalationCloseForm(request.POST)
    if form.is_valid():
        try:
            services.escalation_close(actor=request.user, task=task, **form.cleaned_data)
        except ValidationError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("The escalation is closed."))
            return redirect_to(request, task.get_absolute_url())
    context = {"task": task, "assignees": list(task.assignees.all()), "form": form}
    return render(request, "moderation/escalation_detail.html", context, status=400)
