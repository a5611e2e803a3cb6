"""Forms of the inbox: filters, reply, assign, move, status, note, register, saved replies."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from narvaro.core.models import User
from narvaro.inbox.models import RoutingRule, SavedReply, Status
from narvaro.inbox.selectors import VIEWS
from narvaro.inbox.services import MANUAL_STATUSES
from narvaro.lib.forms import set_queryset
from narvaro.organisation.models import Unit
from narvaro.radar.models import Category

VIEW_LABELS = {
    "active": _("Needs an answer"),
    "mine": _("Assigned to me"),
    "unassigned": _("Unassigned"),
    "waiting": _("Waiting for the sender"),
    "overdue": _("Overdue"),
    "done": _("Done"),
    "all": _("All"),
}


class FilterForm(forms.Form):
    view = forms.ChoiceField(
        label=_("Show"), choices=[(v, VIEW_LABELS[v]) for v in VIEWS], required=False
    )
    unit = forms.ModelChoiceField(
        label=_("Unit"), queryset=Unit.objects.none(), required=False, empty_label=_("All my units")
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=[("", _("Any")), *Category.choices], required=False
    )
    author = forms.CharField(label=_("Sender"), required=False, max_length=300)
    assignee = forms.ModelChoiceField(
        label=_("Assigned to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Anyone"),
    )

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["unit"], units)
        # The people who hold a role in the units the reader sees: a list per person.
        set_queryset(
            self.fields["assignee"],
            User.objects.filter(is_active=True, memberships__unit__in=units).distinct(),
        )


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Reply"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        help_text=_("Sent publicly in the thread, or as a direct message to a direct message."),
    )
    then = forms.ChoiceField(
        label=_("Afterwards"),
        choices=[
            (Status.ANSWERED, _("Mark as answered")),
            (Status.WAITING, _("Wait for the sender")),
            (Status.CLOSED, _("Close")),
        ],
        initial=Status.ANSWERED,
    )
    saved_reply = forms.IntegerField(required=False, widget=forms.HiddenInput)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assign to"), queryset=User.objects.none(), required=False, empty_label=_("Nobody")
    )

    def __init__(self, *args: Any, people: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["assignee"], User.objects.filter(pk__in=[p.pk for p in people]))


class MoveForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Move to unit"), queryset=Unit.objects.all())


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[(s.value, s.label) for s in MANUAL_STATUSES]
    )


class CategoryForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text=_("Seen only by colleagues; never sent."),
    )


class RegisterForm(forms.Form):
    description = forms.CharField(label=_("Short description of the case"), max_length=500)
    case_number = forms.CharField(
        label=_("Case number"),
        max_length=100,
        required=False,
        help_text=_("From the case-management system, if it has one already."),
    )


class BulkForm(forms.Form):
    action = forms.ChoiceField(
        label=_("With the chosen conversations"),
        choices=[
            ("assign", _("Assign")),
            ("move", _("Move to unit")),
            ("close", _("Close")),
            ("open", _("Open")),
        ],
    )
    assignee = forms.ModelChoiceField(
        label=_("Person"), queryset=User.objects.filter(is_active=True), required=False
    )
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.all(), required=False)
    conversations = forms.TypedMultipleChoiceField(coerce=int, choices=[])

    def __init__(
        self, *args: Any, ids: list[int], people: Any = None, units: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["conversations"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(i, str(i)) for i in ids]
        # Offer only the people who can answer and the units the reader can reach; the service
        # still checks each conversation's own unit.
        if people is not None:
            set_queryset(self.fields["assignee"], people)
        if units is not None:
            set_queryset(self.fields["unit"], units)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "move" and not data.get("unit"):
            self.add_error("unit", _("Choose the unit to move to."))
        return data


# The placeholders a saved reply may hold (filled by services.saved_reply_render).
PLACEHOLDERS = ("name", "handle", "unit", "contact", "signature")


def placeholder_problems(text: str) -> list[str]:
    """What is wrong with the placeholders of `text`, each naming the placeholder as written.

    A placeholder is one of PLACEHOLDERS in braces; a brace meant as text is doubled ({{ }}).
    """
    problems: list[str] = []
    known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    at = 0
    while at < len(text):
        char = text[at]
        if char in "{}" and text[at : at + 2] in ("{{", "}}"):
            at += 2
            continue
        if char == "}":
            problems.append(
                str(_("A closing brace } without an opening one (write }} for a brace)."))
            )
            at += 1
            continue
        if char == "{":
            end = text.find("}", at + 1)
            opening = text.find("{", at + 1)
            if end == -1 or (opening != -1 and opening < end):
                written = text[at:].split(maxsplit=1)[0]
                problems.append(
                    _("The placeholder %(placeholder)s is not closed with }.")
                    % {"placeholder": written}
                )
                at += 1
                continue
            written = text[at : end + 1]
            if written[1:-1] not in PLACEHOLDERS:
                problems.append(
                    _("Unknown placeholder %(placeholder)s. Use %(known)s.")
                    % {"placeholder": written, "known": known}
                )
            at = end + 1
            continue
        at += 1
    return problems


class SavedReplyForm(forms.ModelForm):
    class Meta:
        model = SavedReply
        fields = ["unit", "title", "language", "purpose", "body", "active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self.fields["unit"], units)

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        problems = placeholder_problems(body)
        if problems:
            raise forms.ValidationError(" ".join(str(p) for p in problems))
        return body


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = [
            "name",
            "position",
            "active",
            "scope_unit",
            "keywords",
            "authors",
            "category",
            "target_unit",
            "assignee",
        ]
        widgets = {
            "keywords": forms.Textarea(attrs={"rows": 3}),
            "authors": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (
            data.get("keywords", "").strip()
            or data.get("authors", "").strip()
            or data.get("category")
        ):
            raise forms.ValidationError(
                _("Set at least one condition: keywords, senders or a category.")
            )
        return data


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=_("Received from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Received to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end is before the start."))
        return data
