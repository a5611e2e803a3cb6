"""Pages of the inbox. Every view reaches conversations through the scoped selectors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from narvaro.core.audit_summaries import CONVERSATION_VIEWED, ROUTING_RULE_SAVED, audit_summary
from narvaro.core.models import AuditEvent
from narvaro.core.permissions import require_org_admin
from narvaro.core.services import audit_record
from narvaro.inbox import selectors, services
from narvaro.inbox.forms import (
    VIEW_LABELS,
    AssignForm,
    BulkForm,
    CategoryForm,
    FilterForm,
    MoveForm,
    NoteForm,
    PeriodForm,
    RegisterForm,
    ReplyForm,
    RoutingRuleForm,
    SavedReplyForm,
    StatusForm,
)
from narvaro.inbox.models import Conversation, RoutingRule, SavedReply
from narvaro.lib.forms import post_data
from narvaro.lib.htmx import redirect_to
from narvaro.lib.paging import paginate, paginate_capped
from narvaro.lib.types import AuthedRequest
from narvaro.organisation.roles import Capability
from narvaro.organisation.selectors import unit_access, unit_list_for_user

PAGE_SIZE = 50


def _filters(request: AuthedRequest) -> tuple[FilterForm, selectors.InboxFilters]:
    form = FilterForm(request.GET or None, units=selectors.units_for_inbox(request.user))
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = selectors.InboxFilters(
        view=data.get("view") or "active",
        unit=data.get("unit"),
        category=data.get("category") or "",
        author=(data.get("author") or "").strip(),
        assignee_id=data["assignee"].pk if data.get("assignee") else None,
    )
    return form, filters


# Parameters of one page view or poll, not of the list itself: links and tabs drop them.
_NOT_THE_LIST = ("page", "since", "shown", "updated")


def _querystring(request: AuthedRequest) -> str:
    return urlencode([(k, str(v)) for k, v in request.GET.items() if k not in _NOT_THE_LIST])


@login_required
@require_GET
def inbox(request: AuthedRequest) -> HttpResponse:
    """The inbox list: conversations of the person's units, filtered, newest message first."""
    form, filters = _filters(request)
    conversations = selectors.conversation_list_for_user(request.user, filters)
    # A long history is paged, not counted: past the cap the list asks for a narrower filter.
    page = paginate_capped(request, conversations.values_list("pk", flat=True), PAGE_SIZE)
    rows = selectors.conversation_rows(
        selectors.conversations_in_order(list(page.object_list)), request.user
    )
    counts = selectors.inbox_counts_for_user(request.user)
    respond_ids = unit_access(request.user).unit_ids(Capability.RESPOND)
    querystring = _querystring(request)
    tabs = []
    for view in ("active", "mine", "unassigned", "overdue", "waiting", "done", "all"):
        params = {
            k: str(v) for k, v in request.GET.items() if k != "view" and k not in _NOT_THE_LIST
        }
        params["view"] = view
        tabs.append(
            {
                "view": view,
                "label": VIEW_LABELS[view],
                "url": "?" + urlencode(params),
                "count": counts.get(view),
                "current": view == filters.view,
            }
        )
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "tabs": tabs,
        "filters": filters,
        "querystring": querystring,
        "loaded_at": timezone.now().isoformat(),
        # Refreshed in place after "show" (the new-messages poll): the live region says so.
        "updated": request.GET.get("updated") == "1",
        "bulk_form": BulkForm(ids=[], auto_id="bulk_%s", **_bulk_choices(request.user)),
        "can_act_any": respond_ids is None or bool(respond_ids),
    }
    return render(request, "inbox/inbox.html", context)


