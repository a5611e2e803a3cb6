"""Records management on top of the archive: gallring, legal holds, erasure requests, registration.

Nothing here stores archived content. A `RetentionRule` says which records may be destroyed
after how long under which gallring decision (R27); a `DisposalRun` lists what a rule would
dispose of (a dry run) until someone commits it; every disposed version gets a
`DisposalLogEntry`, kept for ever. A `LegalHold` keeps what it covers out of every run. An
`ErasureRequest` records a GDPR art. 17 request and its decision (R28). A `RegistryEntry` is
the registration (diarieföring) of an item or thread as a case or as secret (R13).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from narvaro.archive.models import Kind
from narvaro.core.models import TimeStampedModel


class RecordClass(models.TextChoices):
    """The classes of records a gallring decision can name (see selectors.record_class_items)."""

    MINOR_COMMENTS = "minor_comments", _("Received comments of minor importance")
    REMOVED_POSTS = "removed_posts", _("Removed posts")
    DIRECT_MESSAGES = "direct_messages", _("Direct messages that are not cases")
    WEBSITE_DUPLICATES = "website_duplicates", _("Own posts that duplicate the website")


class RetentionRule(TimeStampedModel):
    """A gallring rule: records of one class, narrowed by filters, may go after a period (R27).

    With no active rule nothing is ever destroyed. A rule is never edited or deleted once
    made (runs and the log refer to it); it is retired by deactivating it.
    """

    name = models.CharField(_("name"), max_length=200)
    record_class = models.CharField(_("record class"), max_length=30, choices=RecordClass.choices)
    decision_reference = models.CharField(
        _("gallring decision"),
        max_length=300,
        help_text=_(
            "The legal basis: the gallring decision or application decision (tillämpningsbeslut) "
            "and its registration number, e.g. “KS 2025/118, dokumenthanteringsplan 4.2”."
        ),
    )
    period_days = models.PositiveIntegerField(
        _("retention period in days"),
        validators=[MinValueValidator(1)],
        help_text=_("Records older than this (by their date on the platform) may be disposed of."),
    )
    unit = models.ForeignKey(
        "organisation.Unit",
        verbose_name=_("only in unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Also covers the units below it. Empty: every unit."),
    )
    account = models.ForeignKey(
        "channels.Account",
        verbose_name=_("only on account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("only of kind"), max_length=10, choices=Kind.choices, blank=True)
    author = models.CharField(_("only by author"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        ordering = ["-active", "name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("retention:rule_detail", args=[self.pk])


class DisposalRun(models.Model):
    """One application of a rule: first a dry run (a list), then perhaps committed (R27)."""

    class State(models.TextChoices):
        DRY_RUN = "dry_run", _("Dry run, not committed")
        COMMITTED = "committed", _("Committed")

    rule = models.ForeignKey(
        RetentionRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="runs"
    )
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.DRY_RUN
    )
    cutoff = models.DateTimeField(_("records dated before"))
    created_at = models.DateTimeField(_("listed"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("listed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by_name = models.CharField(_("listed by (as recorded)"), max_length=300)
    committed_at = models.DateTimeField(_("committed"), null=True, blank=True)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("committed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    committed_by_name = models.CharField(
        _("committed by (as recorded)"), max_length=300, blank=True
    )
    item_count = models.PositiveIntegerField(_("items listed"), default=0)
    disposed_count = models.PositiveIntegerField(_("versions disposed of"), default=0)
    skipped_count = models.PositiveIntegerField(_("items skipped"), default=0)

    class Meta:
        verbose_name = _("disposal run")
        verbose_name_plural = _("disposal runs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.rule} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("retention:run_detail", args=[self.pk])

    @property
    def is_dry_run(self) -> bool:
        return self.state == self.State.DRY_RUN


class DisposalRunItem(models.Model):
    """An item a run listed, the versions it would dispose of, and what became of it."""

    class Outcome(models.TextChoices):
        LISTED = "listed", _("Listed")
        DISPOSED = "disposed", _("Disposed of")
        HELD = "held", _("Skipped: under a legal hold")
        GONE = "gone", _("Skipped: already disposed of")

    run = models.ForeignKey(
        DisposalRun, verbose_name=_("run"), on_delete=models.PROTECT, related_name="entries"
    )
    item = models.ForeignKey(
        "archive.Item", verbose_name=_("item"), on_delete=models.PROTECT, related_name="+"
    )
    version_ids = models.JSONField(_("versions"), default=list)
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=Outcome.choices, default=Outcome.LISTED
    )

    class Meta:
        verbose_name = _("listed item")
        verbose_name_plural = _("listed items")
        ordering = ["run", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "item"], name="disposalrunitem_unique_item"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.item_id}"


class DisposalLogEntry(models.Model):
    """The gallring log: one disposed version, when, under which decision, by whom. Kept for ever.

    The texts (`decision_reference`, `item_label`, `disposed_by_name`) are copies, so the log
    reads the same whatever happens to the rule or the person later.
    """

    run = models.ForeignKey(
        DisposalRun, verbose_name=_("run"), on_delete=models.PROTECT, related_name="log"
    )
    rule = models.ForeignKey(
        RetentionRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="+"
    )
    item = models.ForeignKey(
        "archive.Item", verbose_name=_("item"), on_delete=models.PROTECT, related_name="+"
    )
    version = models.ForeignKey(
        "archive.ItemVersion", verbose_name=_("version"), on_delete=models.PROTECT, related_name="+"
    )
    event = models.ForeignKey(
        "archive.ItemEvent",
        verbose_name=_("archive event"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    item_label = models.CharField(_("item"), max_length=300)
    version_number = models.PositiveIntegerField(_("version"))
    content_digest = models.CharField(_("content digest (SHA-256)"), max_length=64)
    record_class = models.CharField(_("record class"), max_length=30, choices=RecordClass.choices)
    decision_reference = models.CharField(_("gallring decision"), max_length=300)
    disposed_at = models.DateTimeField(_("disposed of"), default=timezone.now)
    disposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    disposed_by_name = models.CharField(_("by (as recorded)"), max_length=300)

    class Meta:
        verbose_name = _("gallring log entry")
        verbose_name_plural = _("gallring log")
        ordering = ["-disposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["version"], name="disposallog_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.item_label} v{self.version_number}"


class HoldScope(models.TextChoices):
    ITEM = "item", _("This item")
    THREAD = "thread", _("The whole thread")
    ACCOUNT = "account", _("Everything on an account")
    AUTHOR = "author", _("Everything by an author")


class LegalHold(TimeStampedModel):
    """Keeps what it covers out of every disposal until released (R27).

    A police report is a hold of its own kind, with the report's reference. Open requests
    for public records and registered cases hold their items without a row here.
    """

    class Kind(models.TextChoices):
        MANUAL = "manual", _("Manual hold")
        POLICE_REPORT = "police_report", _("Police report")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.MANUAL)
    scope = models.CharField(_("covers"), max_length=10, choices=HoldScope.choices)
    item = models.ForeignKey(
        "archive.Item",
        verbose_name=_("item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    account = models.ForeignKey(
        "channels.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    platform = models.CharField(_("platform"), max_length=20, blank=True)
    # The thread's id on the platform: the item's thread id, or its own id if it starts one.
    thread_key = models.CharField(_("thread"), max_length=200, blank=True)
    author_handle = models.CharField(_("author handle"), max_length=300, blank=True)
    reason = models.TextField(_("reason"))
    reference = models.CharField(
        _("reference"),
        max_length=200,
        blank=True,
        help_text=_("For a police report: the report's number."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("placed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    release_reason = models.TextField(_("reason for release"), blank=True)

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The hold check joins items to open holds by thread.
            models.Index(fields=["platform", "thread_key"], name="legalhold_thread_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.covers_label}"

    @property
    def is_open(self) -> bool:
        return self.released_at is None

    @property
    def covers_label(self) -> str:
        if self.scope == HoldScope.ACCOUNT:
            return str(self.account)
        if self.scope == HoldScope.AUTHOR:
            return self.author_handle
        if self.scope == HoldScope.THREAD:
            return f"{self.platform}:{self.thread_key}"
        return str(self.item)


class ErasureRequest(TimeStampedModel):
    """A request under GDPR art. 17 to erase personal data, and its recorded decision (R28)."""

    class Decision(models.TextChoices):
        NO_ERASURE = "no_erasure", _("No erasure from the archive")
        NO_ERASURE_HIDE = (
            "no_erasure_hide",
            _("No erasure from the archive; hidden on the platform"),
        )
        ERASE_BY_DISPOSAL = "erase_by_disposal", _("Erased through disposal under a gallring rule")

    received_at = models.DateTimeField(_("received"), default=timezone.now)
    requester = models.CharField(
        _("requester"),
        max_length=300,
        blank=True,
        help_text=_("Optional: the person's name or handle, as far as needed to answer."),
    )
    contact = models.CharField(_("how to answer"), max_length=300, blank=True)
    scope = models.TextField(_("what the request covers"))
    item = models.ForeignKey(
        "archive.Item",
        verbose_name=_("record"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision = models.CharField(_("decision"), max_length=30, choices=Decision.choices, blank=True)
    reasons = models.TextField(_("reasons"), blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requester_told_on = models.DateField(_("requester told on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("erasure request")
        verbose_name_plural = _("erasure requests")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d} {self.requester or '–'}"

    def get_absolute_url(self) -> str:
        return reverse("retention:erasure_detail", args=[self.pk])

    @property
    def is_decided(self) -> bool:
        return bool(self.decision)


class RegistryEntry(TimeStampedModel):
    """An item or thread registered (diariefört) as a case or as secret (R13).

    Secret always needs a registry reference (`case_number`); the database refuses one
    without. While a secret entry is not lifted, its items are shown only to registrars.
    """

    class Kind(models.TextChoices):
        CASE = "case", _("Case (ärende)")
        SECRET = "secret", _("Secret (sekretess)")

    class Scope(models.TextChoices):
        ITEM = "item", _("This item")
        THREAD = "thread", _("The whole thread")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    scope = models.CharField(_("covers"), max_length=10, choices=Scope.choices, default=Scope.ITEM)
    item = models.ForeignKey(
        "archive.Item", verbose_name=_("item"), on_delete=models.PROTECT, related_name="+"
    )
    platform = models.CharField(_("platform"), max_length=20)
    thread_key = models.CharField(_("thread"), max_length=200)
    received_on = models.DateField(_("date received"))
    sender = models.CharField(_("sender"), max_length=300)
    description = models.CharField(_("short description"), max_length=500)
    case_number = models.CharField(
        _("case number (diarienummer)"),
        max_length=100,
        blank=True,
        help_text=_("Required for secret records."),
    )
    officer = models.CharField(_("case officer"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lifted_at = models.DateTimeField(_("secrecy lifted"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lifted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lift_reason = models.TextField(_("reason for lifting"), blank=True)

    class Meta:
        verbose_name = _("registry entry")
        verbose_name_plural = _("registry entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            # R13: a secret flag cannot be saved without a registry reference.
            models.CheckConstraint(
                condition=~models.Q(kind="secret") | ~models.Q(case_number=""),
                name="registryentry_secret_has_case_number",
            ),
        ]
        indexes = [
            # The hold check finds registered threads by platform and thread id.
            models.Index(fields=["platform", "thread_key"], name="registryentry_thread_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_number or self.get_kind_display()} ({self.item})"

    def get_absolute_url(self) -> str:
        return reverse("retention:registry_detail", args=[self.pk])

    @property
    def is_lifted(self) -> bool:
        return self.lifted_at is not None
