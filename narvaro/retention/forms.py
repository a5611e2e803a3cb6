"""Forms of records management. Each view passes the cleaned data to one service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from narvaro.channels.models import Account
from narvaro.lib.forms import set_queryset
from narvaro.organisation.models import Unit
from narvaro.retention.models import (
    ErasureRequest,
    HoldScope,
    LegalHold,
    RegistryEntry,
    RetentionRule,
)
from narvaro.retention.services import DEFAULT_ERASURE_REASONS


class RuleForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = RetentionRule
        fields = [
            "name",
            "record_class",
            "decision_reference",
            "period_days",
            "unit",
            "account",
            "kind",
            "author",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["unit"], Unit.objects.order_by("name"))
        set_queryset(self.fields["account"], Account.objects.order_by("platform", "handle"))


class HoldForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=LegalHold.Kind.choices)
    scope = forms.ChoiceField(label=_("Covers"), choices=HoldScope.choices)
    account = forms.ModelChoiceField(
        label=_("Account"), queryset=Account.objects.none(), required=False
    )
    author_handle = forms.CharField(label=_("Author handle"), max_length=300, required=False)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    reference = forms.CharField(
        label=_("Reference"),
        max_length=200,
        required=False,
        help_text=_("For a police report: the report's number."),
    )

    def __init__(self, *args: Any, with_item: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["account"], Account.objects.order_by("platform", "handle"))
        if not with_item:
            # Item and thread holds are placed from a record's page.
            scope = self.fields["scope"]
            assert isinstance(scope, forms.ChoiceField)
            scope.choices = [
                (value, label)
                for value, label in HoldScope.choices
                if value in (HoldScope.ACCOUNT, HoldScope.AUTHOR)
            ]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class ErasureRequestForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ErasureRequest
        fields = ["received_at", "requester", "contact", "scope"]
        widgets = {
            "received_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "scope": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault(
            "received_at", timezone.localtime().replace(second=0, microsecond=0)
        )
        super().__init__(*args, **kwargs)


class ErasureDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=ErasureRequest.Decision.choices,
        initial=ErasureRequest.Decision.NO_ERASURE,
    )
    reasons = forms.CharField(
        label=_("Reasons"),
        widget=forms.Textarea(attrs={"rows": 6}),
        initial=DEFAULT_ERASURE_REASONS,
    )
    requester_told_on = forms.DateField(
        label=_("Requester told on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class FlagForm(forms.Form):
    scope = forms.ChoiceField(label=_("Covers"), choices=RegistryEntry.Scope.choices)
    received_on = forms.DateField(
        label=_("Date received"), widget=forms.DateInput(attrs={"type": "date"})
    )
    sender = forms.CharField(label=_("Sender"), max_length=300)
    description = forms.CharField(label=_("Short description"), max_length=500)
    case_number = forms.CharField(
        label=_("Case number (diarienummer)"), max_length=100, required=False
    )
    officer = forms.CharField(label=_("Case officer"), max_length=300, required=False)

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind == RegistryEntry.Kind.SECRET:
            self.fields["case_number"].required = True
            self.fields["case_number"].help_text = _(
                "Required: a secret record must be registered (R13)."
            )
