"""Pages for requests for public records: the list, logging, compiling, deciding, delivering.

Only registrars and admins reach these pages (`selectors.handles_requests`); every view of a
request's records and every download is logged (R37).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from narvaro.archive.forms import RecordFilterForm
from narvaro.core.audit_summaries import (
    REQUEST_ARCHIVE_SEARCHED,
    REQUEST_RECORD_REVIEWED,
    REQUEST_VIEWED,
)
from narvaro.disclosure import selectors, services
from narvaro.disclosure.forms import (
    DecisionForm,
    DeliveryForm,
    HandlerForm,
    RedactionAddForm,
    RedactionReviewForm,
    RequestForm,
)
from narvaro.disclosure.models import Delivery, DeliveryFile, RecordsRequest
from narvaro.lib.forms import post_data
from narvaro.lib.htmx import redirect_to, render_page
from narvaro.lib.paging import paginate, querystring_without_page
from narvaro.lib.types import AuthedRequest


def _show_errors(request: AuthedRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _deliveries_context(records_request: RecordsRequest) -> dict[str, Any]:
    deliveries = selectors.request_deliveries(records_request)
    return {
        "deliveries": deliveries,
        "state": selectors.deliveries_state(deliveries),
        "pending": any(d.status in Delivery.PENDING for d in deliveries),
    }


@login_required
@require_GET
def request_list(request: AuthedRequest) -> HttpResponse:
    """Open requests by urgency (never first come, first served), then the latest closed."""
    context = {
        "open_requests": selectors.request_list_for_user(request.user),
        "closed_page": paginate(
            request, selectors.request_list_for_user(request.user, status="closed"), 25
        ),
        "querystring": querystring_without_page(request),
    }
    return render(request, "disclosure/request_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def request_create(request: AuthedRequest) -> HttpResponse:
    selectors.request_list_for_user(request.user)  # 403 for anyone who does not handle requests
    form = RequestForm(post_data(request), initial={"handler": request.user})
    if form.is_valid():
        try:
            created = services.request_create(
                actor=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Request logged. The clock runs from its receipt."))
            return redirect_to(request, reverse("disclosure:request_compile", args=[created.pk]))
    return render(request, "disclosure/request_form.html", {"form": form})


@login_required
@require_GET
def request_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """A request: its clock, its records and their decisions, and its deliveries (logged)."""
    records_request = selectors.get_request_for_user(request.user, pk)
    services.request_view_log(
        actor=request.user, records_request=records_request, message=REQUEST_VIEWED, request=request
    )
    context = {
        **_deliveries_context(records_request),
        "records_request": records_request,
        "figures": selectors.request_figures(records_request),
        "request_items": selectors.request_items(records_request),
        "delivery_form": DeliveryForm(initial={"language": request.LANGUAGE_CODE}),
        "handler_form": HandlerForm(initial={"handler": records_request.handler_id}),
        "many_people": selectors.MANY_PEOPLE,
    }
    return render(request, "disclosure/request_detail.html", context)


@login_required
@require_GET
def request_compile(request: AuthedRequest, pk: int) -> HttpResponse:
    """Search the archive with the register's filters and add what matches (R24)."""
    records_request = selectors.get_request_for_user(request.user, pk)
    form = RecordFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    candidates = selectors.compile_candidates(request.user, records_request, **filters)
    if filters:
        services.request_view_log(
            actor=request.user, records_request=records_request, message=REQUEST_ARCHIVE_SEARCHED,
            request=request,
        )  # fmt: skip
    context = {
        "records_request": records_request,
        "form": form,
        "searched": bool(request.GET),
        "page": paginate(request, candidates),
        "querystring": querystring_without_page(request),
    }
    return render_page(
        request, "disclosure/request_compile.html", "disclosure/partials/candidates.html", context
    )


