"""Units of the organisation, the roles people hold in them, opening hours and the roster."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from narvaro.core.models import TimeStampedModel


class Unit(TimeStampedModel):
    """A part of the organisation that speaks for itself: kommunledning, kultur, bibliotek ...

    Units form a tree through `parent`. A role held in a unit applies to the whole subtree
    below it, so the head of communication in the municipal leadership reaches every unit.
    """

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(
        _("short name"),
        max_length=80,
        unique=True,
        help_text=_("Used in addresses and on the command line, e.g. 'bibliotek'."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    description = models.TextField(_("description"), blank=True)
    audience = models.TextField(
        _("audience"), blank=True, help_text=_("Who the unit speaks to on social media.")
    )
    voice = models.TextField(
        _("voice"), blank=True, help_text=_("How the unit speaks: tone, language, formality.")
    )
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    response_target = models.DurationField(
        _("response target"),
        null=True,
        blank=True,
        help_text=_(
            "Business time within which a question should be answered. Empty: the parent "
            "unit's target, or one working day at the top."
        ),
    )

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("organisation:unit_detail", args=[self.pk])


class Membership(TimeStampedModel):
    """A person's role in a unit (and, through the tree, in every unit below it)."""

    class Role(models.TextChoices):
        VIEWER = "viewer", _("Viewer")
        RESPONDER = "responder", _("Responder")
        PUBLISHER = "publisher", _("Publisher")
        MODERATOR = "moderator", _("Moderator")
        APPROVER = "approver", _("Approver")
        MANAGER = "manager", _("Manager")

    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    requires_approval = models.BooleanField(
        _("posts need approval"),
        default=False,
        help_text=_("New publishers' posts are approved by an approver before they go out."),
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["unit__name", "user__first_name", "user__username"]
        constraints = [
            # One role per person and unit; a person with two roles holds the stronger one.
            models.UniqueConstraint(fields=["unit", "user"], name="membership_unique_unit_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.unit}"


class Weekday(models.IntegerChoices):
    """Days of the week as Python numbers them (Monday = 0)."""

    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningHours(TimeStampedModel):
    """One interval of the organisation's normal week, in local time (settings.TIME_ZONE).

    A day may have several intervals (08:00–12:00 and 13:00–16:30). When the table is empty
    the organisation keeps the default week, Monday–Friday 08:00–16:30. A closing time of
    00:00 means midnight at the end of the day.
    """

    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")) | models.Q(closes=dt.time(0)),
                name="openinghours_closes_after_opens",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class CalendarDay(TimeStampedModel):
    """A date on which the organisation keeps other hours than its normal week.

    Closed (a klämdag, a staff day) or open only between two times (the day before a
    holiday, closing at 13:00). A row replaces any Swedish public holiday on its date, so
    the organisation can also open on a day the holiday list would close.
    """

    class Kind(models.TextChoices):
        CLOSED = "closed", _("Closed all day")
        HOURS = "hours", _("Other hours")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    opens_at = models.TimeField(
        _("opens"),
        null=True,
        blank=True,
        help_text=_("Empty: at the normal opening time."),
    )
    closes_at = models.TimeField(
        _("closes"), null=True, blank=True, help_text=_("Empty: at the normal closing time.")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"

    def clean(self) -> None:
        if self.kind == self.Kind.CLOSED:
            self.opens_at = self.closes_at = None
            return
        if self.opens_at is None and self.closes_at is None:
            raise ValidationError(_("Give an opening time, a closing time or both."))
        if (
            self.opens_at is not None
            and self.closes_at is not None
            and self.closes_at != dt.time(0)
            and self.closes_at <= self.opens_at
        ):
            raise ValidationError({"closes_at": _("The closing time must be after the opening.")})


class DutyAssignment(TimeStampedModel):
    """A person who covers a unit's inbox on a date (the duty roster, R14).

    Several people may share a day. A unit with nobody on a date is covered by the nearest
    unit above it that has someone (see `selectors.on_duty`).
    """

    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="duty_assignments"
    )
    date = models.DateField(_("date"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="duty_assignments",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("duty assignment")
        verbose_name_plural = _("duty assignments")
        ordering = ["date", "user__first_name", "user__username"]
        constraints = [
            # One row per person, unit and day; also the index for the roster page and
            # on_duty (unit, date).
            models.UniqueConstraint(
                fields=["unit", "date", "user"], name="dutyassignment_unique_unit_date_user"
            ),
        ]
        indexes = [
            # on_duty_map: everyone on duty on one date across all units.
            models.Index(fields=["date"], name="dutyassignment_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.user} – {self.unit}"
