"""Writes of the radar: classifying inbound items, staff labels, training, alerts.

The inbox calls `items_classify` and `item_category_set`; the archive feed (`classify_feed`)
classifies every inbound item once it is captured, whether or not the inbox asked.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from sklearn.pipeline import Pipeline

from narvaro.archive.feed import feed_process
from narvaro.archive.models import Direction, Item, ItemVersion
from narvaro.channels.models import Account
from narvaro.core.audit_summaries import (
    CATEGORY_SET,
    CLASSIFIER_TRAINING_REQUESTED,
    RADAR_ALERT_ACKNOWLEDGED,
    audit_summary,
)
from narvaro.core.models import AuditEvent, User
from narvaro.core.services import audit_record
from narvaro.lib.links import absolute_url
from narvaro.organisation.models import Membership, Unit
from narvaro.organisation.roles import Capability
from narvaro.organisation.selectors import unit_access
from narvaro.radar import learning, spikes
from narvaro.radar.models import Alert, Category, Classification, Label, ModelVersion
from narvaro.radar.sensitive import IDENTITY_FLAGS, item_flags_of
from narvaro.radar.signals import categories_revised

logger = logging.getLogger(__name__)

FEED_CONSUMER = "radar"

# The model in use, loaded once per process: (version id, signature, model).
_loaded: dict[str, tuple[int, str, Pipeline | None]] = {}


def _active_model() -> tuple[int | None, Pipeline | None]:
    """The model in use and its version id; (None, None) while the rules decide."""
    row = ModelVersion.objects.filter(active=True).values_list("pk", "signature").first()
    if row is None:
        return None, None
    pk, signature = row
    cached = _loaded.get("active")
    if cached is None or cached[0] != pk or cached[1] != signature:
        data = ModelVersion.objects.filter(pk=pk).values_list("model_bytes", flat=True).first()
        model = learning.load(bytes(data), signature) if data else None
        cached = (pk, signature, model)
        if model is not None:  # a refused model is refused again next time (and logged)
            _loaded["active"] = cached
    return (pk, cached[2]) if cached[2] is not None else (None, None)


def _latest_versions(item_ids: Iterable[int]) -> QuerySet[Any]:
    latest = ItemVersion.objects.filter(item=OuterRef("pk")).order_by("-number")
    return Item.objects.filter(pk__in=list(item_ids)).annotate(
        latest_text=Subquery(latest.values("text")[:1]),
        latest_number=Subquery(latest.values("number")[:1]),
    )


def _restricts(flags: list[str]) -> bool:
    if any(flag in IDENTITY_FLAGS for flag in flags):
        return True
    return settings.NARVARO_RADAR_RESTRICT_SENSITIVE and bool(flags)


def items_classify(item_ids: list[int]) -> dict[int, str]:
    """The category of each inbound item of `item_ids`, classifying those not yet classified.

    Idempotent: an item is classified once (a staff correction replaces its category through
    `item_category_set`). Items that are not inbound (drawn up by us) or unknown are left out of
    the answer. A fixed number of queries whatever the number of ids.
    """
    ids = set(item_ids)
    if not ids:
        return {}
    known = dict(Classification.objects.filter(item_id__in=ids).values_list("item_id", "category"))
    todo = ids - known.keys()
    if todo:
        rows = list(
            _latest_versions(todo)
            .filter(direction=Direction.RECEIVED)
            .values_list(
                "pk", "account_id", "created_at", "first_seen_at", "latest_text", "latest_number"
            )
        )
        if rows:
            version_id, model = _active_model()
            texts = [row[4] or "" for row in rows]
            readings = learning.read(texts, model)
            now = timezone.now()
            created = []
            for row, text, reading in zip(rows, texts, readings, strict=True):
                flags = item_flags_of(text)
                created.append(
                    Classification(
                        item_id=row[0],
                        account_id=row[1],
                        at=row[2] or row[3],
                        category=reading.category,
                        source=reading.source,
                        model_version_id=version_id if reading.source == "model" else None,
                        explanation={"rule": reading.rule, "words": list(reading.words)},
                        confidence=reading.confidence,
                        flags=flags,
                        restricted=_restricts(flags),
                        version_number=row[5] or 1,
                        classified_at=now,
                    )
                )
            # Two workers classifying the same item: the second insert is skipped, and the
            # answer below reads whichever row won.
            Classification.objects.bulk_create(created, ignore_conflicts=True)
            known.update(
                Classification.objects.filter(item_id__in=todo).values_list("item_id", "category")
            )
    return {item_id: known[item_id] for item_id in item_ids if item_id in known}


RECLASSIFY_CHUNK = 2000


def items_reclassify(*, since: dt.datetime | None = None) -> int:
    """Read again, with the classifier now in use, what the machine classified of the items
    posted since `since`.

    When a model comes into use (it beat the rules on held-out labels), the items posted in the
    last NARVARO_RADAR_RECLASSIFY_DAYS days that the rules or an older model classified get its
    reading, so the inbox, the radar's critique share and the classifier page speak with one
    voice. A category a person set is never touched, also when set while this runs (the rows
    are locked and read again before they are written). A disposed item (its text dropped
    by gallring) keeps its category: there is nothing to read. Returns how many items changed
    category; `signals.categories_revised` tells the inbox which.
    """
    if since is None:
        since = timezone.now() - dt.timedelta(days=settings.NARVARO_RADAR_RECLASSIFY_DAYS)
    version_id, model = _active_model()
    machine = Classification.objects.filter(at__gte=since).exclude(
        source=Classification.Source.STAFF
    )
    changed = 0
    after = 0
    while True:
        rows = list(
            machine.filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", "item_id", "category", "source", "model_version_id")[
                :RECLASSIFY_CHUNK
            ]
        )
        if not rows:
            return changed
        after = rows[-1][0]
        texts = dict(_latest_versions([row[1] for row in rows]).values_list("pk", "latest_text"))
        rows = [row for row in rows if texts.get(row[1]) is not None]  # not disposed
        readings = learning.read([texts[row[1]] or "" for row in rows], model)
        now = timezone.now()
        revised: dict[int, Classification] = {}
        changes: dict[int, tuple[str, str]] = {}
        for (pk, item_id, category, source, model_version_id), reading in zip(
            rows, readings, strict=True
        ):
            new_version = version_id if reading.source == "model" else None
            if (reading.category, reading.source, new_version) == (
                category,
                source,
                model_version_id,
            ):
                continue
            revised[pk] = Classification(
                pk=pk,
                category=reading.category,
                source=reading.source,
                model_version_id=new_version,
                explanation={"rule": reading.rule, "words": list(reading.words)},
                confidence=reading.confidence,
                classified_at=now,
            )
            if reading.category != category:
                changes[item_id] = (category, reading.category)
        if not revised:
            continue
        with transaction.atomic():
            # Every row to be written is locked and read again: one a person labelled since it
            # was read keeps the person's category (item_category_set locks the row too).
            current = dict(
                Classification.objects.select_for_update()
                .filter(pk__in=revised)
                .values_list("pk", "source")
            )
            item_of = {row[0]: row[1] for row in rows}
            for pk in list(revised):
                if current.get(pk, Classification.Source.STAFF) == Classification.Source.STAFF:
                    changes.pop(item_of[pk], None)
                    del revised[pk]
            Classification.objects.bulk_update(
                list(revised.values()),
                [
                    "category",
                    "source",
                    "model_version",
                    "explanation",
                    "confidence",
                    "classified_at",
                ],
            )
            if changes:
                transaction.on_commit(
                    lambda changes=changes: _revised_send(changes)  # type: ignore[misc]
                )
        changed += len(changes)


def _revised_send(changes: dict[int, tuple[str, str]]) -> None:
    """Tell the receivers; one that fails is logged and does not stop the reading."""
    for receiver, result in categories_revised.send_robust(sender=Classification, changes=changes):
        if isinstance(result, Exception):
            logger.error("radar: %s failed on revised categories", receiver, exc_info=result)


def item_category_set(
    *, item_id: int, category: str, actor: User, unit_id: int | None = None
) -> None:
    """A person sets or corrects an inbound item's category: a label, audit-logged.

    The person must be able to answer in the unit that answers for the item (responders and
    up, admins): `unit_id` when the inbox routed or moved its conversation to another unit,
    otherwise the unit of the item's account.
    Setting the category it already has by a person's label adds nothing.
    """
    if category not in Category.values:
        raise ValidationError(_("Unknown category: %(category)s") % {"category": category})
    items_classify([item_id])
    with transaction.atomic():
        try:
            classification = (
                Classification.objects.select_for_update()
                .select_related("item", "account")
                .get(item_id=item_id)
            )
        except Classification.DoesNotExist as exc:
            raise ValidationError(_("Only inbound items have a category.")) from exc
        if unit_id is None:
            unit_id = classification.account.unit_id
        if not unit_access(actor).allows(unit_id, Capability.RESPOND):
            raise PermissionDenied
        previous = classification.category
        if previous == category and classification.source == Classification.Source.STAFF:
            return
        Label.objects.create(item_id=item_id, category=category, previous=previous, person=actor)
        classification.category = category
        classification.source = Classification.Source.STAFF
        classification.model_version = None
        classification.confidence = None
        classification.save(update_fields=["category", "source", "model_version", "confidence"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=classification.item,
            unit_id=unit_id,
            summary=audit_summary(CATEGORY_SET, category=category),
            changes={"category": [previous, category]},
        )


def _classify_chunk(items: QuerySet[Item]) -> None:
    items_classify(list(items.filter(direction=Direction.RECEIVED).values_list("pk", flat=True)))


def classify_feed(*, limit: int | None = None) -> int:
    """Classify the captured items past the radar's cursor (see `archive.feed`); how many read.

    Edited items are not new items, so the feed does not name them: the flags of inbound items
    edited in the last day are brought up to date here too.
    """
    read = feed_process(FEED_CONSUMER, _classify_chunk, limit=limit)
    items_reflag_edited(since=timezone.now() - dt.timedelta(days=1))
    return read


def items_reflag_edited(*, since: dt.datetime) -> int:
    """Check the flags of inbound items that got a new version since `since`; how many changed.

    A flag stays once raised: the version that held the personnummer is still in the archive,
    so an edit that removes it does not lift the restriction. The category stays as it was.
    """
    latest = dict(
        ItemVersion.objects.filter(
            recorded_at__gte=since, number__gt=1, item__direction=Direction.RECEIVED
        )
        .values("item_id")
        .annotate(latest=Max("number"))
        .values_list("item_id", "latest")
    )
    if not latest:
        return 0
    stale = [
        c
        for c in Classification.objects.filter(item_id__in=latest)
        if c.version_number < latest[c.item_id]
    ]
    texts = dict(_latest_versions(c.item_id for c in stale).values_list("pk", "latest_text"))
    for classification in stale:
        found = item_flags_of(texts.get(classification.item_id) or "")
        classification.flags = list(dict.fromkeys([*classification.flags, *found]))
        classification.restricted = classification.restricted or _restricts(found)
        classification.version_number = latest[classification.item_id]
    Classification.objects.bulk_update(stale, ["flags", "restricted", "version_number"])
    return len(stale)


def _training_set() -> tuple[list[str], list[str], int]:
    """The latest label of every labelled item with its text, and the highest label id."""
    latest_ids = Label.objects.values("item_id").annotate(last=Max("id")).values("last")
    labels = dict(Label.objects.filter(id__in=latest_ids).values_list("item_id", "category"))
    last_id = Label.objects.aggregate(last=Max("id"))["last"] or 0
    texts, categories = [], []
    for item_id, text in _latest_versions(labels).values_list("pk", "latest_text"):
        if text:  # a disposed item's text is gone (gallring): nothing to learn from
            texts.append(text)
            categories.append(labels[item_id])
    return texts, categories, last_id


def model_train_requested(*, actor: User) -> None:
    """A person asked for training now (the task does it); logged."""
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        summary=audit_summary(CLASSIFIER_TRAINING_REQUESTED),
    )


def model_train(*, force: bool = False) -> ModelVersion | None:
    """Train and evaluate a model on the labels; use it if it beats the rules on held-out labels.

    Without `force`, does nothing when no label was added since the last training.
    """
    texts, categories, last_id = _training_set()
    latest = ModelVersion.objects.order_by("-id").first()
    if not force and latest is not None and latest.last_label_id == last_id:
        return None
    counts = {c: categories.count(c) for c in Category.values}
    version = ModelVersion(label_count=len(texts), last_label_id=last_id, class_counts=counts)
    folds = learning.folds_possible(categories)
    if len(texts) < settings.NARVARO_RADAR_MIN_LABELS or folds < 2:
        version.status = ModelVersion.Status.TOO_FEW
        version.message = (
            f"{len(texts)} labels; training needs {settings.NARVARO_RADAR_MIN_LABELS}, "
            "in at least two categories with two labels each"
        )
        version.save()
        return version
    try:
        evaluation = learning.evaluate(texts, categories)
        data, signature = learning.dump(learning.fit(texts, categories))
    except (ValueError, MemoryError) as exc:
        logger.exception("radar: training failed")
        version.status = ModelVersion.Status.FAILED
        version.message = str(exc)[:500]
        version.save()
        return version
    version.status = ModelVersion.Status.TRAINED
    version.folds = evaluation.folds
    version.model_f1 = round(evaluation.model_f1, 4)
    version.rules_f1 = round(evaluation.rules_f1, 4)
    version.confusion = {
        "labels": list(Category.values),
        "model": evaluation.model_confusion,
        "rules": evaluation.rules_confusion,
    }
    version.model_bytes = data
    version.signature = signature
    version.active = evaluation.model_f1 > evaluation.rules_f1
    with transaction.atomic():
        if version.active:
            ModelVersion.objects.filter(active=True).update(active=False)
        try:
            with transaction.atomic():  # a savepoint: the constraint may refuse the row
                version.save()
        except IntegrityError:  # another training activated its model at the same moment
            version.active = False
            version.save()
    if version.active:
        version.reclassified = items_reclassify()
        version.save(update_fields=["reclassified"])
    return version


def _unit_managers(unit_id: int) -> list[str]:
    """E-mail addresses of the people who manage `unit_id` (in it or in a unit above it)."""
    parents = dict(Unit.objects.values_list("id", "parent_id"))
    chain: list[int] = []
    current: int | None = unit_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return sorted(
        set(
            Membership.objects.filter(
                unit_id__in=chain, role=Membership.Role.MANAGER, user__is_active=True
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def _alert_mail(alert: Alert) -> list[str]:
    """Tell the unit's managers, in the organisation's language; return who was told."""
    recipients = _unit_managers(alert.unit_id)
    if not recipients:
        return []
    with translation.override(settings.LANGUAGE_CODE):
        where = str(alert.account) if alert.account_id else alert.unit.name
        reasons = []
        if alert.critique_spike:
            reasons.append(
                _("%(critical)s of %(observed)s items are critique (usually %(share)s%%)")
                % {
                    "critical": alert.critique_observed,
                    "observed": alert.observed,
                    "share": round(alert.critique_expected_share * 100),
                }
            )
        if alert.volume_spike:
            reasons.append(
                _("%(observed)s items where about %(expected)s are usual")
                % {"observed": alert.observed, "expected": f"{alert.expected:.1f}"}
            )
        subject = _("Narvaro: critique radar alert for %(where)s") % {"where": where}
        body = "\n".join(
            [
                _("The critique radar found an improbable rise on %(where)s (%(unit)s):")
                % {"where": where, "unit": alert.unit.name},
                "",
                *[f"- {reason}" for reason in reasons],
                "",
                _("The items and the acknowledgement are on the alert's page in Narvaro: %(url)s")
                % {"url": absolute_url(reverse("radar:alert_detail", args=[alert.pk]))},
            ]
        )
    send_mail(subject, body, None, recipients, fail_silently=True)
    return recipients


def _ongoing(reading: spikes.Reading, since: dt.datetime) -> Alert | None:
    alerts = Alert.objects.filter(last_seen_at__gte=since)
    if reading.account_id is not None:
        alerts = alerts.filter(scope=Alert.Scope.ACCOUNT, account_id=reading.account_id)
    else:
        alerts = alerts.filter(scope=Alert.Scope.UNIT, unit_id=reading.unit_id)
    return alerts.order_by("-last_seen_at").first()


def _alert_continue(alert: Alert, reading: spikes.Reading, now: dt.datetime) -> Alert:
    alert.last_seen_at = now
    alert.window_end = now
    alert.volume_spike = alert.volume_spike or reading.volume_spike
    alert.critique_spike = alert.critique_spike or reading.critique_spike
    if reading.observed > alert.observed:
        alert.observed = reading.observed
        alert.expected = reading.expected
        alert.critique_observed = len(reading.critique_ids)
        alert.critique_expected_share = reading.share
    alert.volume_p = min(alert.volume_p, reading.volume_p)
    alert.critique_p = min(alert.critique_p, reading.critique_p)
    alert.save()
    alert.items.add(*reading.item_ids)
    return alert


def radar_evaluate(*, now: dt.datetime | None = None) -> list[Alert]:
    """Test every account's and unit's last window; raise an alert per new burst.

    A burst already alerted (an alert of the same account or unit seen within
    NARVARO_RADAR_QUIET_HOURS) continues that alert instead of raising another; a unit's rise
    that one of its accounts explains is that account's alert. Returns the alerts raised or
    continued. The unit's managers get an e-mail when an alert is raised.
    """
    now = now or timezone.now()
    since = now - dt.timedelta(hours=settings.NARVARO_RADAR_QUIET_HOURS)
    account_units = dict(Account.objects.values_list("pk", "unit_id"))
    found = [reading for reading in spikes.readings(now, account_units) if reading.spike]
    accounts_alerting = {r.unit_id for r in found if r.account_id is not None} | set(
        Alert.objects.filter(scope=Alert.Scope.ACCOUNT, last_seen_at__gte=since).values_list(
            "unit_id", flat=True
        )
    )
    touched: list[Alert] = []
    for reading in found:
        if reading.account_id is None and reading.unit_id in accounts_alerting:
            continue
        with transaction.atomic():
            alert = _ongoing(reading, since)
            if alert is not None:
                touched.append(_alert_continue(alert, reading, now))
                continue
            alert = Alert.objects.create(
                scope=Alert.Scope.ACCOUNT if reading.account_id else Alert.Scope.UNIT,
                account_id=reading.account_id,
                unit_id=reading.unit_id,
                raised_at=now,
                last_seen_at=now,
                window_start=now - dt.timedelta(minutes=settings.NARVARO_RADAR_WINDOW_MINUTES),
                window_end=now,
                volume_spike=reading.volume_spike,
                critique_spike=reading.critique_spike,
                observed=reading.observed,
                expected=reading.expected,
                volume_p=reading.volume_p,
                critique_observed=len(reading.critique_ids),
                critique_expected_share=reading.share,
                critique_p=reading.critique_p,
            )
            alert.items.set(reading.item_ids)
        alert.emailed_to = _alert_mail(alert)
        alert.save(update_fields=["emailed_to"])
        touched.append(alert)
    return touched


def alert_acknowledge(*, alert: Alert, actor: User, note: str = "") -> Alert:
    """A person has seen the alert (and may say what was done); kept in the history."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if alert.acknowledged_at is not None:
            return alert
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = actor
        alert.note = note.strip()
        alert.full_clean()
        alert.save(update_fields=["acknowledged_at", "acknowledged_by", "note"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=alert,
            unit_id=alert.unit_id,
            summary=audit_summary(RADAR_ALERT_ACKNOWLEDGED),
            changes={"note": alert.note} if alert.note else {},
        )
    return alert
