"""Forms of the capture pages: the report period and the reconnect form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DEFAULT_DAYS = 30


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The period ends before it starts."))
        return data

    def period(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) as aware datetimes; the last 30 days when not (validly) given."""
        today = timezone.localdate()
        start_day, end_day = today - dt.timedelta(days=DEFAULT_DAYS - 1), today
        if self.is_bound and self.is_valid():
            start_day = self.cleaned_data.get("start") or start_day
            end_day = self.cleaned_data.get("end") or end_day
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(start_day, dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(end_day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        return start, end


class ReconnectForm(forms.Form):
    url = forms.URLField(label=_("Instance or PDS address"), assume_scheme="https")
    token = forms.CharField(
        label=_("Access token"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Stored encrypted and never shown again."),
    )
    handle = forms.CharField(label=_("Handle"), required=False)
    app_password = forms.CharField(
        label=_("App password"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Stored encrypted and never shown again."),
    )

    def __init__(self, *args: Any, platform: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.platform = platform
        if platform == "mastodon":
            del self.fields["handle"]
            del self.fields["app_password"]
            self.fields["token"].required = True
        else:
            del self.fields["token"]
            self.fields["handle"].required = True
            self.fields["app_password"].required = True

    def credentials(self) -> dict[str, str]:
        if self.platform == "mastodon":
            return {"access_token": self.cleaned_data["token"]}
        return {
            "handle": self.cleaned_data["handle"],
            "app_password": self.cleaned_data["app_password"],
        }


class MastodonSignInForm(forms.Form):
    """The instance to sign in on; Narvaro registers itself there and sends the person on."""

    instance = forms.CharField(
        label=_("Mastodon instance"),
        max_length=300,
        help_text=_(
            "For example https://mastodon.example. You sign in there as the account and "
            "approve Narvaro; the instance then sends you back here."
        ),
    )

    def clean_instance(self) -> str:
        from narvaro.channels.oauth import instance_url_clean

        return instance_url_clean(self.cleaned_data["instance"])
