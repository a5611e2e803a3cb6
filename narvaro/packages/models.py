"""Archival packages made of the archive, snapshots before closing, and restored chains.

A `PackageExport` is one BagIt or E-ARK package (R29, R31), made from the web or the command
line. An `AccountSnapshot` is the final (or periodic) record of an account: a PDF/A rendering
and a full package (R11). A `RestoredChainEntry` keeps, for an archive restored from a package,
the original chain values the archive's capture service stamps anew (see
docs/archive-format.md, "Restoring a package").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from narvaro.core.models import TimeStampedModel


class PackageExport(TimeStampedModel):
    """One archival package: what it holds, who made it, and the file with its digest."""

    class Kind(models.TextChoices):
        BAGIT = "bagit", _("BagIt (RFC 8493)")
        EARK = "eark", _("E-ARK SIP (FGS Paketstruktur 2.0)")

    class Status(models.TextChoices):
        RUNNING = "running", _("Being made")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("format"), max_length=10, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    account = models.ForeignKey(
        "channels.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="package_exports",
    )
    unit = models.ForeignKey(
        "organisation.Unit",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    date_from = models.DateField(_("from"), null=True, blank=True)
    date_to = models.DateField(_("to"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Where the package went: a storage name (web) or a path on the server (command line).
    storage_name = models.CharField(_("stored as"), max_length=500, blank=True)
    path = models.CharField(_("written to"), max_length=1000, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, blank=True)
    counts = models.JSONField(_("contents"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("package export")
        verbose_name_plural = _("package exports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def item_count(self) -> int | None:
        """How many items the finished package holds."""
        count = self.counts.get("items")
        return count if isinstance(count, int) else None

    @property
    def file_name(self) -> str:
        stamp = self.created_at.strftime("%Y%m%d-%H%M%S") if self.created_at else "new"
        return f"narvaro-{self.kind}-{self.pk}-{stamp}.zip"


class AccountSnapshot(models.Model):
    """A snapshot of an account: its PDF/A rendering and a full package (R11).

    `chain_seq` is the account's chain head when the snapshot was made, so closing can tell
    whether anything was archived after it.
    """

    account = models.ForeignKey(
        "channels.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="snapshots",
    )
    made_at = models.DateTimeField(_("made"), default=timezone.now)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("made by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    export = models.ForeignKey(
        PackageExport, verbose_name=_("package"), on_delete=models.PROTECT, related_name="+"
    )
    chain_seq = models.PositiveBigIntegerField(_("chain entries covered"))
    # [{"name", "sha256", "size", "kind"}] for the package and the rendering.
    files = models.JSONField(_("files"), default=list)

    class Meta:
        verbose_name = _("account snapshot")
        verbose_name_plural = _("account snapshots")
        ordering = ["-made_at", "-id"]
        indexes = [
            # The account page and the closing check read an account's latest snapshot.
            models.Index(fields=["account", "-made_at"], name="snapshot_account_made_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.made_at:%Y-%m-%d %H:%M}"


class RestoredChainEntry(models.Model):
    """The original chain values of one entry restored from a package.

    The archive's capture service gives every entry it stores its own `recorded_at` (and an
    item its `first_seen_at`) and so a new chain digest; these rows keep the values the
    exporting archive had, verified against the package's chain before anything is stored.
    """

    account = models.ForeignKey(
        "channels.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="+"
    )
    seq = models.PositiveBigIntegerField(_("sequence in the restored chain"))
    entry_type = models.CharField(_("entry"), max_length=10)  # "version" or "event"
    original_seq = models.PositiveBigIntegerField(_("original sequence"))
    recorded_at = models.DateTimeField(_("originally recorded"))
    chain_digest = models.CharField(_("original chain digest"), max_length=64)
    previous_chain_digest = models.CharField(_("original previous digest"), max_length=64)
    # Set on the entry that first stored its item: the item's original first_seen_at.
    item_first_seen_at = models.DateTimeField(_("item first seen"), null=True, blank=True)
    actor_name = models.CharField(_("by"), max_length=300, blank=True)
    original_id = models.PositiveBigIntegerField(_("original id"))
    original_item_id = models.PositiveBigIntegerField(_("original item id"))
    package = models.CharField(_("package"), max_length=200)
    restored_at = models.DateTimeField(_("restored"), default=timezone.now)

    class Meta:
        verbose_name = _("restored chain entry")
        verbose_name_plural = _("restored chain entries")
        ordering = ["account", "seq"]
        constraints = [
            # One original per entry of the restored chain.
            models.UniqueConstraint(fields=["account", "seq"], name="restoredentry_unique_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.seq} ← {self.original_seq}"
