"""Forms for units and memberships. Choices are restricted to what the person may use."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from narvaro.core.models import User
from narvaro.core.selectors import user_list_for_user
from narvaro.lib.forms import set_queryset
from narvaro.organisation.models import Membership, Unit
from narvaro.organisation.roles import Capability
from narvaro.organisation.selectors import unit_list_for_user


class UnitForm(forms.ModelForm):
    """Create or edit a unit. Only admins may create a unit at the top of the tree."""

    class Meta:
        model = Unit
        fields = ["name", "slug", "parent", "description", "audience", "voice", "contact_email"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "audience": forms.Textarea(attrs={"rows": 3}),
            "voice": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parents = unit_list_for_user(user, Capability.MANAGE).order_by("name")
        if self.instance.pk:
            # Keeping the current place is always allowed, even below a unit one does not manage.
            parents = (parents | Unit.objects.filter(pk=self.instance.parent_id)).exclude(
                pk=self.instance.pk
            )
        set_queryset(self.fields["parent"], parents)
        if not user.is_org_admin:
            self.fields["parent"].required = True
            self.fields["parent"].help_text = _("You may add units below the units you manage.")


class MembershipForm(forms.Form):
    """Give a person a role in a unit."""

    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)
    requires_approval = forms.BooleanField(
        label=_("Posts need approval"),
        required=False,
        help_text=_("For new publishers: an approver checks each post before it goes out."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["user"], user_list_for_user(user).filter(is_active=True))


class MembershipChangeForm(forms.Form):
    """Change the role a person holds in a unit."""

    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)
    requires_approval = forms.BooleanField(label=_("Posts need approval"), required=False)
