"""People, the audit log and the building blocks every other app shares."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TimeStampedModel(models.Model):
    """Abstract base: when a row was created and last changed."""

    created_at = models.DateTimeField(
        pgettext_lazy("field", "created"), default=timezone.now, editable=False
    )
    updated_at = models.DateTimeField(pgettext_lazy("field", "updated"), auto_now=True)

    class Meta:
        abstract = True


class User(AbstractUser):
    """A person who signs in to Narvaro.

    Unit roles live on memberships (organisation app). The organisation-wide roles are held
    here: a registrar (registrator/arkivarie) reaches the whole archive, an admin runs the
    installation. Both must use two-factor authentication.
    """

    class OrgRole(models.TextChoices):
        NONE = "", _("None")
        REGISTRAR = "registrar", _("Registrar")
        ADMIN = "admin", _("Administrator")

    org_role = models.CharField(
        _("organisation-wide role"), max_length=20, choices=OrgRole.choices, blank=True
    )
    title = models.CharField(_("title"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["first_name", "last_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_org_admin(self) -> bool:
        return self.is_active and (self.org_role == self.OrgRole.ADMIN or self.is_superuser)

    @property
    def is_registrar(self) -> bool:
        return self.is_active and self.org_role == self.OrgRole.REGISTRAR

    def is_verified(self) -> bool:
        """Whether this session passed a second factor. django-otp's OTPMiddleware replaces
        this per request; outside a request (commands, tasks) nobody is verified."""
        return False

    @property
    def requires_two_factor(self) -> bool:
        roles = set(settings.NARVARO_2FA_REQUIRED_ROLES)
        return bool(self.org_role and self.org_role in roles) or (
            self.is_superuser and "admin" in roles
        )


class AuditEvent(models.Model):
    """One line of the audit log: who did what to which object, and when.

    Append-only: rows are written by `audit_record` and never changed or deleted through
    Narvaro. Views and exports of records are logged here too (R37), as are changes to
    accounts and platform tokens (R5).
    """

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("removed")
        TRANSITION = "transition", _("changed state")
        VIEW = "view", _("viewed")
        EXPORT = "export", _("exported")
        IMPORT = "import", _("imported")
        SIGN_IN = "sign_in", _("signed in")
        SIGN_OUT = "sign_out", _("signed out")
        SIGN_IN_FAILED = "sign_in_failed", _("failed to sign in")
        GRANT = "grant", _("granted")
        REVOKE = "revoke", _("revoked")
        SECURITY = "security", _("security change")

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    # Kept as text so the log survives even if the person is later deactivated or renamed.
    actor_name = models.CharField(_("who (as recorded)"), max_length=300, blank=True)
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    target_type = models.CharField(_("object type"), max_length=100, blank=True)
    target_id = models.CharField(_("object id"), max_length=100, blank=True)
    target_repr = models.CharField(_("object"), max_length=500, blank=True)
    unit_id = models.BigIntegerField(_("unit id"), null=True, blank=True)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            # The object history panel on detail pages filters on the target.
            models.Index(fields=["target_type", "target_id", "-at"], name="audit_target_idx"),
            # The audit log page filters by person.
            models.Index(fields=["actor", "-at"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target_repr}"


class ScheduledJob(models.Model):
    """A periodic job the worker's scheduler enqueues when it falls due.

    Several workers may run at once; each claims a due job with a conditional UPDATE on
    `next_run_at`, so a job is enqueued exactly once per period whatever the number of workers.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    task_path = models.CharField(_("task"), max_length=200)
    interval_seconds = models.PositiveIntegerField(_("interval (seconds)"))
    enabled = models.BooleanField(_("enabled"), default=True)
    next_run_at = models.DateTimeField(_("next run"), default=timezone.now)
    last_enqueued_at = models.DateTimeField(_("last enqueued"), null=True, blank=True)
    last_result_id = models.CharField(_("last task result"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
