"""Reads of the radar, scoped to the person asking where a person asks.

`item_categories`, `item_flags` and `item_restricted` are read by other apps (the inbox, the
archive's record page) for items they have already scoped; they answer for the ids given.
The radar's own pages are for the moderators and managers of a unit (and admins):
`radar_units_for_user` is the scope every page starts from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404

from narvaro.archive.models import Item, ItemVersion
from narvaro.core.models import User
from narvaro.organisation.roles import Capability
from narvaro.organisation.selectors import unit_access
from narvaro.radar.models import Alert, Classification, Label, ModelVersion


def item_categories(item_ids: Iterable[int]) -> dict[int, str]:
    """The category of each classified item of `item_ids` (unclassified ones are left out)."""
    return dict(
        Classification.objects.filter(item_id__in=list(item_ids)).values_list("item_id", "category")
    )


def item_flags(item_ids: Iterable[int]) -> dict[int, list[str]]:
    """The flags of each flagged item of `item_ids` (see `sensitive.FLAG_LABELS`)."""
    rows = Classification.objects.filter(item_id__in=list(item_ids)).values_list("item_id", "flags")
    return {item_id: list(flags) for item_id, flags in rows if flags}


def item_restricted(item_id: int) -> bool:
    """Whether the item's text is restricted: it holds a valid personnummer (R33)."""
    return Classification.objects.filter(item_id=item_id, restricted=True).exists()


def items_restricted(item_ids: Iterable[int]) -> set[int]:
    """Which of `item_ids` are restricted, in one query (for lists)."""
    return set(
        Classification.objects.filter(item_id__in=list(item_ids), restricted=True).values_list(
            "item_id", flat=True
        )
    )


def sees_restricted(user: User, unit_id: int | None) -> bool:
    """Who reads a restricted item's text: the unit's moderators and managers, registrars
    and admins (R33, R34)."""
    return user.is_registrar or unit_access(user).allows(unit_id, Capability.MODERATE)


def radar_unit_ids(user: User) -> frozenset[int] | None:
    """The units whose radar `user` may open (moderators, managers); None: every unit."""
    return unit_access(user).unit_ids(Capability.MODERATE)


def sees_radar(user: User) -> bool:
    """Whether `user` may open any radar page (the menu entry)."""
    ids = radar_unit_ids(user)
    return ids is None or bool(ids)


def require_radar(user: User) -> None:
    """404 for people with no radar page (the pages' existence is not a secret, but the
    scope rule is one rule: what you may not see is not there)."""
    if not sees_radar(user):
        raise Http404


def alert_list_for_user(user: User, *, unit: int | None = None) -> QuerySet[Alert]:
    """The alerts of the units `user` may watch, newest first, with what the list shows."""
    alerts = Alert.objects.select_related("unit", "account", "acknowledged_by")
    ids = radar_unit_ids(user)
    if ids is not None:
        alerts = alerts.filter(unit_id__in=ids)
    if unit:
        alerts = alerts.filter(unit_id=unit)
    return alerts.order_by("-raised_at", "-id")


def get_alert_for_user(user: User, pk: int) -> Alert:
    """An alert of a unit `user` may watch; 404 otherwise."""
    try:
        return alert_list_for_user(user).get(pk=pk)
    except Alert.DoesNotExist as exc:
        raise Http404 from exc


@dataclass(frozen=True)
class AlertItemRow:
    """One item that triggered an alert, as the alert page shows it."""

    item: Item
    category: str
    text: str
    restricted: bool


def alert_items(user: User, alert: Alert) -> list[AlertItemRow]:
    """The items of `alert` with their category and text (withheld where restricted)."""
    latest = ItemVersion.objects.filter(item=OuterRef("pk")).order_by("-number")
    items = (
        alert.items.select_related("account", "radar_classification")
        .annotate(latest_text=Subquery(latest.values("text")[:1]))
        .order_by("created_at", "id")
    )
    rows = []
    for item in items:
        classification = getattr(item, "radar_classification", None)
        restricted = bool(classification and classification.restricted)
        hidden = restricted and not sees_restricted(user, item.account.unit_id)
        rows.append(
            AlertItemRow(
                item=item,
                category=classification.get_category_display() if classification else "",
                text="" if hidden else (item.latest_text or ""),  # type: ignore[attr-defined]
                restricted=restricted,
            )
        )
    return rows


def model_versions(limit: int = 10) -> list[ModelVersion]:
    """The latest trainings, newest first (without the model bytes)."""
    return list(ModelVersion.objects.defer("model_bytes").order_by("-id")[:limit])


def label_count() -> int:
    """How many items people have labelled."""
    return Label.objects.values("item_id").distinct().count()


def get_classified_item_for_user(user: User, pk: int) -> tuple[Item, Classification]:
    """An inbound item of a unit whose radar `user` may open, with its classification (404)."""
    from narvaro.archive.selectors import get_item_for_user
    from narvaro.radar.services import items_classify

    item = get_item_for_user(user, pk)
    ids = radar_unit_ids(user)
    if ids is not None and item.account.unit_id not in ids:
        raise Http404
    items_classify([item.pk])
    classification = Classification.objects.filter(item=item).first()
    if classification is None:
        raise Http404
    return item, classification
