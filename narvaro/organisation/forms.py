"""Forms for units and memberships. Choices are restricted to what the person may use."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from narvaro.core.models import User
from narvaro.core.selectors import user_list_for_user
from narvaro.lib.forms import set_queryset
from narvaro.organisation.models import CalendarDay, Membership, Unit, Weekday
from narvaro.organisation.roles import Capability
from narvaro.organisation.selectors import roster_candidates, unit_list_for_user

_HOURS = re.compile(r"^\s*(\d{1,3})(?:[:.](\d{2})|,(\d+)|\.(\d))?\s*(?:h)?\s*$")
_INTERVAL = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*[-–—]\s*(\d{1,2})[:.](\d{2})\s*$")


def format_hours(value: dt.timedelta | None) -> str:
    """A duration as hours and minutes, "8:30" (how the response target field shows it)."""
    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


class BusinessTimeField(forms.Field):
    """Business time typed as hours and minutes ("8:30") or hours ("4", "2,5")."""

    default_error_messages = {
        "invalid": _("Write hours and minutes, e.g. 8:30, or hours, e.g. 4 or 2,5."),
    }

    def prepare_value(self, value: Any) -> Any:
        return format_hours(value) if isinstance(value, dt.timedelta) else value

    def to_python(self, value: Any) -> dt.timedelta | None:
        if value in (None, ""):
            return None
        if isinstance(value, dt.timedelta):
            return value
        match = _HOURS.match(str(value))
        if not match:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        hours, minutes, decimal_comma, decimal_point = match.groups()
        if minutes is not None:
            if int(minutes) >= 60:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            return dt.timedelta(hours=int(hours), minutes=int(minutes))
        fraction = decimal_comma or decimal_point
        if fraction is not None:
            return dt.timedelta(hours=float(f"{hours}.{fraction}"))
        return dt.timedelta(hours=int(hours))

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and value <= dt.timedelta(0):
            raise ValidationError(_("The target must be longer than zero."), code="min")


def parse_intervals(text: str) -> list[tuple[dt.time, dt.time]]:
    """ "08:00–12:00, 13:00–16:30" → [(08:00, 12:00), (13:00, 16:30)]; "" → []."""
    intervals: list[tuple[dt.time, dt.time]] = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;]", text))):
        match = _INTERVAL.match(part)
        if not match:
            raise ValidationError(
                _("Write times as 08:00–16:30; separate several with commas."), code="invalid"
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h2 == 24 and m2 == 0:
            h2 = 0
        try:
            opens, closes = dt.time(h1, m1), dt.time(h2, m2)
        except ValueError as exc:
            raise ValidationError(
                _("%(part)s is not a time of day."), params={"part": part}
            ) from exc
        if not (closes > opens or closes == dt.time(0)):
            raise ValidationError(
                _("%(part)s closes before it opens."), params={"part": part}, code="order"
            )
        intervals.append((opens, closes))
    intervals.sort()
    for (_a, b), (c, _d) in itertools.pairwise(intervals):
        if b == dt.time(0) or c < b:
            raise ValidationError(_("The times overlap."), code="overlap")
    return intervals


def format_intervals(intervals: list[tuple[dt.time, dt.time]]) -> str:
    return ", ".join(
        f"{a:%H:%M}–{'24:00' if b == dt.time(0) else f'{b:%H:%M}'}" for a, b in intervals
    )


class OpeningHoursForm(forms.Form):
    """The normal week: one line of times per weekday ("08:00–12:00, 13:00–16:30")."""

    def __init__(
        self, *args: Any, week: dict[int, list[tuple[dt.time, dt.time]]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        for day in Weekday:
            self.fields[f"day_{day.value}"] = forms.CharField(
                label=day.label,
                required=False,
                initial=format_intervals(week.get(day.value, [])),
                help_text=_("Empty: closed.") if day.value == Weekday.MONDAY else "",
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        week: dict[int, list[tuple[dt.time, dt.time]]] = {}
        for day in Weekday:
            name = f"day_{day.value}"
            if name in self.errors:
                continue
            try:
                week[day.value] = parse_intervals(cleaned.get(name, ""))
            except ValidationError as exc:
                self.add_error(name, exc)
        if not self.errors and not any(week.values()):
            raise ValidationError(_("The organisation must be open at some time of the week."))
        cleaned["week"] = week
        return cleaned


class CalendarDayForm(forms.ModelForm):
    """Other hours for one date: closed all day, or open between two times."""

    class Meta:
        model = CalendarDay
        fields = ["date", "kind", "opens_at", "closes_at", "note"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}),
            "kind": forms.RadioSelect,
            "opens_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "closes_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        help_texts = {"note": _("For example: Klämdag, or Day before midsummer eve.")}

    def validate_unique(self) -> None:
        # Setting a date again replaces its hours (calendar_day_set), so no uniqueness error.
        pass


class DutyAssignForm(forms.Form):
    """Put a person on a unit's roster for a day or a run of days."""

    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    first = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    last = forms.DateField(
        label=_("Until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: only the first day."),
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("On"),
        choices=Weekday.choices,
        coerce=int,
        required=False,
        initial=[0, 1, 2, 3, 4],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Which days of the week, over a run of days."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    MAX_DAYS = 366

    def __init__(self, *args: Any, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["user"], roster_candidates(unit))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, last = cleaned.get("first"), cleaned.get("last")
        if first is None:
            return cleaned
        last = last or first
        if last < first:
            self.add_error("last", _("The last day must not be before the first."))
            return cleaned
        if (last - first).days >= self.MAX_DAYS:
            self.add_error("last", _("At most one year at a time."))
            return cleaned
        weekdays = set(cleaned.get("weekdays") or [])
        days = [
            first + dt.timedelta(days=n)
            for n in range((last - first).days + 1)
            if first == last or (first + dt.timedelta(days=n)).weekday() in weekdays
        ]
        if not days:
            self.add_error("weekdays", _("None of the days falls on the chosen weekdays."))
        cleaned["dates"] = days
        return cleaned


class UnitForm(forms.ModelForm):
    """Create or edit a unit. Only admins may create a unit at the top of the tree."""

    class Meta:
        model = Unit
        fields = [
            "name",
            "slug",
            "parent",
            "description",
            "audience",
            "voice",
            "contact_email",
            "response_target",
        ]
        field_classes = {"response_target": BusinessTimeField}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "audience": forms.Textarea(attrs={"rows": 3}),
            "voice": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, user: User, inherited_target: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        target = self.fields["response_target"]
        target.help_text = _(
            "Business time within which questions to this unit should be answered, as hours "
            "and minutes (8:30). Empty: %(inherited)s."
        ) % {"inherited": inherited_target or _("the parent unit's target")}
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
