"""The radar's pages: alerts per unit, the classifier and why an item was classified so.

For the moderators and managers of a unit (their units' alerts and items) and admins; the
classifier page (organisation-wide figures, no personal data) for anyone who watches a unit.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from narvaro.lib.htmx import redirect_to, render_page
from narvaro.lib.paging import paginate, querystring_without_page
from narvaro.lib.types import AuthedRequest
from narvaro.organisation.roles import Capability
from narvaro.organisation.selectors import unit_access
from narvaro.radar import selectors, services
from narvaro.radar.forms import AcknowledgeForm, AlertFilterForm, CategoryForm
from narvaro.radar.models import Classification

RULE_LABELS = {
    "question_mark": gettext_lazy("It has a question mark."),
    "interrogative": gettext_lazy("It begins the way a question does:"),
    "asking": gettext_lazy("It has words that ask:"),
    "critique": gettext_lazy("It has words of critique:"),
    "negated_praise": gettext_lazy("It negates praise:"),
    "praise": gettext_lazy("It has words of praise:"),
    "none": gettext_lazy("No rule matched: other."),
}


@login_required
@require_GET
def alert_list(request: AuthedRequest) -> HttpResponse:
    """The radar's alerts in the units the person watches, newest first."""
    selectors.require_radar(request.user)
    form = AlertFilterForm(request.GET or None, user=request.user)
    alerts = selectors.alert_list_for_user(request.user, **form.filters())
    context = {
        "form": form,
        "page": paginate(request, alerts, 25),
        "querystring": querystring_without_page(request),
    }
    return render_page(request, "radar/alert_list.html", "radar/partials/alert_rows.html", context)


@login_required
@require_GET
def alert_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """One alert: what was expected, what came, the items, and its acknowledgement."""
    alert = selectors.get_alert_for_user(request.user, pk)
    context = {
        "alert": alert,
        "rows": selectors.alert_items(request.user, alert),
        "form": AcknowledgeForm(),
    }
    return render(request, "radar/alert_detail.html", context)


@login_required
@require_POST
def alert_acknowledge(request: AuthedRequest, pk: int) -> HttpResponse:
    alert = selectors.get_alert_for_user(request.user, pk)
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        context = {"alert": alert, "rows": selectors.alert_items(request.user, alert)}
        return render(request, "radar/alert_detail.html", {**context, "form": form}, status=400)
    services.alert_acknowledge(alert=alert, actor=request.user, note=form.cleaned_data["note"])
    messages.success(request, _("Alert acknowledged."))
    return redirect_to(request, reverse("radar:alert_detail", args=[alert.pk]))


def _may_train(request: AuthedRequest) -> bool:
    manages = unit_access(request.user).unit_ids(Capability.MANAGE)
    return manages is None or bool(manages)


@login_required
@require_GET
def classifier(request: AuthedRequest) -> HttpResponse:
    """The classifier: held-out macro-F1 of the model and of the rules, confusion matrices."""
    selectors.require_radar(request.user)
    context = {
        "overview": selectors.classifier_overview(),
        "recent": selectors.recent_items_for_user(request.user),
        "may_train": _may_train(request),
        "reclassify_days": settings.NARVARO_RADAR_RECLASSIFY_DAYS,
        "min_labels": settings.NARVARO_RADAR_MIN_LABELS,
    }
    return render(request, "radar/classifier.html", context)


@login_required
@require_POST
def classifier_train(request: AuthedRequest) -> HttpResponse:
    """Train now (in the background) instead of waiting for the hourly run."""
    selectors.require_radar(request.user)
    if not _may_train(request):
        raise PermissionDenied
    from narvaro.radar.tasks import model_train as model_train_task

    services.model_train_requested(actor=request.user)
    transaction.on_commit(lambda: model_train_task.enqueue(force=True))
    messages.success(request, _("Training started. The figures below change when it is done."))
    return redirect_to(request, reverse("radar:classifier"))


@login_required
@require_GET
def item_explain(request: AuthedRequest, pk: int) -> HttpResponse:
    """Why one inbound item was classified so, and a correction (a label)."""
    item = selectors.get_radar_item_for_user(request.user, pk)
    services.items_classify([item.pk])  # the feed may not have reached it yet
    classification = Classification.objects.get(item=item)
    explanation = selectors.item_explanation(request.user, item, classification)
    context = {
        "x": explanation,
        "rule_label": RULE_LABELS.get(explanation.rule, ""),
        "form": CategoryForm(initial={"category": classification.category}),
    }
    return render(request, "radar/item_explain.html", context)


@login_required
@require_POST
def item_category(request: AuthedRequest, pk: int) -> HttpResponse:
    """Set or correct the item's category: a label the classifier learns from."""
    item = selectors.get_radar_item_for_user(request.user, pk)
    form = CategoryForm(request.POST)
    if form.is_valid():
        try:
            services.item_category_set(
                item_id=item.pk, category=form.cleaned_data["category"], actor=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Category saved. The classifier learns from it."))
    else:
        messages.error(request, _("Choose a category."))
    return redirect_to(request, reverse("radar:item_explain", args=[item.pk]))
