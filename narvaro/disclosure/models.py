"""Requests for public records (begäran om allmän handling) and what is released (R23–R26).

A `RecordsRequest` is logged by a registrar when someone asks to see records. The clock runs
from `received_at`. The registrar compiles archived items into it (`RequestItem`), decides per
item (release, release in part, withhold, with the legal ground), reviews the redactions of
the disclosure copy (`Redaction`), and releases in one or more `Delivery` stages, each with
its files (`DeliveryFile`: the printout, the electronic copy, the decision document).

The archive itself is never changed by any of this: redactions are spans applied to the
rendered output only.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from narvaro.core.models import TimeStampedModel

# Common grounds for secrecy in a social-media archive. The registrar may also write one.
LEGAL_GROUNDS = [
    ("OSL 21 kap. 7 §", _("OSL 21 kap. 7 § – personal data processed in breach of the GDPR")),
    ("OSL 21 kap. 1 §", _("OSL 21 kap. 1 § – health and sexual life")),
    ("OSL 21 kap. 3 §", _("OSL 21 kap. 3 § – address and contact details (protected identity)")),
    ("OSL 26 kap. 1 §", _("OSL 26 kap. 1 § – social services")),
    ("OSL 23 kap. 1 §", _("OSL 23 kap. 1 § – pre-school and school pupils")),
    ("OSL 25 kap. 1 §", _("OSL 25 kap. 1 § – health and medical care")),
    ("OSL 18 kap. 1 §", _("OSL 18 kap. 1 § – crime prevention and investigation")),
    ("OSL 31 kap. 16 §", _("OSL 31 kap. 16 § – business relations with the authority")),
]


class RecordsRequest(TimeStampedModel):
    """A request to see public records, from receipt to the last delivery.

    The requester may stay anonymous (TF 2 kap. 18 §): nothing about them is required beyond
    what the chosen delivery route needs, and their purpose is never asked (R26).
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")
        VISIT = "visit", _("In person")
        LETTER = "letter", _("Letter")
        SOCIAL = "social", _("Social media")
        WEB = "web", _("Web form")
        OTHER = "other", _("Other")

    class Route(models.TextChoices):
        ON_SITE = "on_site", _("Read on site")
        COLLECT = "collect", _("Copy collected in person")
        POST = "post", _("Copy by post")
        EMAIL = "email", _("Copy by e-mail")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    received_at = models.DateTimeField(_("received"), default=timezone.now)
    channel = models.CharField(_("received by"), max_length=10, choices=Channel.choices)
    scope = models.TextField(
        _("what is asked for"), help_text=_("The request in the requester's own words.")
    )
    delivery_route = models.CharField(_("delivery"), max_length=10, choices=Route.choices)
    delivery_address = models.CharField(
        _("where to deliver"),
        max_length=500,
        blank=True,
        help_text=_("Only what the delivery needs, e.g. an e-mail or postal address."),
    )
    requester_name = models.CharField(
        _("requester's name"),
        max_length=300,
        blank=True,
        help_text=_("Optional: anyone may ask anonymously."),
    )
    electronic_copy = models.BooleanField(
        _("electronic copy (PDF/A, CSV, JSON)"),
        default=False,
        help_text=_("Besides the printout, if the authority agrees to give one."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("request for public records")
        verbose_name_plural = _("requests for public records")
        ordering = ["-received_at", "-id"]
        indexes = [
            # The request list shows open requests; legal holds read their items.
            models.Index(fields=["status", "received_at"], name="disclosure_request_status_idx"),
        ]

    def __str__(self) -> str:
        return _("Request %(number)s") % {"number": self.pk}

    def get_absolute_url(self) -> str:
        return reverse("disclosure:request_detail", args=[self.pk])

    def day_end(self, day: int) -> dt.datetime:
        """The end (local midnight) of working day `day` of the request (see `clock`)."""
        from narvaro.disclosure.clock import day_end

        return day_end(self.received_at, day)


class Decision(models.TextChoices):
    PENDING = "", _("Not decided")
    RELEASE = "release", _("Release")
    PARTLY = "partly", _("Release in part")
    WITHHOLD = "withhold", _("Withhold")


class Delivery(models.Model):
    """One release stage of a request: what was decided and sent together (R23).

    Its files are rendered by a background task (`tasks.delivery_render`): the stage is
    `queued`, then `rendering`, then `ready` once every file is stored, or `failed` with the
    error (nothing stored; a registrar retries it). Only a ready stage counts as delivered.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to be made")
        RENDERING = "rendering", _("Being made")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    # Statuses of a stage whose files are still to come.
    PENDING = frozenset({Status.QUEUED, Status.RENDERING})
    # A stage rendering for longer than this lost its worker (a restart): it may be retried.
    STALE_AFTER = dt.timedelta(minutes=30)
    # A stalled stage is queued again on its own this many times in all, then marked failed
    # (a render that kills its worker every time must not loop for ever).
    MAX_RENDER_ATTEMPTS = 2

    request = models.ForeignKey(RecordsRequest, on_delete=models.PROTECT, related_name="deliveries")
    number = models.PositiveIntegerField(_("stage"))
    created_at = models.DateTimeField(_("made"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    language = models.CharField(_("language"), max_length=10, default="sv")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    error = models.TextField(_("error"), blank=True)
    rendered_at = models.DateTimeField(_("files made"), null=True, blank=True)
    render_started_at = models.DateTimeField(_("rendering started"), null=True, blank=True)
    render_attempts = models.PositiveSmallIntegerField(
        _("renderings started"),
        default=0,
        help_text=_("Since it was made or last retried by a registrar."),
    )

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["request", "number"]
        constraints = [
            models.UniqueConstraint(fields=["request", "number"], name="delivery_unique_number"),
        ]

    def __str__(self) -> str:
        return _("Delivery %(number)s") % {"number": self.number}

    @property
    def stalled(self) -> bool:
        """Rendering for longer than any render takes: its worker has stopped."""
        return (
            self.status == self.Status.RENDERING
            and self.render_started_at is not None
            and timezone.now() - self.render_started_at > self.STALE_AFTER
        )

    @property
    def retryable(self) -> bool:
        return self.status == self.Status.FAILED or self.stalled


class RequestItem(models.Model):
    """An archived item compiled into a request, with the decision on it."""

    request = models.ForeignKey(RecordsRequest, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(
        "archive.Item", verbose_name=_("record"), on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(_("added"), default=timezone.now)
    # The sensitive-data categories (radar.sensitive.SENSITIVE_CATEGORIES keys) named by the
    # words of the search that compiled the record, if any (R26). Only the categories are
    # kept: the words themselves may name a person.
    search_categories = models.JSONField(
        _("sensitive data the search named"), default=list, blank=True
    )
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    legal_ground = models.CharField(_("legal ground"), max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    delivery = models.ForeignKey(
        Delivery,
        verbose_name=_("delivered in"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="items",
    )

    class Meta:
        verbose_name = _("requested record")
        verbose_name_plural = _("requested records")
        ordering = ["request", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "item"], name="requestitem_unique_item"),
        ]

    def __str__(self) -> str:
        return f"{self.request} · {self.item_id}"


class Redaction(models.Model):
    """A span of something the disclosure copy shows, to mask in it (R25, R33).

    What is masked (`field`): a version's text, an attachment's alt text or file name (the
    version and the attachment's `position`), the whole image of an attachment, or the
    author's display name or handle (the record's; no version). Suggested automatically
    (personnummer, e-mail, phone) or added by the registrar, then accepted or rejected with
    its legal ground. The masked text itself is not stored again: the span points into the
    archived value, which never changes.
    """

    class Field(models.TextChoices):
        TEXT = "text", _("text")
        ALT_TEXT = "alt_text", _("alt text")
        FILE_NAME = "file_name", _("file name")
        IMAGE = "image", _("image")
        AUTHOR_NAME = "author_name", _("author's display name")
        AUTHOR_HANDLE = "author_handle", _("author's handle")

    # Fields of one attachment of a version, and fields of the record rather than a version.
    ATTACHMENT_FIELDS = frozenset({Field.ALT_TEXT, Field.FILE_NAME, Field.IMAGE})
    ITEM_FIELDS = frozenset({Field.AUTHOR_NAME, Field.AUTHOR_HANDLE})

    class Kind(models.TextChoices):
        PERSONNUMMER = "pnr", _("Personal identity number")
        COORDINATION = "samordning", _("Coordination number")
        EMAIL = "email", _("E-mail address")
        PHONE = "phone", _("Phone number")
        MANUAL = "manual", _("Chosen by the registrar")

    class Status(models.TextChoices):
        SUGGESTED = "suggested", _("Suggested")
        ACCEPTED = "accepted", _("Masked")
        REJECTED = "rejected", _("Not masked")

    request_item = models.ForeignKey(
        RequestItem, on_delete=models.CASCADE, related_name="redactions"
    )
    field = models.CharField(
        _("masked in"), max_length=20, choices=Field.choices, default=Field.TEXT
    )
    version = models.ForeignKey(
        "archive.ItemVersion",
        verbose_name=_("version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    position = models.PositiveSmallIntegerField(_("attachment position"), null=True, blank=True)
    start = models.PositiveIntegerField(_("from character"))
    end = models.PositiveIntegerField(_("to character"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SUGGESTED
    )
    legal_ground = models.CharField(_("legal ground"), max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)

    class Meta:
        verbose_name = _("redaction")
        verbose_name_plural = _("redactions")
        ordering = ["request_item", "version", "position", "field", "start"]
        constraints = [
            models.UniqueConstraint(
                "request_item",
                "field",
                Coalesce("version", models.Value(0)),
                Coalesce("position", models.Value(0)),
                "start",
                "end",
                name="redaction_unique_span",
            ),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="redaction_nonempty"
            ),
            # Text: a version. An attachment's field: a version and a position. The author:
            # neither (the record's).
            models.CheckConstraint(
                condition=(
                    models.Q(field="text", version__isnull=False, position__isnull=True)
                    | models.Q(
                        field__in=["alt_text", "file_name", "image"],
                        version__isnull=False,
                        position__isnull=False,
                    )
                    | models.Q(
                        field__in=["author_name", "author_handle"],
                        version__isnull=True,
                        position__isnull=True,
                    )
                ),
                name="redaction_target",
            ),
        ]

    def __str__(self) -> str:
        where = self.field if self.position is None else f"{self.field}#{self.position}"
        return f"{self.version_id or self.request_item_id}:{where}[{self.start}:{self.end}]"


class DeliveryFile(models.Model):
    """A file made for a delivery, kept as delivered (with its SHA-256)."""

    class Kind(models.TextChoices):
        PRINTOUT = "printout", _("Printout (PDF)")
        PDF_A = "pdfa", _("Electronic copy (PDF/A)")
        CSV = "csv", _("Electronic copy (CSV)")
        JSON = "json", _("Electronic copy (JSON)")
        DECISION = "decision", _("Decision (PDF)")

    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="files")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    storage_name = models.CharField(_("stored as"), max_length=300)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("delivery file")
        verbose_name_plural = _("delivery files")
        ordering = ["delivery", "id"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "kind"], name="deliveryfile_unique_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.delivery} {self.kind}"

    @property
    def filename(self) -> str:
        ext = {"csv": "csv", "json": "json"}.get(self.kind, "pdf")
        return f"request-{self.delivery.request_id}-{self.delivery.number}-{self.kind}.{ext}"