@login_required
@require_POST
def request_compile_add(request: AuthedRequest, pk: int) -> HttpResponse:
    """Add every record the search finds (or the one record named by `item`)."""
    records_request = selectors.get_request_for_user(request.user, pk)
    form = RecordFilterForm(request.POST, user=request.user)
    items = selectors.compile_candidates(request.user, records_request, **form.filters())
    item = request.POST.get("item", "")
    if item:
        if not item.isdigit():
            raise Http404
        items = items.filter(pk=int(item))
    querystring = request.POST.get("querystring", "")  # the search shown; its words count (R26)
    try:
        added = services.request_items_add(
            actor=request.user, records_request=records_request, items=items, request=request,
            search=QueryDict(querystring).get("q", ""),
        )  # fmt: skip
    except ValidationError as exc:
        _show_errors(request, exc)
    else:
        message = ngettext("%(count)s record added.", "%(count)s records added.", added)
        messages.success(request, message % {"count": added})
    url = reverse("disclosure:request_compile", args=[pk])
    return redirect_to(request, url + "?" + querystring)


@login_required
@require_GET
def request_item_detail(request: AuthedRequest, pk: int, item_pk: int) -> HttpResponse:
    """One record of a request: its versions with the passages to mask, and the decision."""
    request_item = selectors.get_request_item_for_user(request.user, pk, item_pk)
    review = selectors.request_item_review(request.user, request_item)
    services.request_view_log(
        actor=request.user, records_request=request_item.request,
        message=REQUEST_RECORD_REVIEWED, item=item_pk, request=request,
    )  # fmt: skip
    context = {
        "records_request": request_item.request,
        "request_item": request_item,
        "review": review,
        "sensitive": selectors.request_item_sensitive_labels(request_item),
        "decision_form": DecisionForm(
            initial={"decision": request_item.decision, "legal_ground": request_item.legal_ground}
        ),
        "review_form": RedactionReviewForm(),
        "add_form": RedactionAddForm(item=_with_attachments(review.item)),
    }
    return render(request, "disclosure/request_item.html", context)