@login_required
@require_GET
def inbox_news(request: AuthedRequest) -> HttpResponse:
    """How many conversations got a new message since the list was loaded (polled by htmx)."""
    _form, filters = _filters(request)
    since = parse_datetime(request.GET.get("since", "")) or timezone.now()
    count = selectors.newer_than(request.user, filters, since)
    if request.GET.get("shown") == str(count):
        # Nothing new since the last poll: no swap, so the live region says nothing again.
        return HttpResponse(status=204)
    params = [(k, str(v)) for k, v in request.GET.items() if k != "shown"]
    params.append(("shown", str(count)))
    querystring = _querystring(request)
    list_url = reverse("inbox:inbox") + (f"?{querystring}" if querystring else "")
    return render(
        request,
        "inbox/partials/news.html",
        {
            "count": count,
            "reload_url": "?" + querystring,
            "list_url": list_url,
            # The same list, first page, refreshed in place by htmx.
            "show_url": list_url + ("&" if querystring else "?") + "updated=1",
            "poll_url": reverse("inbox:inbox_news") + "?" + urlencode(params),
        },
    )


def _bulk_choices(user: Any) -> dict[str, Any]:
    """The people who can answer in the reader's units, and the units the reader can reach."""
    people = selectors.responders_in(unit_list_for_user(user, Capability.RESPOND))
    return {"people": people, "units": unit_list_for_user(user)}


@login_required
@require_POST
def inbox_bulk(request: AuthedRequest) -> HttpResponse:
    """One action for the chosen conversations; each must be one the person may answer."""
    ids = [int(v) for v in request.POST.getlist("conversations") if v.isdigit()]
    conversations = [selectors.get_conversation_for_user(request.user, i, act=True) for i in ids]
    form = BulkForm(request.POST, ids=ids, **_bulk_choices(request.user))
    back = reverse("inbox:inbox") + "?" + request.POST.get("querystring", "")
    if not ids:
        messages.error(request, _("Choose at least one conversation."))
        return redirect_to(request, back)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect_to(request, back)
    unit = form.cleaned_data.get("unit")
    if unit is not None and not unit_access(request.user).allows(unit.pk, Capability.VIEW):
        raise Http404
    try:
        done = services.conversations_bulk(
            actor=request.user,
            conversations=conversations,
            action=form.cleaned_data["action"],
            assignee=form.cleaned_data.get("assignee"),
            unit=unit,
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect_to(request, back)
    messages.success(request, _("%(count)d conversations changed.") % {"count": done})
    return redirect_to(request, back)


def _detail_context(
    request: AuthedRequest, conversation: Conversation, **forms: Form
) -> dict[str, object]:
    user = request.user
    timeline = selectors.conversation_timeline(conversation, user)
    can_act = selectors.can_act(user, conversation)
    people = selectors.responders_of_unit(conversation.unit) if can_act else []
    context: dict[str, object] = {
        "conversation": conversation,
        "timeline": timeline,
        "can_act": can_act,
        "can_reply": can_act and services.can_reply_from_narvaro(conversation),
        "restricted_hidden": conversation.restricted
        and not selectors.sees_restricted(user, conversation),
        "saved_replies": selectors.saved_replies_for(conversation) if can_act else [],
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "assign_form": forms.get("assign_form")
        or AssignForm(people=people, initial={"assignee": conversation.assignee_id}),
        "move_form": forms.get("move_form") or MoveForm(initial={"unit": conversation.unit_id}),
        "status_form": forms.get("status_form")
        or StatusForm(initial={"status": conversation.status}),
        "category_form": forms.get("category_form")
        or CategoryForm(initial={"category": conversation.category}),
        "note_form": forms.get("note_form") or NoteForm(prefix="note"),
        "register_form": forms.get("register_form") or RegisterForm(),
        "can_moderate": unit_access(user).allows(conversation.account.unit_id, Capability.MODERATE),
    }
    if can_act:
        move_form = context["move_form"]
        assert isinstance(move_form, MoveForm)
        move_form.fields["unit"].queryset = unit_list_for_user(user)  # type: ignore[attr-defined]
    return context


def _log_view(request: AuthedRequest, conversation: Conversation) -> None:
    """Opening a conversation shows archived records: logged like the record view (R37)."""
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        target=conversation,
        unit_id=conversation.unit_id,
        summary=audit_summary(CONVERSATION_VIEWED),
        request=request,
    )


@login_required
@require_GET
def conversation_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, pk)
    _log_view(request, conversation)
    context = _detail_context(request, conversation)
    context["neighbours"] = _neighbours(request, conversation)
    return render(request, "inbox/conversation.html", context)


