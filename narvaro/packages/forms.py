from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from narvaro.channels.models import Account
from narvaro.organisation.models import Unit
from narvaro.packages.models import PackageExport


class PackageExportForm(forms.Form):
    """What to put in a package: a format, and optionally one account, a unit or a period."""

    kind = forms.ChoiceField(label=_("Format"), choices=PackageExport.Kind.choices)
    account = forms.ModelChoiceField(
        label=_("Account"),
        queryset=Account.objects.select_related("unit").order_by("platform", "handle"),
        required=False,
        empty_label=_("All accounts"),
    )
    unit = forms.ModelChoiceField(
        label=_("Unit"),
        queryset=Unit.objects.order_by("name"),
        required=False,
        empty_label=_("All units"),
        help_text=_("The unit's accounts and those of the units below it."),
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    renderings = forms.BooleanField(label=_("Add PDF/A renderings of the threads"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The period ends before it starts."))
        return data
