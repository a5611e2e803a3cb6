"""Forms shared by every app: the Designsystemet renderer and the core's own forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.translation import gettext_lazy as _

from narvaro.core.models import User


class NarvaroFormRenderer(DjangoTemplates):
    """Render every form with Designsystemet markup: label, help, error next to the field."""

    form_template_name = "core/forms/form.html"
    field_template_name = "core/forms/field.html"


class TwoFactorTokenForm(forms.Form):
    """A six-digit code from an authenticator app, or a backup code."""

    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_("The six-digit code shown in your authenticator app, or a backup code."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        return self.cleaned_data["token"].replace(" ", "").strip()


class PersonForm(forms.ModelForm):
    """Create or edit a person; the organisation-wide role is set here by an admin."""

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "title", "org_role", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["is_active"].help_text = _(
            "People are deactivated, never deleted, so that the audit log keeps pointing at them."
        )
        if self.instance.pk:
            self.fields["username"].disabled = True
        else:
            del self.fields["is_active"]


class AuditFilterForm(forms.Form):
    """Filters on the audit log page."""

    q = forms.CharField(label=_("Object or summary contains"), required=False)
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("All actions"))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from narvaro.core.models import AuditEvent

        super().__init__(*args, **kwargs)
        action = self.fields["action"]
        assert isinstance(action, forms.ChoiceField)
        action.choices = [("", _("All actions")), *AuditEvent.Action.choices]
