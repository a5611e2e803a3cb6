"""Moderation of what the public posts on the organisation's accounts (R15–R22).

Every inbound item the archive captures gets a `QueueEntry` on its account's moderation queue.
A moderator either marks it reviewed or takes a `ModerationAction` (hide, delete, block,
report) with a reason from the legal taxonomy (`Reason`), a free text and the comment policy
version in force. The action's rendering of the item in its thread is stored before the
platform is touched (R17); the outcome is appended to the item's history in the archive,
where the item stays. Threats, hate speech and the like open an `EscalationTask` with an
evidence bundle and a police-report text (R20). `SupervisionAlert` rows are the monitor's
record of queues left unreviewed for 24 hours and for 7 days (R15).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReasonGroup(models.TextChoices):
    """The four groups of R16."""

    BBS = "bbs", _("Unlawful content (BBS Act, 5 §)")
    PERSONAL_DATA = "personal_data", _("Personal data")
    SECRECY = "secrecy", _("Secrecy")
    POLICY = "policy", _("Comment policy")


class Reason(models.TextChoices):
    """Why an item was moderated: the legal taxonomy of R16.

    The BBS group is the list of crimes in lag (1998:112) om ansvar för elektroniska
    anslagstavlor, 5 §, that the account holder must remove or otherwise stop spreading.
    """

    THREAT = "threat", _("Unlawful threat (olaga hot)")
    PRIVACY_INTRUSION = (
        "privacy_intrusion",
        _("Unlawful privacy intrusion (olaga integritetsintrång)"),
    )
    SEDITION = "sedition", _("Sedition (uppvigling)")
    HATE_SPEECH = "hate_speech", _("Agitation against a population group (hets mot folkgrupp)")
    CSAM = "csam", _("Child sexual abuse material (barnpornografibrott)")
    VIOLENCE = "violence", _("Unlawful depiction of violence (olaga våldsskildring)")
    TERRORISM = "terrorism", _("Public provocation, recruitment or training for terrorism")
    COPYRIGHT = "copyright", _("Obvious copyright infringement (upphovsrättsintrång)")
    INSULTING_DATA = "insulting_data", _("Insulting personal data")
    SENSITIVE_DATA = "sensitive_data", _("Sensitive personal data (GDPR art. 9 or 10)")
    PERSONNUMMER = "personnummer", _("Personal identity number (personnummer)")
    SECRET = "secret", _("Information covered by secrecy")
    PERSONAL_ATTACK = "personal_attack", _("Defamation or personal attack")
    HARASSMENT = "harassment", _("Harassment")
    SPAM = "spam", _("Spam")
    ADVERTISING = "advertising", _("Advertising or commercial content")
    OFF_TOPIC = "off_topic", _("Off topic")
    ABUSIVE = "abusive", _("Abusive or obscene language")
    OTHER = "other", _("Other breach of the comment policy")


REASON_GROUPS: dict[str, str] = {
    **dict.fromkeys(
        [
            Reason.THREAT,
            Reason.PRIVACY_INTRUSION,
            Reason.SEDITION,
            Reason.HATE_SPEECH,
            Reason.CSAM,
            Reason.VIOLENCE,
            Reason.TERRORISM,
            Reason.COPYRIGHT,
        ],
        ReasonGroup.BBS,
    ),
    **dict.fromkeys(
        [Reason.INSULTING_DATA, Reason.SENSITIVE_DATA, Reason.PERSONNUMMER],
        ReasonGroup.PERSONAL_DATA,
    ),
    Reason.SECRET: ReasonGroup.SECRECY,
    **dict.fromkeys(
        [
            Reason.PERSONAL_ATTACK,
            Reason.HARASSMENT,
            Reason.SPAM,
            Reason.ADVERTISING,
            Reason.OFF_TOPIC,
            Reason.ABUSIVE,
            Reason.OTHER,
        ],
        ReasonGroup.POLICY,
    ),
}
# Crimes that open an escalation task with an evidence bundle and a police report (R19, R20).
ESCALATING_REASONS = frozenset(
    {
        Reason.THREAT,
        Reason.HATE_SPEECH,
        Reason.PRIVACY_INTRUSION,
        Reason.SEDITION,
        Reason.TERRORISM,
        Reason.CSAM,
    }
)
# Reasons whose media are never copied into a rendering or shown, and whose records only
# registrars and the unit's managers may open (R19).
RESTRICTED_REASONS = frozenset({Reason.CSAM})


class Action(models.TextChoices):
    HIDE = "hide", _("Hide")
    DELETE = "delete", _("Delete")
    BLOCK = "block", _("Block the author")
    REPORT = "report", _("Report to the platform")


class QueueEntry(models.Model):
    """An inbound item waiting for (or having had) a moderator's look.

    Derived from the archive feed (`receivers`, `services.queue_fill`), so it may be rebuilt;
    the decisions themselves are `ModerationAction` rows and the audit log.
    """

    class Outcome(models.TextChoices):
        PENDING = "", _("Not reviewed")
        REVIEWED = "reviewed", _("Reviewed, no action")
        MODERATED = "moderated", _("Moderated")

    item = models.OneToOneField(
        "archive.Item",
        verbose_name=_("item"),
        on_delete=models.PROTECT,
        related_name="moderation_entry",
    )
    # Indexed by queueentry_pending_idx and queueentry_account_idx (account first).
    account = models.ForeignKey(
        "channels.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="moderation_entries",
        db_index=False,
    )
    posted_at = models.DateTimeField(_("posted"))
    seen_at = models.DateTimeField(_("first seen by Narvaro"))
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING, blank=True
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("moderation queue entry")
        verbose_name_plural = _("moderation queue entries")
        ordering = ["-posted_at", "-item_id"]
        indexes = [
            # The queue: an account's unreviewed items, newest first.
            models.Index(
                fields=["account", "-posted_at"],
                condition=models.Q(reviewed_at__isnull=True),
                name="queueentry_pending_idx",
            ),
            # The supervision monitor's last review per account.
            models.Index(fields=["account", "reviewed_at"], name="queueentry_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.item_id}"


class ModerationAction(models.Model):
    """One moderation decision on one item, with its reason, rendering and outcome (R16, R17)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("In progress")
        DONE = "done", _("Done on the platform")
        BY_HAND = "by_hand", _("Done by hand on the platform")
        FAILED = "failed", _("Failed on the platform")

    account = models.ForeignKey(
        "channels.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="moderation_actions",
    )
    item = models.ForeignKey(
        "archive.Item",
        verbose_name=_("item"),
        on_delete=models.PROTECT,
        related_name="moderation_actions",
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    reason = models.CharField(_("reason"), max_length=30, choices=Reason.choices)
    reason_text = models.TextField(_("explanation"))
    policy_version = models.ForeignKey(
        "channels.CommentPolicyVersion",
        verbose_name=_("comment policy in force"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    error = models.CharField(_("platform error"), max_length=500, blank=True)
    platform_action = models.ForeignKey(
        "channels.PlatformAction",
        verbose_name=_("platform action"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    item_event = models.ForeignKey(
        "archive.ItemEvent",
        verbose_name=_("archive event"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    block_until = models.DateField(_("block until"), null=True, blank=True)
    rendering_sha256 = models.CharField(_("rendering SHA-256"), max_length=64)
    rendering_name = models.CharField(_("rendering stored as"), max_length=300)
    rendering_size = models.PositiveBigIntegerField(_("rendering size in bytes"))
    restricted = models.BooleanField(
        _("restricted"),
        default=False,
        help_text=_(
            "Child sexual abuse material: no media kept or shown; registrars and managers only."
        ),
    )
    archive_holds_media = models.BooleanField(
        _("the archive holds media of the item"), default=False
    )
    notice_text = models.TextField(_("notice to the author"), blank=True)
    notice_action = models.ForeignKey(
        "channels.PlatformAction",
        verbose_name=_("notice sent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("moderation action")
        verbose_name_plural = _("moderation actions")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The moderation log of an account, newest first.
            models.Index(fields=["account", "-created_at"], name="modaction_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.item_id} ({self.get_reason_display()})"

    def get_absolute_url(self) -> str:
        return reverse("moderation:action_detail", args=[self.pk])

    @property
    def reason_group(self) -> str:
        return REASON_GROUPS.get(self.reason, "")

    @property
    def failed(self) -> bool:
        return self.status == self.Status.FAILED


class EscalationTask(models.Model):
    """A crime to report to the police: evidence bundle, report text, the unit's managers (R20)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        REPORTED = "reported", _("Reported to the police")
        CLOSED = "closed", _("Closed without a police report")

    action = models.OneToOneField(
        ModerationAction,
        verbose_name=_("moderation action"),
        on_delete=models.PROTECT,
        related_name="escalation",
    )
    account = models.ForeignKey(
        "channels.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="escalations",
    )
    unit = models.ForeignKey(
        "organisation.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    assignees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), blank=True, related_name="+"
    )
    police_report = models.TextField(_("police report"))
    bundle_sha256 = models.CharField(_("evidence bundle SHA-256"), max_length=64)
    bundle_name = models.CharField(_("evidence bundle stored as"), max_length=300)
    bundle_size = models.PositiveBigIntegerField(_("evidence bundle size in bytes"))
    police_reference = models.CharField(_("police reference"), max_length=100, blank=True)
    closing_note = models.TextField(_("note"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("opened"), default=timezone.now)

    class Meta:
        verbose_name = _("escalation task")
        verbose_name_plural = _("escalation tasks")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.action}"

    def get_absolute_url(self) -> str:
        return reverse("moderation:escalation_detail", args=[self.pk])


class SupervisionAlert(models.Model):
    """An account's queue left unreviewed: after 24 hours to its moderators, after 7 days
    to its managers (R15). One row per account, level and waiting period, so each fires once.
    """

    class Level(models.TextChoices):
        OVERDUE = "overdue", _("Not reviewed for 24 hours")
        ESCALATED = "escalated", _("Not reviewed for 7 days")

    account = models.ForeignKey(
        "channels.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="supervision_alerts",
    )
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    waiting_since = models.DateTimeField(_("waiting since"))
    pending = models.PositiveIntegerField(_("items waiting"))
    recipients = models.JSONField(_("sent to"), default=list, blank=True)
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("supervision alert")
        verbose_name_plural = _("supervision alerts")
        ordering = ["-raised_at", "-id"]
        constraints = [
            # One alert per level per waiting period: the monitor runs hourly and must not
            # repeat itself.
            models.UniqueConstraint(
                fields=["account", "level", "waiting_since"], name="supervisionalert_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.level} {self.waiting_since:%Y-%m-%d %H:%M}"
