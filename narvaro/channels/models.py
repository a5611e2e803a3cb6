"""The channel register: the organisation's official accounts and their comment policies."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
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


class Connection(TimeStampedModel):
    """A live connection of a registered account to its platform: credentials and capture state.

    The credentials are encrypted at rest (`channels.tokens`) and never shown again after
    they are entered. The cursor is the connector's own bookmark (`connectors.base`);
    harvesting resumes from it, so a reconnect keeps every earlier record and the cursor.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Capturing")
        RECONNECT = "reconnect", _("Reconnect needed")
        PAUSED = "paused", _("Paused")

    account = models.OneToOneField(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="connection"
    )
    base_url = models.URLField(_("instance or PDS address"))
    credentials_encrypted = models.TextField(_("encrypted credentials"), editable=False)
    platform_account_id = models.CharField(_("platform account id"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    cursor = models.JSONField(_("cursor"), default=dict, blank=True)
    last_attempt_at = models.DateTimeField(_("last harvest attempt"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last successful harvest"), null=True, blank=True)
    next_run_at = models.DateTimeField(_("next harvest"), null=True, blank=True, db_index=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    token_changed_at = models.DateTimeField(_("credentials changed"), null=True, blank=True)
    stream_connected_at = models.DateTimeField(
        _("live stream connected since"),
        null=True,
        blank=True,
        help_text=_("Set while `narvaro channels stream` holds the platform's push stream open."),
    )

    class Meta:
        verbose_name = _("connection")
        verbose_name_plural = _("connections")

    def __str__(self) -> str:
        return f"{self.account} ({self.get_status_display()})"


class CaptureGap(models.Model):
    """A window in which capture failed: open until a harvest succeeds, then recovered or lost.

    `start` is the end of the last successful harvest (what is known to be captured), `end`
    the start of the harvest that succeeded again. Recovered means the back-fill reached
    back over the whole window; lost means the platform no longer gives what was in it.
    """

    class Reason(models.TextChoices):
        AUTH = "auth", _("Token revoked or expired")
        UNAVAILABLE = "unavailable", _("Platform unavailable")
        RATE_LIMITED = "rate_limited", _("Rate-limited past the window")
        MALFORMED = "malformed", _("Unreadable answers from the platform")
        ERROR = "error", _("Capture error")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RECOVERED = "recovered", _("Recovered")
        LOST = "lost", _("Permanently lost")

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="capture_gaps"
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    failures = models.PositiveIntegerField(_("failed attempts"), default=1)
    opened_at = models.DateTimeField(_("recorded"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("capture gap")
        verbose_name_plural = _("capture gaps")
        ordering = ["-start"]
        constraints = [
            # At most one open gap per account: later failures extend it.
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status="open"),
                name="capturegap_one_open_per_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.start:%Y-%m-%d %H:%M} – {self.get_status_display()}"


class PlatformAction(models.Model):
    """An action taken on the platform (publish, reply, delete, block, report) and its outcome.

    A failed action stays failed with the platform's error; only a sent action has a
    remote id and a capture in the archive.
    """

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="actions"
    )
    action = models.CharField(_("action"), max_length=20)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    target = models.CharField(_("target"), max_length=500, blank=True)
    remote_id = models.CharField(_("platform id"), max_length=500, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    request = models.JSONField(_("what was asked"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("platform action")
        verbose_name_plural = _("platform actions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} {self.get_status_display()}"


class OAuthClient(models.Model):
    """Narvaro's app registration on one Mastodon instance, reused by every sign-in there.

    Registered once per instance and redirect address (the address is part of the
    registration). The client secret is encrypted like the account tokens.
    """

    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    base_url = models.URLField(_("instance address"))
    redirect_uri = models.URLField(_("redirect address"), max_length=500)
    client_id = models.CharField(_("client id"), max_length=200)
    client_secret_encrypted = models.TextField(_("encrypted client secret"), editable=False)
    scopes = models.CharField(_("scopes"), max_length=200)
    created_at = models.DateTimeField(_("registered"), default=timezone.now)

    class Meta:
        verbose_name = _("app registration")
        verbose_name_plural = _("app registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "base_url", "redirect_uri", "scopes"],
                name="oauthclient_unique_registration",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform} {self.base_url}"
