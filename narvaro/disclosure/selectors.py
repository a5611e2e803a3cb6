"""Reads of requests for public records, scoped to the person asking (R23, R37).

Only registrars and admins handle requests: everyone else gets 403 on the list and 404 on any
request (its existence is not leaked). The archive items a request holds are read through the
archive's own selectors, so an item's visibility rules stay in one place.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    Count,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from narvaro.archive.models import Item, ItemEvent, ItemVersion
from narvaro.archive.selectors import (
    get_item_for_user,
    record_search_for_user,
    sees_secret_records,
)
from narvaro.core.models import User
from narvaro.disclosure.clock import overdue_cutoff
from narvaro.disclosure.models import (
    Decision,
    Delivery,
    DeliveryFile,
    RecordsRequest,
    Redaction,
    RequestItem,
)
from narvaro.radar.selectors import item_flags, items_unread
from narvaro.radar.sensitive import SENSITIVE_CATEGORIES, sensitive_flags


def handles_requests(user: User) -> bool:
    """Registrars and admins log, compile and decide requests for public records."""
    return sees_secret_records(user)


def _require_handler(user: User) -> None:
    if not handles_requests(user):
        raise PermissionDenied


def request_list_for_user(user: User, *, status: str = RecordsRequest.Status.OPEN) -> QuerySet:
    """The requests with `status`, most urgent first; 403 for anyone but registrars and admins.

    Requests are never served first come, first served (R23, JO 6813-20): every request is
    to be decided the day it arrives. So the list puts first those past the end of day 3,
    then those past the end of day 1, and within each group the request closest to a
    decision (fewest undecided records) first, then the newest. Each row carries `overdue`
    (0, 1 or 3: the last day whose end has passed), `item_count` and `undecided_count`.
    """
    _require_handler(user)
    today = timezone.localdate()
    # Days are working days (see `clock`): a request received on a Friday is past the end of
    # day 1 on Monday and past the end of day 3 on Thursday.
    overdue = Case(
        When(received_at__lt=overdue_cutoff(today, 3), then=Value(3)),
        When(received_at__lt=overdue_cutoff(today, 1), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    requests = RecordsRequest.objects.filter(status=status).select_related("handler")
    requests = requests.annotate(
        overdue=overdue,
        item_count=Count("items", distinct=True),
        undecided_count=Count("items", filter=Q(items__decision=""), distinct=True),
    )
    if status == RecordsRequest.Status.OPEN:
        return requests.order_by("-overdue", "undecided_count", "-received_at", "-id")
    return requests.order_by("-closed_at", "-id")


def get_request_for_user(user: User, pk: int) -> RecordsRequest:
    """Request `pk` for a registrar or admin; 404 for everyone else and for unknown ids."""
    if not handles_requests(user):
        raise Http404
    try:
        return RecordsRequest.objects.select_related("handler").get(pk=pk)
    except RecordsRequest.DoesNotExist as exc:
        raise Http404 from exc


def get_request_item_for_user(user: User, request_pk: int, item_pk: int) -> RequestItem:
    """The record `item_pk` as compiled into request `request_pk` (404 if not in it)."""
    records_request = get_request_for_user(user, request_pk)
    try:
        return RequestItem.objects.select_related("item__account__unit", "decided_by").get(
            request=records_request, item_id=item_pk
        )
    except RequestItem.DoesNotExist as exc:
        raise Http404 from exc


def get_redaction_for_user(user: User, request_pk: int, pk: int) -> Redaction:
    records_request = get_request_for_user(user, request_pk)
    try:
        return Redaction.objects.select_related("request_item", "version").get(
            request_item__request=records_request, pk=pk
        )
    except Redaction.DoesNotExist as exc:
        raise Http404 from exc


def get_delivery_file_for_user(user: User, request_pk: int, number: int, kind: str) -> DeliveryFile:
    records_request = get_request_for_user(user, request_pk)
    try:
        return DeliveryFile.objects.select_related("delivery__request").get(
            delivery__request=records_request, delivery__number=number, kind=kind
        )
    except DeliveryFile.DoesNotExist as exc:
        raise Http404 from exc


def get_delivery_for_user(user: User, request_pk: int, number: int) -> Delivery:
    records_request = get_request_for_user(user, request_pk)
    try:
        return Delivery.objects.select_related("request").get(
            request=records_request, number=number
        )
    except Delivery.DoesNotExist as exc:
        raise Http404 from exc


def deliveries_state(deliveries: list[Delivery]) -> str:
    """A short token of the deliveries' statuses: the page's poll swaps only when it changes."""
    return ",".join(f"{d.number}:{'stalled' if d.stalled else d.status}" for d in deliveries)


def request_items(records_request: RecordsRequest) -> QuerySet[RequestItem]:
    """The records of a request with what its page shows, in a fixed number of queries."""
    return (
        RequestItem.objects.filter(request=records_request)
        .select_related("item__account__unit", "decided_by", "delivery")
        .annotate(
            suggested=Count("redactions", filter=Q(redactions__status="suggested")),
            masked=Count("redactions", filter=Q(redactions__status="accepted")),
        )
        .order_by("item__created_at", "item_id")
    )


def request_deliveries(records_request: RecordsRequest) -> list[Delivery]:
    return list(
        Delivery.objects.filter(request=records_request)
        .select_related("created_by")
        .prefetch_related("files")
        .order_by("number")
    )


@dataclass(frozen=True)
class SensitiveSelection:
    """A sensitive-data category (GDPR art. 9/10) a request is selected by, and by what (R26).

    `in_scope`: the request's own words name it. `searched`: how many compiled records a
    search naming it found. `records`: how many compiled records carry it (the radar's flags,
    or the same keywords run on the record's newest text where the radar has no reading).
    """

    category: str
    label: str
    in_scope: bool
    searched: int
    records: int


@dataclass(frozen=True)
class RequestFigures:
    """What the request page says about the clock and the people in it (R23, R26)."""

    elapsed: dt.timedelta
    day1_end: dt.datetime
    day3_end: dt.datetime
    overdue: int
    authors: int
    ready: int
    # The sensitive-data categories the request is selected by, in SENSITIVE_CATEGORIES order.
    sensitive: list[SensitiveSelection] = field(default_factory=list)


# From this many different authors a request "covers many people" (R26): prompt an
# assessment under OSL 21 kap. 7 § before releasing.
MANY_PEOPLE = 10


def request_figures(
    records_request: RecordsRequest, now: dt.datetime | None = None
) -> RequestFigures:
    now = now or timezone.now()
    day1, day3 = records_request.day_end(1), records_request.day_end(3)
    items = RequestItem.objects.filter(request=records_request)
    authors = items.exclude(item__author_handle="").values("item__author_handle").distinct().count()
    ready = items.filter(delivery__isnull=True).exclude(decision=Decision.PENDING).count()
    return RequestFigures(
        elapsed=now - records_request.received_at,
        day1_end=day1,
        day3_end=day3,
        overdue=3 if now >= day3 else 1 if now >= day1 else 0,
        authors=authors,
        ready=ready,
        sensitive=request_sensitive_data(records_request),
    )


def sensitive_categories_of(text: str) -> list[str]:
    """The sensitive-data categories `text` names (the radar's keywords), in their order."""
    found = sensitive_flags(text or "")
    return [category for category in SENSITIVE_CATEGORIES if category in found]


def items_sensitive_categories(items: QuerySet[Item]) -> dict[int, set[str]]:
    """The sensitive-data categories each of `items` carries; items with none are left out.

    The radar's reading where it has one (it keeps a flag once raised, through later edits);
    for the others (our own posts, items not yet classified) the radar's keywords run on the
    text of every version, since the printout releases every version; so they do on every
    version of an edited item the radar has read. Two queries whatever the number of items:
    the ids go to the database as subqueries and the texts are streamed.
    """
    ids = items.values("pk")
    found: dict[int, set[str]] = {}
    for item_id, flags in item_flags(ids).items():
        categories = {flag for flag in flags if flag in SENSITIVE_CATEGORIES}
        if categories:
            found[item_id] = categories
    unread = items_unread(Item.objects.filter(pk__in=ids)).values("pk")
    # The radar reads an item's newest text; an edited item may hold a category only in an
    # earlier version, which the printout releases too: its versions are read here as well.
    edited = ItemVersion.objects.filter(item_id__in=ids, number__gt=1).values("item_id")
    texts = ItemVersion.objects.filter(Q(item_id__in=unread) | Q(item_id__in=edited)).exclude(
        text=None
    )
    for item_id, text in texts.values_list("item_id", "text").iterator(chunk_size=2000):
        categories = set(sensitive_categories_of(text or ""))
        if categories:
            found.setdefault(item_id, set()).update(categories)
    return found


def request_item_sensitive_labels(request_item: RequestItem) -> list[str]:
    """The sensitive-data categories one compiled record carries, as labels (R26).

    Its decision page points at the OSL 21 kap. 7 § assessment when there are any.
    """
    items = Item.objects.filter(pk=request_item.item_id)
    found = items_sensitive_categories(items).get(request_item.item_id, set())
    return [str(label) for category, label in SENSITIVE_CATEGORIES.items() if category in found]


def request_sensitive_data(records_request: RecordsRequest) -> list[SensitiveSelection]:
    """The sensitive-data categories a request is selected by, and by what (R26).

    A request is selected by a sensitive attribute when its wording or a search that compiled
    its records names a category of GDPR art. 9/10 data, or when its records carry one. Each
    prompts an assessment under OSL 21 kap. 7 § (never a question about the requester's
    purpose). Three queries whatever the number of records.
    """
    in_scope = set(sensitive_categories_of(records_request.scope))
    request_items = RequestItem.objects.filter(request=records_request)
    searched: Counter[str] = Counter()
    for categories in request_items.exclude(search_categories=[]).values_list(
        "search_categories", flat=True
    ):
        searched.update(categories)
    records: Counter[str] = Counter()
    items = Item.objects.filter(pk__in=request_items.values("item_id"))
    for categories in items_sensitive_categories(items).values():
        records.update(categories)
    return [
        SensitiveSelection(
            category=category,
            label=str(label),
            in_scope=category in in_scope,
            searched=searched[category],
            records=records[category],
        )
        for category, label in SENSITIVE_CATEGORIES.items()
        if category in in_scope or searched[category] or records[category]
    ]


def compile_candidates(user: User, records_request: RecordsRequest, **filters: object) -> QuerySet:
    """Archive items matching the search filters, each marked `in_request` (R24).

    Uses the archive's own search, so edited items, items deleted on the platform and items
    removed by moderation are found like any other; the filters `deleted` and `edited`
    narrow to them.
    """
    _require_handler(user)
    items = record_search_for_user(user, **filters)  # type: ignore[arg-type]
    chosen = RequestItem.objects.filter(request=records_request).values("item_id")
    return items.annotate(
        in_request=Case(
            When(pk__in=chosen, then=Value(1)), default=Value(0), output_field=IntegerField()
        )
    )


def items_on_open_requests() -> QuerySet[RequestItem, int]:
    """Ids of the archive items compiled into a request that is still open.

    An open request is a legal hold (R27): retention must not dispose of these items.
    Use as `Item.objects.exclude(pk__in=items_on_open_requests())`.
    """
    return (
        RequestItem.objects.filter(request__status=RecordsRequest.Status.OPEN)
        .values_list("item_id", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class Passage:
    """A run of a version's text on the review page, and the redaction covering it, if any."""

    text: str
    redaction: Redaction | None = None


@dataclass(frozen=True)
class FieldReview:
    """Another field the copy shows (an alt text, a file name, an image, the author), marked."""

    label: str
    field: str
    passages: list[Passage]
    redactions: list[Redaction]


@dataclass(frozen=True)
class VersionReview:
    version: ItemVersion
    passages: list[Passage]
    redactions: list[Redaction]
    # Each attachment's alt text, file name and image, when the version has attachments.
    fields: list[FieldReview] = field(default_factory=list)


@dataclass(frozen=True)
class ItemReview:
    """What the review page of one requested record shows, read in a fixed number of queries."""

    item: Item
    versions: list[VersionReview]
    events: list[ItemEvent]
    is_secret: bool
    version_queryset: QuerySet[ItemVersion]
    # The author's display name and handle.
    author: list[FieldReview] = field(default_factory=list)


def _passages(text: str, redactions: list[Redaction]) -> list[Passage]:
    passages: list[Passage] = []
    at = 0
    for redaction in sorted(redactions, key=lambda r: (r.start, r.end)):
        if redaction.start < at or redaction.end > len(text):
            continue  # overlaps one already shown; it is still listed below the text
        passages.append(Passage(text[at : redaction.start]))
        passages.append(Passage(text[redaction.start : redaction.end], redaction))
        at = redaction.end
    passages.append(Passage(text[at:]))
    return [p for p in passages if p.text]


def _attachment_fields(
    version: ItemVersion, redactions: dict[tuple[str, int | None, int | None], list[Redaction]]
) -> list[FieldReview]:
    fields: list[FieldReview] = []
    for attachment in version.attachments.all():
        position = attachment.position
        number = {"number": position + 1}
        alt = redactions.get((Redaction.Field.ALT_TEXT, version.pk, position), [])
        name = redactions.get((Redaction.Field.FILE_NAME, version.pk, position), [])
        image = redactions.get((Redaction.Field.IMAGE, version.pk, position), [])
        fields.append(
            FieldReview(
                _("Attachment %(number)s, alt text") % number,
                Redaction.Field.ALT_TEXT,
                _passages(attachment.alt_text, alt),
                alt,
            )
        )
        fields.append(
            FieldReview(
                _("Attachment %(number)s, file name") % number,
                Redaction.Field.FILE_NAME,
                _passages(attachment.original_name, name),
                name,
            )
        )
        if image:
            fields.append(
                FieldReview(
                    _("Attachment %(number)s, image") % number, Redaction.Field.IMAGE, [], image
                )
            )
    return fields


def request_item_review(user: User, request_item: RequestItem) -> ItemReview:
    """The record's versions and author with their redactions marked, for the registrar (R25)."""
    _require_handler(user)
    item = get_item_for_user(user, request_item.item_id)
    redactions: dict[tuple[str, int | None, int | None], list[Redaction]] = {}
    for redaction in request_item.redactions.select_related("reviewed_by").order_by("start"):
        key = (redaction.field, redaction.version_id, redaction.position)
        redactions.setdefault(key, []).append(redaction)
    versions = item.versions.prefetch_related("attachments").order_by("number")
    name = redactions.get((Redaction.Field.AUTHOR_NAME, None, None), [])
    handle = redactions.get((Redaction.Field.AUTHOR_HANDLE, None, None), [])
    return ItemReview(
        item=item,
        versions=[
            VersionReview(
                version,
                _passages(
                    version.text or "", redactions.get((Redaction.Field.TEXT, version.pk, None), [])
                ),
                redactions.get((Redaction.Field.TEXT, version.pk, None), []),
                _attachment_fields(version, redactions),
            )
            for version in versions
        ],
        events=list(item.events.order_by("seq")),
        is_secret=bool(getattr(item, "is_secret", False)),
        version_queryset=item.versions.order_by("number"),
        author=[
            FieldReview(
                _("Author's display name"),
                Redaction.Field.AUTHOR_NAME,
                _passages(item.author_name, name),
                name,
            ),
            FieldReview(
                _("Author's handle"),
                Redaction.Field.AUTHOR_HANDLE,
                _passages(item.author_handle, handle),
                handle,
            ),
        ],
    )
