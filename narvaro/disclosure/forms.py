"""Forms for requests for public records: logging, deciding, masking, delivering."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from narvaro.archive.models import Item, ItemVersion
from narvaro.core.models import User
from narvaro.disclosure.models import LEGAL_GROUNDS, Decision, RecordsRequest
from narvaro.lib.forms import set_queryset

# Delivery routes that need an address to reach the requester.
NEEDS_ADDRESS = {RecordsRequest.Route.POST, RecordsRequest.Route.EMAIL}


def request_handlers() -> Any:
    """The people who may hold a request: active registrars and admins."""
    return User.objects.filter(is_active=True).filter(
        Q(org_role__in=[User.OrgRole.REGISTRAR, User.OrgRole.ADMIN]) | Q(is_superuser=True)
    )


class RequestForm(forms.ModelForm):
    """A new request. Nothing about the requester is required, and no purpose is asked (R26)."""

    class Meta:
        model = RecordsRequest
        fields = [
            "received_at",
            "channel",
            "scope",
            "delivery_route",
            "delivery_address",
            "requester_name",
            "electronic_copy",
            "handler",
        ]
        widgets = {
            "received_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "scope": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["handler"], request_handlers())
        self.fields["handler"].help_text = _(
            "Someone must always hold the request, also during holidays."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("delivery_route") in NEEDS_ADDRESS and not data.get("delivery_address"):
            self.add_error("delivery_address", _("Say where the copy is to be sent."))
        return data


def _ground_choices() -> list[tuple[str, Any]]:
    return [("", _("Choose a legal ground")), *LEGAL_GROUNDS]


class _GroundMixin(forms.Form):
    legal_ground = forms.ChoiceField(label=_("Legal ground"), required=False, choices=())
    legal_ground_other = forms.CharField(
        label=_("Other legal ground"),
        required=False,
        max_length=300,
        help_text=_("E.g. a sector rule: write the provision, as 'OSL 26 kap. 1 §'."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["legal_ground"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _ground_choices()

    def ground(self) -> str:
        """The written ground when given, else the chosen one."""
        return (
            self.cleaned_data.get("legal_ground_other")
            or self.cleaned_data.get("legal_ground")
            or ""
        ).strip()


class DecisionForm(_GroundMixin):
    """The decision on one record (R25)."""

    decision = forms.ChoiceField(
        label=_("Decision"), choices=Decision.choices, widget=forms.RadioSelect, required=False
    )
    field_order = ["decision", "legal_ground", "legal_ground_other"]


class RedactionReviewForm(_GroundMixin):
    """Accept or reject one suggested masking; accepting needs a ground."""


class RedactionAddForm(_GroundMixin):
    """Mask a passage the suggestions missed: every occurrence in one field of the record.

    `target` names the field: a version's text, an attachment's alt text, file name or whole
    image, or the author's display name or handle (see `target_value`).
    """

    target = forms.ChoiceField(label=_("Where"), choices=())
    text = forms.CharField(
        label=_("Text to mask"),
        max_length=2000,
        strip=False,
        required=False,
        help_text=_("Copy the passage exactly as it stands. Not needed to withhold a whole image."),
    )
    field_order = ["target", "text", "legal_ground", "legal_ground_other"]

    def __init__(self, *args: Any, item: Item, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.item = item
        field = self.fields["target"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = target_choices(item)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        target = data.get("target")
        if target and not target.startswith("image:") and not data.get("text"):
            self.add_error("text", _("Copy the passage to mask."))
        return data

    def target_value(self) -> tuple[str, ItemVersion | None, int | None]:
        """(field, version, attachment position) of the chosen target."""
        kind, _sep, rest = self.cleaned_data["target"].partition(":")
        if not rest:
            return kind, None, None
        version_id, _sep, position = rest.partition(":")
        version = next(v for v in self.item.versions.all() if v.pk == int(version_id))
        return kind, version, int(position) if position else None


def target_choices(item: Item) -> list[tuple[str, str]]:
    """Everything of `item` the copy shows that can be masked, as choices of the add form."""
    choices: list[tuple[str, str]] = []
    for version in item.versions.all():
        number = {"number": version.number}
        choices.append((f"text:{version.pk}", _("Version %(number)s: text") % number))
        for attachment in version.attachments.all():
            labels = {**number, "attachment": attachment.position + 1}
            choices.append(
                (
                    f"alt_text:{version.pk}:{attachment.position}",
                    _("Version %(number)s, attachment %(attachment)s: alt text") % labels,
                )
            )
            choices.append(
                (
                    f"file_name:{version.pk}:{attachment.position}",
                    _("Version %(number)s, attachment %(attachment)s: file name") % labels,
                )
            )
            if attachment.media_id:
                choices.append(
                    (
                        f"image:{version.pk}:{attachment.position}",
                        _("Version %(number)s, attachment %(attachment)s: the whole image")
                        % labels,
                    )
                )
    choices.append(("author_name", str(_("Author's display name"))))
    choices.append(("author_handle", str(_("Author's handle"))))
    return choices


class HandlerForm(forms.Form):
    """Who holds the request from now on."""

    handler = forms.ModelChoiceField(label=_("Hand over to"), queryset=User.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["handler"], request_handlers())


class DeliveryForm(forms.Form):
    """The language of the printout and the decision."""

    language = forms.ChoiceField(label=_("Language of the documents"), choices=settings.LANGUAGES)
