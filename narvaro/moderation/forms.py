"""Forms of moderation. The services judge; these only parse and show the choices."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from narvaro.archive.models import Kind
from narvaro.moderation.models import (
    REASON_GROUPS,
    Action,
    EscalationTask,
    Reason,
    ReasonGroup,
)


def grouped_reasons() -> list[tuple[Any, Any]]:
    """The reasons under their R16 group headings (rendered as option groups)."""
    groups: list[tuple[Any, Any]] = [("", _("Choose a reason"))]
    for group in ReasonGroup:
        groups.append(
            (
                group.label,
                [
                    (reason.value, reason.label)
                    for reason in Reason
                    if REASON_GROUPS[reason] == group
                ],
            )
        )
    return groups


class ModerationForm(forms.Form):
    """Hide, delete, block or report, with a reason from the taxonomy and a free text."""

    reason = forms.ChoiceField(label=_("Reason"), choices=grouped_reasons, required=False)
    reason_text = forms.CharField(
        label=_("Explanation"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What in the item breaks the law or the policy. Kept with the decision."),
    )
    action = forms.ChoiceField(
        label=_("Action"),
        choices=Action.choices,
        initial=Action.HIDE,
        widget=forms.RadioSelect,
        help_text=_("Hiding stops the spread and keeps the evidence; delete is a second step."),
    )
    block_until = forms.DateField(
        label=_("Block until (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Only for a block. Leave empty for a block without an end date."),
    )
    by_hand = forms.BooleanField(
        label=_("I have done this by hand on the platform"),
        required=False,
        help_text=_("For an account without a live connection, or when the platform cannot do it."),
    )
    send_notice = forms.BooleanField(label=_("Send a notice to the author"), required=False)
    notice_text = forms.CharField(
        label=_("Notice to the author"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sent as a reply to the item once the action is done."),
    )
    notice_visibility = forms.ChoiceField(
        label=_("Notice visible to"),
        choices=[
            ("direct", _("The author only (direct)")),
            ("public", _("Everyone (public reply)")),
        ],
        initial="direct",
        required=False,
    )

    def __init__(self, *args: Any, live: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not live:
            self.fields["by_hand"].help_text = _(
                "This account has no live connection (it was imported): act on the platform "
                "yourself, then record it here."
            )
            for name in ("send_notice", "notice_text", "notice_visibility"):
                del self.fields[name]


class QueueFilterForm(forms.Form):
    q = forms.CharField(label=_("Text contains"), required=False)
    author = forms.CharField(label=_("Author"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *Kind.choices]
    )
    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("", _("Not reviewed")), ("all", _("All inbound items"))],
    )


class EscalationCloseForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            (EscalationTask.Status.REPORTED, EscalationTask.Status.REPORTED.label),
            (EscalationTask.Status.CLOSED, EscalationTask.Status.CLOSED.label),
        ],
        widget=forms.RadioSelect,
        required=False,
    )
    police_reference = forms.CharField(label=_("Police reference"), required=False, max_length=100)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
