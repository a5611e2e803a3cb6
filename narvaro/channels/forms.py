"""Forms for the channel register and comment policies."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from narvaro.channels.models import Account, CommentPolicyVersion, Platform
from narvaro.channels.selectors import policy_version_choices_for_user
from narvaro.core.models import User
from narvaro.core.selectors import user_list_for_user
from narvaro.lib.forms import set_choices, set_queryset
from narvaro.organisation.models import Unit
from narvaro.organisation.roles import Capability
from narvaro.organisation.selectors import unit_list_for_user


class PolicyVersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        if obj.published_at:
            return _("%(policy)s, version %(number)s (published %(date)s)") % {
                "policy": obj.policy.name,
                "number": obj.number,
                "date": obj.published_at.date().isoformat(),
            }
        return _("%(policy)s, version %(number)s (not published)") % {
            "policy": obj.policy.name,
            "number": obj.number,
        }


class AccountForm(forms.ModelForm):
    """The register fields of an account. A new account is saved as proposed."""

    comment_policy_version = PolicyVersionChoiceField(
        label=_("Comment policy"), queryset=CommentPolicyVersion.objects.none(), required=False
    )

    class Meta:
        model = Account
        fields = [
            "unit",
            "platform",
            "handle",
            "display_name",
            "profile_url",
            "kind",
            "officeholder_title",
            "purpose",
            "audience",
            "responsible",
            "moderators",
            "opened_on",
            "retention_decision_ref",
            "dpia_ref",
            "comment_policy_version",
            "verification",
        ]
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 3}),
            "audience": forms.Textarea(attrs={"rows": 3}),
            "opened_on": forms.DateInput(attrs={"type": "date"}),
            "responsible": forms.CheckboxSelectMultiple,
            "moderators": forms.CheckboxSelectMultiple,
            "kind": forms.RadioSelect,
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(
            self.fields["unit"], unit_list_for_user(user, Capability.MANAGE).order_by("name")
        )
        people = user_list_for_user(user).filter(is_active=True)
        set_queryset(self.fields["responsible"], people)
        set_queryset(self.fields["moderators"], people)
        set_queryset(self.fields["comment_policy_version"], policy_version_choices_for_user(user))
        self.fields["opened_on"].help_text = _("Format: YYYY-MM-DD")


class AccountFilterForm(forms.Form):
    """Filters on the account list. Every field is optional."""

    q = forms.CharField(label=_("Search"), required=False)
    unit = forms.ModelChoiceField(
        label=_("Unit"), queryset=Unit.objects.none(), required=False, empty_label=_("All units")
    )
    platform = forms.ChoiceField(label=_("Platform"), required=False)
    state = forms.ChoiceField(label=_("State"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["unit"], unit_list_for_user(user).order_by("name"))
        set_choices(self.fields["platform"], [("", _("All platforms")), *Platform.choices])
        set_choices(self.fields["state"], [("", _("All states")), *Account.State.choices])
        set_choices(self.fields["kind"], [("", _("All kinds")), *Account.Kind.choices])

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        data = dict(self.cleaned_data)
        data["unit"] = data["unit"].pk if data.get("unit") else None
        return data


class CommentPolicyForm(forms.Form):
    """A new comment policy and the text of its first version."""

    name = forms.CharField(label=_("Name"), max_length=200)
    unit = forms.ModelChoiceField(
        label=_("Owning unit"),
        queryset=Unit.objects.none(),
        required=False,
        empty_label=_("The whole organisation"),
    )
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 14}))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(
            self.fields["unit"], unit_list_for_user(user, Capability.MANAGE).order_by("name")
        )
        if not user.is_org_admin:
            self.fields["unit"].required = True


class CommentPolicyVersionForm(forms.Form):
    """A new version of a policy's text."""

    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 14}))
    change_note = forms.CharField(label=_("What changed"), max_length=300)


class PublishVersionForm(forms.Form):
    """Record where and when a version was made public."""

    published_url = forms.URLField(
        label=_("Public address"),
        required=False,
        help_text=_("Where the public can read this version, e.g. on the website."),
    )
