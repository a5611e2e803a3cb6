"""Forms of the radar's pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from narvaro.core.models import User
from narvaro.lib.forms import set_queryset
from narvaro.organisation.models import Unit
from narvaro.radar.models import Category
from narvaro.radar.selectors import radar_unit_ids


class AlertFilterForm(forms.Form):
    """Which alerts the list shows: one unit's, and only those not yet acknowledged."""

    unit = forms.ModelChoiceField(
        label=_("Unit"), queryset=Unit.objects.none(), required=False, empty_label=_("All units")
    )
    open = forms.BooleanField(label=_("Only alerts not yet acknowledged"), required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids = radar_unit_ids(user)
        units = Unit.objects.order_by("name")
        set_queryset(self.fields["unit"], units if ids is None else units.filter(pk__in=ids))

    def filters(self) -> dict[str, Any]:
        if not self.is_bound or not self.is_valid():
            return {}
        unit = self.cleaned_data.get("unit")
        return {"unit": unit.pk if unit else None, "open_only": self.cleaned_data["open"]}


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"),
        help_text=_("What was done, for the history: answered, referred, nothing needed."),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )


class CategoryForm(forms.Form):
    category = forms.ChoiceField(
        label=_("Category"), choices=Category.choices, widget=forms.RadioSelect
    )