@login_required
@require_POST
def request_item_decide(request: AuthedRequest, pk: int, item_pk: int) -> HttpResponse:
    request_item = selectors.get_request_item_for_user(request.user, pk, item_pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        _show_errors(request, ValidationError(_("Choose one of the decisions offered.")))
    else:
        try:
            services.request_item_decide(
                actor=request.user, request_item=request_item, request=request,
                decision=form.cleaned_data["decision"], legal_ground=form.ground(),
            )  # fmt: skip
        except ValidationError as exc:
            _show_errors(request, exc)
        else:
            messages.success(request, _("Decision saved."))
    return redirect_to(request, reverse("disclosure:request_item", args=[pk, item_pk]))


@login_required
@require_POST
def request_item_remove(request: AuthedRequest, pk: int, item_pk: int) -> HttpResponse:
    request_item = selectors.get_request_item_for_user(request.user, pk, item_pk)
    try:
        services.request_item_remove(actor=request.user, request_item=request_item, request=request)
    except ValidationError as exc:
        _show_errors(request, exc)
        return redirect_to(request, reverse("disclosure:request_item", args=[pk, item_pk]))
    messages.success(request, _("Record taken out of the request."))
    return redirect_to(request, reverse("disclosure:request_detail", args=[pk]))


@login_required
@require_POST
def redaction_review(
    request: AuthedRequest, pk: int, redaction_pk: int, accept: bool
) -> HttpResponse:
    redaction = selectors.get_redaction_for_user(request.user, pk, redaction_pk)
    form = RedactionReviewForm(request.POST)
    try:
        form.is_valid()
        services.redaction_review(
            actor=request.user, redaction=redaction, accept=accept, legal_ground=form.ground(),
            request=request,
        )  # fmt: skip
    except ValidationError as exc:
        _show_errors(request, exc)
    item_pk = redaction.request_item.item_id
    return redirect_to(request, reverse("disclosure:request_item", args=[pk, item_pk]))


def _with_attachments(item: Any) -> Any:
    """`item` with its versions and their attachments loaded (the add form lists them)."""
    from django.db.models import prefetch_related_objects

    prefetch_related_objects([item], "versions__attachments")
    return item


@login_required
@require_POST
def redaction_add(request: AuthedRequest, pk: int, item_pk: int) -> HttpResponse:
    request_item = selectors.get_request_item_for_user(request.user, pk, item_pk)
    form = RedactionAddForm(request.POST, item=_with_attachments(request_item.item))
    try:
        if not form.is_valid():
            raise ValidationError(
                [
                    f"{form.fields[name].label}: {' '.join(map(str, errors))}"
                    for name, errors in form.errors.items()
                    if name in form.fields
                ]
            )
        field, version, position = form.target_value()
        made = services.redaction_add(
            actor=request.user, request_item=request_item, request=request,
            field=field, version=version, position=position, text=form.cleaned_data["text"],
            legal_ground=form.ground(),
        )  # fmt: skip
    except ValidationError as exc:
        _show_errors(request, exc)
    else:
        messages.success(
            request,
            ngettext("%(count)s passage masked.", "%(count)s passages masked.", len(made))
            % {"count": len(made)},
        )
    return redirect_to(request, reverse("disclosure:request_item", args=[pk, item_pk]))


@login_required
@require_POST
def delivery_create(request: AuthedRequest, pk: int) -> HttpResponse:
    """Release every decided record not yet delivered, as the next stage."""
    records_request = selectors.get_request_for_user(request.user, pk)
    form = DeliveryForm(request.POST)
    language = form.cleaned_data["language"] if form.is_valid() else request.LANGUAGE_CODE
    try:
        delivery = services.delivery_create(
            actor=request.user, records_request=records_request, language=language, request=request
        )
    except ValidationError as exc:
        _show_errors(request, exc)
    else:
        messages.success(
            request,
            _("Delivery %(number)s is being made: its files appear below when ready.")
            % {"number": delivery.number},
        )
    return redirect_to(request, records_request.get_absolute_url())


@login_required
@require_POST
def delivery_retry(request: AuthedRequest, pk: int, number: int) -> HttpResponse:
    """Queue a failed delivery again."""
    delivery = selectors.get_delivery_for_user(request.user, pk, number)
    try:
        services.delivery_retry(actor=request.user, delivery=delivery, request=request)
    except ValidationError as exc:
        _show_errors(request, exc)
    else:
        messages.success(
            request, _("Delivery %(number)s is being made again.") % {"number": delivery.number}
        )
    return redirect_to(request, delivery.request.get_absolute_url())


@login_required
@require_GET
def delivery_status(request: AuthedRequest, pk: int) -> HttpResponse:
    """The deliveries of a request, polled by its page while one is being made.

    Shows no record content (only each stage's status and its files), so it is not logged.
    Answers 204 (nothing to swap) while nothing changed since `seen`.
    """
    records_request = selectors.get_request_for_user(request.user, pk)
    context = _deliveries_context(records_request)
    if request.GET.get("seen") == context["state"]:
        return HttpResponse(status=204)
    context["records_request"] = records_request
    return render(request, "disclosure/partials/deliveries.html", context)


@login_required
@require_POST
def request_reassign(request: AuthedRequest, pk: int) -> HttpResponse:
    records_request = selectors.get_request_for_user(request.user, pk)
    form = HandlerForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Choose a registrar or admin."))
        services.request_reassign(
            actor=request.user, records_request=records_request, request=request,
            handler=form.cleaned_data["handler"],
        )  # fmt: skip
    except ValidationError as exc:
        _show_errors(request, exc)
    else:
        messages.success(request, _("Request handed over."))
    return redirect_to(request, records_request.get_absolute_url())


@login_required
@require_POST
def request_close(request: AuthedRequest, pk: int) -> HttpResponse:
    records_request = selectors.get_request_for_user(request.user, pk)
    try:
        services.request_close(actor=request.user, records_request=records_request, request=request)
    except ValidationError as exc:
        _show_errors(request, exc)
    else:
        messages.success(request, _("Request closed."))
    return redirect_to(request, records_request.get_absolute_url())


@login_required
@require_GET
def delivery_file(request: AuthedRequest, pk: int, number: int, kind: str) -> FileResponse:
    """A delivered file, exactly as made (logged as an export, R37)."""
    if kind not in DeliveryFile.Kind.values:
        raise Http404
    stored = selectors.get_delivery_file_for_user(request.user, pk, number, kind)
    services.delivery_file_open_log(actor=request.user, delivery_file=stored, request=request)
    response = FileResponse(
        default_storage.open(stored.storage_name, "rb"),
        content_type=stored.content_type,
        as_attachment=True,
        filename=stored.filename,
    )
    response["Cache-Control"] = "private, no-store"
    return response
