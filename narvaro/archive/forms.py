"""Forms of the records archive: the register's search filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from narvaro.archive.models import Direction, Kind
from narvaro.channels.models import Account
from narvaro.channels.selectors import account_list_for_user
from narvaro.core.models import User
from narvaro.lib.forms import set_choices, set_queryset
from narvaro.organisation.models import Unit
from narvaro.organisation.selectors import unit_list_for_user

YES_NO = [("", _("Either")), ("yes", _("Yes")), ("no", _("No"))]


class RecordFilterForm(forms.Form):
    """Filters on the records register (R12). Every field is optional."""

    q = forms.CharField(label=_("Words"), required=False)
    unit = forms.ModelChoiceField(
        label=_("Unit"), queryset=Unit.objects.none(), required=False, empty_label=_("All units")
    )
    account = forms.ModelChoiceField(
        label=_("Account"),
        queryset=Account.objects.none(),
        required=False,
        empty_label=_("All accounts"),
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    direction = forms.ChoiceField(label=_("Direction"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    author = forms.CharField(label=_("Author"), required=False)
    thread = forms.CharField(label=_("Thread"), required=False)
    has_media = forms.ChoiceField(label=_("Has attachments"), required=False, choices=YES_NO)
    deleted = forms.ChoiceField(label=_("Deleted on the platform"), required=False, choices=YES_NO)
    edited = forms.ChoiceField(label=_("Edited"), required=False, choices=YES_NO)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["unit"], unit_list_for_user(user).order_by("name"))
        set_queryset(self.fields["account"], account_list_for_user(user))
        set_choices(self.fields["direction"], [("", _("Both directions")), *Direction.choices])
        set_choices(self.fields["kind"], [("", _("All kinds")), *Kind.choices])

    def filters(self) -> dict[str, Any]:
        """The selector's keyword arguments; no filter at all when the form is invalid."""
        if not self.is_valid():
            return {}
        data = dict(self.cleaned_data)
        for key in ("unit", "account"):
            data[key] = data[key].pk if data.get(key) else None
        for key in ("has_media", "deleted", "edited"):
            data[key] = {"yes": True, "no": False}.get(data.get(key) or "")
        return data
