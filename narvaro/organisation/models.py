"""Units of the organisation and the roles people hold in them."""

from __future__ import annotations

from django.conf import settings
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