@login_required
@require_GET
def conversation_updates(request: AuthedRequest, pk: int) -> HttpResponse:
    """What changed in a conversation since the page was drawn (polled by htmx with its stamp).

    Nothing changed answers 204 (no swap, nothing announced). Otherwise the facts, the messages
    and the history are sent again, swapped in place, and the live region says what came: the
    forms on the page, and what is typed in them, are not touched.
    """
    # Moved out of the person's units, it is not found (404) like any other conversation they
    # cannot see; the page then says so and stops polling (app.js, data-gone-text).
    conversation = selectors.get_conversation_for_user(request.user, pk)
    shown = selectors.Stamp.decode(request.GET.get("stamp", ""))
    now = selectors.conversation_stamp(conversation)
    if shown == now:
        return HttpResponse(status=204)
    new_messages = max(0, now.messages - shown.messages) if shown else 0
    changes = 0
    if shown:
        events = max(0, now.events - shown.events)
        changes = (
            events
            + max(0, now.item_events - shown.item_events)
            # an edit is a new version; a new message brings its first one
            + max(0, now.versions - shown.versions - new_messages)
            # facts changed without an event of their own (the harvest, the classifier);
            # an assignment or a status change is its event already
            + (now.facts != shown.facts and not events and not new_messages)
        )
    _log_view(request, conversation)  # the archived messages are shown again
    return render(
        request,
        "inbox/partials/conversation_updates.html",
        {
            "conversation": conversation,
            "timeline": selectors.conversation_timeline(conversation, request.user),
            "new_messages": new_messages,
            "new_events": changes,
            "can_moderate": unit_access(request.user).allows(
                conversation.account.unit_id, Capability.MODERATE
            ),
        },
    )


def _neighbours(request: AuthedRequest, conversation: Conversation) -> dict[str, str]:
    """The previous and next conversation in the list the person came from (j / k)."""
    _form, filters = _filters(request)
    ids = list(
        selectors.conversation_list_for_user(request.user, filters).values_list("pk", flat=True)[
            :500
        ]
    )
    querystring = _querystring(request)
    suffix = f"?{querystring}" if querystring else ""
    found: dict[str, str] = {"list": reverse("inbox:inbox") + suffix}
    if conversation.pk in ids:
        at = ids.index(conversation.pk)
        if at > 0:
            found["previous"] = reverse("inbox:conversation_detail", args=[ids[at - 1]]) + suffix
        if at + 1 < len(ids):
            found["next"] = reverse("inbox:conversation_detail", args=[ids[at + 1]]) + suffix
    return found


@login_required
@require_GET
def conversation_suggestions(request: AuthedRequest, pk: int) -> HttpResponse:
    """Suggested answers for the sender's latest question (loaded after the page, by htmx)."""
    conversation = selectors.get_conversation_for_user(request.user, pk, act=True)
    suggestions = [
        {
            "suggestion": suggestion,
            "text": services.saved_reply_render(suggestion.saved_reply, conversation, request.user)
            if suggestion.saved_reply
            else suggestion.text,
        }
        for suggestion in selectors.suggested_answers(conversation)
    ]
    return render(
        request,
        "inbox/partials/suggestions.html",
        {"conversation": conversation, "suggestions": suggestions},
    )


@login_required
@require_GET
def conversation_saved_reply(request: AuthedRequest, pk: int, saved_pk: int) -> HttpResponse:
    """A saved reply filled in for this conversation, put into the reply box (htmx)."""
    conversation = selectors.get_conversation_for_user(request.user, pk, act=True)
    saved = selectors.saved_replies_for(conversation).filter(pk=saved_pk).first()
    if saved is None:
        raise Http404
    text = services.saved_reply_render(saved, conversation, request.user)
    form = ReplyForm(initial={"text": text, "saved_reply": saved.pk})
    return render(
        request,
        "inbox/partials/reply_form.html",
        {
            "conversation": conversation,
            "reply_form": form,
            "can_reply": services.can_reply_from_narvaro(conversation),
            "focus": True,
        },
    )


def _after_post(
    request: AuthedRequest, conversation: Conversation, template_forms: dict[str, Form]
) -> HttpResponse:
    context = _detail_context(request, conversation, **template_forms)
    context["neighbours"] = _neighbours(request, conversation)
    return render(request, "inbox/conversation.html", context, status=400)


