"""The channel register: the organisation's official accounts and their comment policies."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from narvaro.core.models import TimeStampedModel


class Platform(models.TextChoices):
    MASTODON = "mastodon", "Mastodon"
    BLUESKY = "bluesky", "Bluesky"
    X = "x", "X"
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    YOUTUBE = "youtube", "YouTube"
    LINKEDIN = "linkedin", "LinkedIn"
    OTHER = "other", _("Other")


class CommentPolicy(TimeStampedModel):
    """A comment policy (kommentarspolicy): the rules for what the public may post (R6).

    The text is versioned; accounts point at the version they link to, and a version that
    has never been published cannot be the policy of an active account.
    """

    name = models.CharField(_("name"), max_length=200)
    unit = models.ForeignKey(
        "organisation.Unit",
        verbose_name=_("owning unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="comment_policies",
        help_text=_("Leave empty for a policy of the whole organisation."),
    )

    class Meta:
        verbose_name = _("comment policy")
        verbose_name_plural = _("comment policies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("channels:policy_detail", args=[self.pk])


class CommentPolicyVersion(models.Model):
    """One immutable text of a comment policy. Editing a policy adds a version."""

    policy = models.ForeignKey(
        CommentPolicy,
        verbose_name=_("policy"),
        on_delete=models.PROTECT,
        related_name="versions",
    )
    number = models.PositiveIntegerField(_("version"))
    text = models.TextField(_("text"))
    change_note = models.CharField(_("what changed"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("written"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(
        _("published"),
        null=True,
        blank=True,
        help_text=_(
            "When this version was made public (on the website and linked from the accounts)."
        ),
    )
    published_url = models.URLField(_("public address"), blank=True)

    class Meta:
        verbose_name = _("comment policy version")
        verbose_name_plural = _("comment policy versions")
        ordering = ["policy", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "number"], name="commentpolicyversion_unique_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy.name} v{self.number}"


class Account(TimeStampedModel):
    """An official account on a platform, owned by a unit: one row of the channel register (R1).

    The lifecycle is proposed → active → closing → closed. An account becomes active only
    when every register field is filled in and its comment policy version is published.
    """

    class Kind(models.TextChoices):
        UNIT = "unit", _("Official unit account")
        ROLE = "role", _("Official role account of a named officeholder")

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACTIVE = "active", _("Active")
        CLOSING = "closing", _("Closing")
        CLOSED = "closed", _("Closed")

    class Verification(models.TextChoices):
        UNKNOWN = "", _("Not checked")
        VERIFIED = "verified", _("Verified on the platform")
        UNVERIFIED = "unverified", _("Not verified on the platform")

    unit = models.ForeignKey(
        "organisation.Unit",
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    handle = models.CharField(
        _("handle"),
        max_length=200,
        help_text=_(
            "As the platform writes it, e.g. @bibliotek@mastodon.example or bibliotek.example.se"
        ),
    )
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    profile_url = models.URLField(_("profile address"), blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.UNIT)
    officeholder_title = models.CharField(
        _("office"),
        max_length=200,
        blank=True,
        help_text=_("For a role account: the office, e.g. municipal director."),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PROPOSED, db_index=True
    )
    purpose = models.TextField(_("purpose"), blank=True)
    audience = models.TextField(_("audience"), blank=True)
    responsible = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible staff"),
        blank=True,
        related_name="responsible_for_accounts",
    )
    moderators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moderators"),
        blank=True,
        related_name="moderated_accounts",
    )
    opened_on = models.DateField(_("opened"), null=True, blank=True)
    closed_on = models.DateField(_("closed"), null=True, blank=True)
    retention_decision_ref = models.CharField(
        _("retention decision"),
        max_length=200,
        blank=True,
        help_text=_("Reference of the gallring decision that applies, e.g. KS 2024/113."),
    )
    dpia_ref = models.CharField(
        _("data protection assessment"),
        max_length=200,
        blank=True,
        help_text=_("Reference of the personal data assessment or DPIA, e.g. DS 2024/7."),
    )
    comment_policy_version = models.ForeignKey(
        CommentPolicyVersion,
        verbose_name=_("comment policy"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    verification = models.CharField(
        _("verification"), max_length=12, choices=Verification.choices, blank=True
    )

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["platform", "handle"]
        constraints = [
            # The archive keys captures on platform + handle; a handle is registered once.
            models.UniqueConstraint(fields=["platform", "handle"], name="account_unique_handle"),
        ]
        indexes = [
            # The account list filters by unit and state.
            models.Index(fields=["unit", "state"], name="account_unit_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.handle}"

    def get_absolute_url(self) -> str:
        return reverse("channels:account_detail", args=[self.pk])


class AccountPolicyPublication(models.Model):
    """Which comment policy version was published on an account, and from when (R6)."""

    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="policy_publications",
    )
    version = models.ForeignKey(
        CommentPolicyVersion,
        verbose_name=_("policy version"),
        on_delete=models.PROTECT,
        related_name="publications",
    )
    published_on = models.DateField(_("linked from the account since"))
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("comment policy publication")
        verbose_name_plural = _("comment policy publications")
        ordering = ["account", "-published_on", "-id"]

    def __str__(self) -> str:
        return f"{self.account} – {self.version} ({self.published_on})"
