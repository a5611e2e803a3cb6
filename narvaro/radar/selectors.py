"""Reads of the radar, scoped to the person asking where a person asks.

`item_categories`, `item_flags`, `items_unread` and `item_restricted` are read by other apps
(the inbox, the archive's record page, requests for public records) for items they have
already scoped; they answer for the ids given.
The radar's own pages are for the moderators and managers of a unit (and admins):
`radar_units_for_user` is the scope every page starts from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.http import Http404
from django.urls import NoReverseMatch, reverse

from narvaro.archive.models import Item, ItemVersion
from narvaro.core.models import User
from narvaro.organisation.roles import Capability
from narvaro.organisation.selectors import unit_access
from narvaro.radar.models import Alert, Category, Classification, Label, ModelVersion

if TYPE_CHECKING:
    # scikit-learn is loaded only where a model is: the archive imports this module.
    from narvaro.radar.learning import Weight


def item_categories(item_ids: Iterable[int]) -> dict[int, str]:
    """The category of each classified item of `item_ids` (unclassified ones are left out)."""
    return dict(
        Classification.objects.filter(item_id__in=list(item_ids)).values_list("item_id", "category")
    )


def item_flags(item_ids: Iterable[int] | QuerySet[Any, Any]) -> dict[int, list[str]]:
    """The flags of each flagged item of `item_ids` (see `sensitive.FLAG_LABELS`).

    `item_ids` may be a queryset of ids: it is then read as a subquery, so thousands of ids
    (a request for public records) are not sent as parameters.
    """
    ids = item_ids if isinstance(item_ids, QuerySet) else list(item_ids)
    rows = Classification.objects.filter(item_id__in=ids).values_list("item_id", "flags")
    return {item_id: list(flags) for item_id, flags in rows if flags}


def items_unread(items: QuerySet[Item]) -> QuerySet[Item]:
    """Those of `items` the radar has no reading of: drawn up by us, or not yet classified.

    Their flags are not known here; a caller that needs them runs `sensitive` on their text.
    """
    # An anti-join on the classification's unique item: no list of the radar's items is read.
    return items.exclude(Exists(Classification.objects.filter(item_id=OuterRef("pk"))))


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
    """403 for people who watch no unit's radar (a section page, like the records desk)."""
    if not sees_radar(user):
        raise PermissionDenied


def alert_list_for_user(
    user: User, *, unit: int | None = None, open_only: bool = False
) -> QuerySet[Alert]:
    """The alerts of the units `user` may watch, newest first, with what the list shows."""
    alerts = Alert.objects.select_related("unit", "account", "acknowledged_by")
    ids = radar_unit_ids(user)
    if ids is not None:
        alerts = alerts.filter(unit_id__in=ids)
    if unit:
        alerts = alerts.filter(unit_id=unit)
    if open_only:
        alerts = alerts.filter(acknowledged_at__isnull=True)
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


def get_radar_item_for_user(user: User, pk: int) -> Item:
    """An inbound item of a unit whose radar `user` may open; 404 otherwise."""
    from narvaro.archive.selectors import get_item_for_user

    item = get_item_for_user(user, pk)
    ids = radar_unit_ids(user)
    if item.direction != "received" or (ids is not None and item.account.unit_id not in ids):
        raise Http404
    return item


def recent_items_for_user(user: User, limit: int = 20) -> list[Classification]:
    """The latest classified inbound items of the units `user` may watch (for "why?" links)."""
    rows = Classification.objects.select_related("item", "account")
    ids = radar_unit_ids(user)
    if ids is not None:
        rows = rows.filter(account__unit_id__in=ids)
    return list(rows.order_by("-at", "-item_id")[:limit])


@dataclass(frozen=True)
class ConfusionRow:
    category: str
    label: str
    counts: list[int]
    total: int
    correct: int


@dataclass(frozen=True)
class Confusion:
    """A confusion matrix as the page's table shows it: rows are the people's categories."""

    columns: list[str]
    rows: list[ConfusionRow]


def confusion_table(version: ModelVersion, which: str) -> Confusion | None:
    """The `which` ("model" or "rules") confusion matrix of a trained version."""
    matrix = version.confusion.get(which) if version.confusion else None
    if not matrix:
        return None
    codes = version.confusion["labels"]
    labels = dict(Category.choices)
    rows = [
        ConfusionRow(code, str(labels.get(code, code)), counts, sum(counts), counts[index])
        for index, (code, counts) in enumerate(zip(codes, matrix, strict=True))
    ]
    return Confusion(columns=[str(labels.get(code, code)) for code in codes], rows=rows)