def _refused(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@login_required
@require_POST
def conversation_reply(request: AuthedRequest, pk: int) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, pk, act=True)
    form = ReplyForm(request.POST)
    referral = request.POST.get("referral") == "1"
    if form.is_valid():
        saved = None
        if form.cleaned_data.get("saved_reply"):
            saved = (
                selectors.saved_replies_for(conversation)
                .filter(pk=form.cleaned_data["saved_reply"])
                .first()
            )
        try:
            action = services.conversation_reply(
                actor=request.user,
                conversation=conversation,
                text=form.cleaned_data["text"],
                then=form.cleaned_data["then"],
                saved_reply=saved,
                referral=referral or bool(saved and saved.purpose == SavedReply.Purpose.REFERRAL),
                request=request,
            )
        except ValidationError as exc:
            _refused(form, exc)
        else:
            if action.status == action.Status.SENT:
                messages.success(request, _("Reply sent and archived."))
                return redirect_to(request, conversation.get_absolute_url())
            form.add_error(
                None,
                _("The platform refused the reply; nothing was sent. %(error)s")
                % {"error": action.error},
            )
    return _after_post(request, conversation, {"reply_form": form})


def _form_action(
    request: AuthedRequest,
    conversation: Conversation,
    form: Form,
    key: str,
    act: Callable[[dict[str, Any]], object],
    success: str,
) -> HttpResponse:
    """Run `act` with a valid form's data and go back to the conversation with `success`;
    an invalid form or a refusal (ValidationError) shows the page again with the errors."""
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as exc:
            _refused(form, exc)
        else:
            messages.success(request, success)
            return redirect_to(request, conversation.get_absolute_url())
    return _after_post(request, conversation, {key: form})


@login_required
@require_POST
def conversation_assign(request: AuthedRequest, pk: int) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, pk, act=True)
    form = AssignForm(request.POST, people=selectors.responders_of_unit(conversation.unit))
    return _form_action(
        request,
        conversation,
        form,
        "assign_form",
        lambda data: services.conversation_assign(
            actor=request.user,
            conversation=conversation,
            assignee=data["assignee"],
            request=request,
        ),
        _("Assignment saved."),
    )


@login_required
@require_POST
def conversation_assign_me(request: AuthedRequest, pk: int) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, pk, act=True)
    services.conversation_assign(
        actor=request.user, conversation=conversation, assignee=request.user, request=request
    )
    messages.success(request, _("Assigned to you."))
    return redirect_to(request, conversation.get_absolute_url())


@login_required
@require_POST
def conversation_move(request: AuthedRequest, pk: int) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, pk, act=True)
    form = MoveForm(request.POST)
    form.fields["unit"].queryset = unit_list_for_user(request.user)  # type: ignore[attr-defined]
    if form.is_valid():
        services.conversation_move(
            actor=request.user,
            conversation=conversation,
            unit=form.cleaned_data["unit"],
            request=request,
        )
        messages.success(request, _("Moved to %(unit)s.") % {"unit": form.cleaned_data["unit"]})
        if (
            selectors.conversation_list_for_user(request.user, selectors.InboxFilters(view="all"))
            .filter(pk=conversation.pk)
            .exists()
        ):
            return redirect_to(request, conversation.get_absolute_url())
        return redirect_to(request, reverse("inbox:inbox"))
    return _after_post(request, conversation, {"move_form": form})


@login_required
@require_POST
def conversation_status(request: AuthedRequest, pk: int) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, pk, act=True)
    return _form_action(
        request,
        conversation,
        StatusForm(request.POST),
        "status_form",
        lambda data: services.conversation_status_set(
            actor=request.user, conversation=conversation, status=data["status"], request=request
        ),
        _("Status saved."),
    )


@login_required
@require_POST
def conversation_answered(request: AuthedRequest, pk: int) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, pk, act=True)
    services.conversation_mark_answered(
        actor=request.user, conversation=conversation, request=request
    )
    messages.success(request, _("Marked as answered."))
    return redirect_to(request, conversation.get_absolute_url())


