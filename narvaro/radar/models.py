"""The radar: what each inbound item is (question, critique, praise, other), the staff's labels
that teach the model, the trained model versions, and the alerts raised when critique spikes.

Everything here derives from the archive (`archive.Item` with direction "received") and can
be derived again, except the labels and the alerts' acknowledgements, which are people's work.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from narvaro.radar import rules


class Category(models.TextChoices):
    QUESTION = rules.QUESTION, _("Question")
    CRITIQUE = rules.CRITIQUE, _("Critique")
    PRAISE = rules.PRAISE, _("Praise")
    OTHER = rules.OTHER, _("Other")


class Classification(models.Model):
    """The radar's reading of one inbound archive item: its category and its flags."""

    class Source(models.TextChoices):
        RULES = "rules", _("Rules")
        MODEL = "model", _("Trained model")
        STAFF = "staff", _("Set by staff")

    item = models.OneToOneField(
        "archive.Item",
        verbose_name=_("item"),
        on_delete=models.CASCADE,
        related_name="radar_classification",
    )
    # Copied from the item so the radar counts an account's items without a join; indexed by
    # classification_account_at_idx.
    account = models.ForeignKey(
        "channels.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    at = models.DateTimeField(_("posted"))
    category = models.CharField(_("category"), max_length=10, choices=Category.choices)
    source = models.CharField(_("decided by"), max_length=10, choices=Source.choices)
    model_version = models.ForeignKey(
        "radar.ModelVersion",
        verbose_name=_("model version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Why: {"rule": ..., "words": [...]} from the rules, or the model's confidence.
    explanation = models.JSONField(_("why"), default=dict, blank=True)
    confidence = models.FloatField(_("confidence"), null=True, blank=True)
    # Flags (sensitive.FLAG_LABELS keys): identity numbers and sensitive-data categories.
    flags = models.JSONField(_("flags"), default=list, blank=True)
    restricted = models.BooleanField(_("access restricted"), default=False)
    version_number = models.PositiveIntegerField(_("version classified"), default=1)
    classified_at = models.DateTimeField(_("classified"), default=timezone.now)

    class Meta:
        verbose_name = _("classification")
        verbose_name_plural = _("classifications")
        indexes = [
            # The radar counts an account's items by time (baselines and windows).
            models.Index(fields=["account", "at"], name="classification_account_at_idx"),
            # The archive and the inbox ask which items are restricted.
            models.Index(
                fields=["item"],
                condition=models.Q(restricted=True),
                name="classification_restricted_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.category}"


class Label(models.Model):
    """A person's category for an item: each setting or correction is one label (the history).

    The model trains on each item's latest label.
    """

    item = models.ForeignKey(
        "archive.Item", verbose_name=_("item"), on_delete=models.CASCADE, related_name="+"
    )
    category = models.CharField(_("category"), max_length=10, choices=Category.choices)
    previous = models.CharField(
        _("category before"), max_length=10, choices=Category.choices, blank=True
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("set"), default=timezone.now)

    class Meta:
        verbose_name = _("label")
        verbose_name_plural = _("labels")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Training reads the latest label of each item.
            models.Index(fields=["item", "-id"], name="label_item_latest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.category}"


class ModelVersion(models.Model):
    """One training of the classifier on the organisation's labels, with its evaluation.

    Scores are macro-F1 over held-out labels (stratified cross-validation: each label is
    predicted by a model that did not see it), for the model and for the rules on the same
    labels. The model is used (`active`) only when it beats the rules. The fitted model is kept
    as joblib bytes with their SHA-256, checked before loading.
    """

    class Status(models.TextChoices):
        TRAINED = "trained", _("Trained")
        TOO_FEW = "too_few", _("Too few labels")
        FAILED = "failed", _("Failed")

    created_at = models.DateTimeField(_("trained"), default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    message = models.CharField(_("message"), max_length=500, blank=True)
    label_count = models.PositiveIntegerField(_("labels"), default=0)
    last_label_id = models.PositiveBigIntegerField(_("last label"), default=0)
    folds = models.PositiveSmallIntegerField(_("cross-validation folds"), default=0)
    model_f1 = models.FloatField(_("model macro-F1"), null=True, blank=True)
    rules_f1 = models.FloatField(_("rules macro-F1"), null=True, blank=True)
    # {"labels": [...], "model": [[...]], "rules": [[...]]}: rows are the true category.
    confusion = models.JSONField(_("confusion matrices"), default=dict, blank=True)
    class_counts = models.JSONField(_("labels per category"), default=dict, blank=True)
    active = models.BooleanField(_("in use"), default=False)
    # How many items changed category when this model came into use (items_reclassify).
    reclassified = models.PositiveIntegerField(_("items reclassified"), null=True, blank=True)
    model_bytes = models.BinaryField(_("fitted model"), null=True, blank=True, editable=False)
    # HMAC-SHA256 of `model_bytes` keyed by the SECRET_KEY, checked before unpickling.
    signature = models.CharField(_("signature of the fitted model"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one model is in use.
            models.UniqueConstraint(
                fields=["active"], condition=models.Q(active=True), name="modelversion_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.status}"


class Alert(models.Model):
    """An improbable rise in inbound volume or critique on an account or a unit.

    One alert covers one burst: while the burst goes on, later evaluations update this alert
    (`last_seen_at`, the items) instead of raising another.
    """

    class Scope(models.TextChoices):
        ACCOUNT = "account", _("Account")
        UNIT = "unit", _("Unit")

    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    account = models.ForeignKey(
        "channels.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    unit = models.ForeignKey(
        "organisation.Unit", verbose_name=_("unit"), on_delete=models.CASCADE, related_name="+"
    )
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    window_start = models.DateTimeField(_("window start"))
    window_end = models.DateTimeField(_("window end"))
    volume_spike = models.BooleanField(_("volume spike"), default=False)
    critique_spike = models.BooleanField(_("critique spike"), default=False)
    observed = models.PositiveIntegerField(_("items in the window"))
    expected = models.FloatField(_("items expected"))
    volume_p = models.FloatField(_("p-value of the volume"))
    critique_observed = models.PositiveIntegerField(_("critique in the window"))
    critique_expected_share = models.FloatField(_("critique share expected"))
    critique_p = models.FloatField(_("p-value of the critique share"))
    items = models.ManyToManyField(
        "archive.Item", verbose_name=_("items"), related_name="+", blank=True
    )
    emailed_to = models.JSONField(_("e-mailed to"), default=list, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-raised_at", "-id"]
        indexes = [
            # The alert list per unit, newest first; the "ongoing burst" lookup.
            models.Index(fields=["unit", "-raised_at"], name="alert_unit_raised_idx"),
            models.Index(fields=["account", "-last_seen_at"], name="alert_account_seen_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.account_id or self.unit_id} {self.raised_at:%Y-%m-%d %H:%M}"