@dataclass(frozen=True)
class ClassifierOverview:
    """What the classifier page shows."""

    latest: ModelVersion | None  # the latest training that scored (status trained)
    active: ModelVersion | None
    versions: list[ModelVersion]
    labels: int
    model_confusion: Confusion | None
    rules_confusion: Confusion | None


def classifier_overview() -> ClassifierOverview:
    versions = model_versions()
    latest = next((v for v in versions if v.status == ModelVersion.Status.TRAINED), None)
    if latest is None:
        latest = (
            ModelVersion.objects.defer("model_bytes")
            .filter(status=ModelVersion.Status.TRAINED)
            .order_by("-id")
            .first()
        )
    active = next((v for v in versions if v.active), None)
    if active is None:
        active = ModelVersion.objects.defer("model_bytes").filter(active=True).first()
    return ClassifierOverview(
        latest=latest,
        active=active,
        versions=versions,
        labels=label_count(),
        model_confusion=confusion_table(latest, "model") if latest else None,
        rules_confusion=confusion_table(latest, "rules") if latest else None,
    )


_models: dict[tuple[int, str], Any] = {}


def _model_of(version_id: int) -> Any:
    """The fitted model of a version (signature checked), cached per process; None if unusable."""
    row = (
        ModelVersion.objects.filter(pk=version_id)
        .exclude(model_bytes=None)
        .values_list("model_bytes", "signature")
        .first()
    )
    if row is None:
        return None
    data, signature = row
    key = (version_id, signature)
    if data is None:
        return None
    if key not in _models:
        from narvaro.radar import learning

        _models.clear()  # keep one: models are megabytes
        _models[key] = learning.load(bytes(data), signature)
    return _models[key]


@dataclass(frozen=True)
class Explanation:
    """Why an item has its category: the rule that fired, the model's heaviest terms."""

    item: Item
    classification: Classification
    text: str
    text_withheld: bool
    rule: str
    rule_words: list[str]
    model_version: ModelVersion | None
    terms: list[Weight]
    model_category: str
    flags: list[tuple[str, str]]
    labels: list[Label]
    hide_url: str


def hide_url(item_id: int) -> str:
    """The moderation page that offers hiding the item on the platform ("" until it exists)."""
    try:
        return reverse("moderation:item_moderate", args=[item_id])
    except NoReverseMatch:
        return ""


def item_explanation(user: User, item: Item, classification: Classification) -> Explanation:
    """Why `item` (fetched with `get_radar_item_for_user`) was classified as it was."""
    from narvaro.radar.sensitive import FLAG_LABELS

    text = getattr(item, "latest_text", None) or ""
    withheld = classification.restricted and not sees_restricted(user, item.account.unit_id)
    version_id = classification.model_version_id
    if version_id is None:
        version_id = ModelVersion.objects.filter(active=True).values_list("pk", flat=True).first()
    version = (
        ModelVersion.objects.defer("model_bytes").filter(pk=version_id).first()
        if version_id
        else None
    )
    model = _model_of(version.pk) if version else None
    terms: list[Weight] = []
    model_category = ""
    if model is not None and text:
        from narvaro.radar.learning import top_terms

        model_category = str(model.predict([text])[0])
        terms = top_terms(model, text, model_category)
    labels = list(
        Label.objects.filter(item=item).select_related("person").order_by("-created_at", "-id")
    )
    return Explanation(
        item=item,
        classification=classification,
        text="" if withheld else text,
        text_withheld=withheld,
        rule=str(classification.explanation.get("rule", "")),
        rule_words=list(classification.explanation.get("words", [])),
        model_version=version if model is not None else None,
        terms=[] if withheld else terms,
        model_category=model_category,
        flags=[(flag, str(FLAG_LABELS.get(flag, flag))) for flag in classification.flags],
        labels=labels,
        hide_url=hide_url(item.pk),
    )


def withhold_restricted(user: User, items: Iterable[Item]) -> set[int]:
    """Blank the `latest_text` of the restricted items `user` may not read; return their ids.

    For the archive's record list and record page (R33): an item holding a personnummer
    keeps its place in the register, but its text is for the unit's moderators and managers,
    registrars and admins. One query, two when any item is restricted.
    """
    from narvaro.channels.models import Account

    items = list(items)
    restricted = items_restricted(item.pk for item in items)
    if not restricted:
        return set()
    units = dict(
        Account.objects.filter(
            pk__in={item.account_id for item in items if item.pk in restricted}
        ).values_list("pk", "unit_id")
    )
    hidden = set()
    for item in items:
        if item.pk in restricted and not sees_restricted(user, units.get(item.account_id)):
            item.latest_text = ""  # type: ignore[attr-defined]
            item.text_withheld = True  # type: ignore[attr-defined]
            hidden.add(item.pk)
    return hidden