@login_required
@require_POST
def conversation_category(request: AuthedRequest, pk: int) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, pk, act=True)
    return _form_action(
        request,
        conversation,
        CategoryForm(request.POST),
        "category_form",
        lambda data: services.conversation_category_set(
            actor=request.user,
            conversation=conversation,
            category=data["category"],
            request=request,
        ),
        _("Category saved. The classifier learns from it."),
    )


@login_required
@require_POST
def conversation_note(request: AuthedRequest, pk: int) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, pk, act=True)
    return _form_action(
        request,
        conversation,
        NoteForm(request.POST, prefix="note"),
        "note_form",
        lambda data: services.conversation_note_add(
            actor=request.user, conversation=conversation, text=data["text"], request=request
        ),
        _("Note added."),
    )


@login_required
@require_POST
def conversation_register(request: AuthedRequest, pk: int) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, pk, act=True)
    return _form_action(
        request,
        conversation,
        RegisterForm(request.POST),
        "register_form",
        lambda data: services.conversation_register(
            actor=request.user,
            conversation=conversation,
            description=data["description"],
            case_number=data["case_number"],
            request=request,
        ),
        _("Registered as a case."),
    )


# -- saved replies -----------------------------------------------------------------------------


@login_required
@require_GET
def saved_reply_list(request: AuthedRequest) -> HttpResponse:
    replies = selectors.saved_reply_list_for_user(request.user)
    manages = unit_access(request.user).unit_ids(Capability.MANAGE)
    return render(
        request,
        "inbox/saved_reply_list.html",
        {
            "page": paginate(request, replies),
            "can_create": manages is None or bool(manages),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def saved_reply_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    saved = (
        selectors.get_saved_reply_for_user(request.user, pk, write=True)
        if pk is not None
        else SavedReply()
    )
    units = unit_list_for_user(request.user, Capability.MANAGE)
    if pk is None and not units.exists():
        raise PermissionDenied
    form = SavedReplyForm(post_data(request), instance=saved, units=units)
    if form.is_valid():
        try:
            services.saved_reply_save(
                actor=request.user, saved=form.save(commit=False), request=request
            )
        except ValidationError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("Saved reply saved."))
            return redirect_to(request, reverse("inbox:saved_reply_list"))
    return render(request, "inbox/saved_reply_form.html", {"form": form, "saved": saved})


# -- routing rules -----------------------------------------------------------------------------


@require_org_admin
@require_GET
def routing_rule_list(request: AuthedRequest) -> HttpResponse:
    rules = RoutingRule.objects.select_related("scope_unit", "target_unit", "assignee")
    return render(request, "inbox/routing_rule_list.html", {"rules": rules})


@require_org_admin
@require_http_methods(["GET", "POST"])
def routing_rule_edit(request: AuthedRequest, pk: int | None = None) -> HttpResponse:
    rule = RoutingRule() if pk is None else RoutingRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404
    form = RoutingRuleForm(post_data(request), instance=rule)
    if form.is_valid():
        saved = form.save()
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.CREATE if pk is None else AuditEvent.Action.UPDATE,
            target=saved,
            summary=audit_summary(ROUTING_RULE_SAVED),
            request=request,
        )
        messages.success(request, _("Routing rule saved. It applies to new conversations."))
        return redirect_to(request, reverse("inbox:routing_rule_list"))
    return render(request, "inbox/routing_rule_form.html", {"form": form, "rule": rule})


# -- response times ----------------------------------------------------------------------------


@login_required
@require_GET
def response_times(request: AuthedRequest) -> HttpResponse:
    """Per unit: how fast conversations were answered, in business hours, and who is on duty."""
    form = PeriodForm(request.GET or None)
    today = timezone.localdate()
    start_day, end_day = today - dt.timedelta(days=29), today
    if form.is_bound and form.is_valid():
        start_day = form.cleaned_data.get("start") or start_day
        end_day = form.cleaned_data.get("end") or end_day
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(start_day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(end_day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    report = selectors.response_report_for_user(request.user, start, end)
    return render(
        request,
        "inbox/response_times.html",
        {"form": form, "report": report, "start": start_day, "end": end_day},
    )
