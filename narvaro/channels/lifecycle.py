"""The account lifecycle: which state may follow which, and what an active account needs."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from narvaro.channels.models import Account

State = Account.State

# (from, to) → the verb shown on the button.
TRANSITIONS: dict[tuple[str, str], StrOrPromise] = {
    (State.PROPOSED, State.ACTIVE): _("Activate"),
    (State.PROPOSED, State.CLOSED): _("Withdraw proposal"),
    (State.ACTIVE, State.CLOSING): _("Start closing"),
    (State.CLOSING, State.ACTIVE): _("Keep open"),
    (State.CLOSING, State.CLOSED): _("Close"),
}


def allowed_targets(state: str) -> list[str]:
    """The states an account in `state` may move to."""
    return [to for (frm, to) in TRANSITIONS if frm == state]


def closing_problems(account: Account) -> dict[str, str]:
    """Why the account cannot be closed yet (R11): it needs a final snapshot, a PDF/A
    rendering and a full package covering everything archived from it. Empty when it may be.
    """
    from narvaro.packages.selectors import snapshot_problems

    return snapshot_problems(account)


def activation_problems(account: Account) -> dict[str, str]:
    """Field → why the account cannot be active yet (R1, R6). Empty when it may be.

    Reads the many-to-many fields, so the account must be saved.
    """
    problems: dict[str, str] = {}
    required_text = {
        "handle": _("Enter the handle."),
        "profile_url": _("Enter the profile address."),
        "purpose": _("Describe the purpose of the account."),
        "audience": _("Describe the audience of the account."),
        "retention_decision_ref": _("Enter the reference of the retention decision."),
        "dpia_ref": _("Enter the reference of the data protection assessment."),
    }
    for field, message in required_text.items():
        if not str(getattr(account, field) or "").strip():
            problems[field] = str(message)
    if account.kind == Account.Kind.ROLE and not account.officeholder_title.strip():
        problems["officeholder_title"] = str(_("Name the office of a role account."))
    if account.opened_on is None:
        problems["opened_on"] = str(_("Enter the date the account was opened."))
    if not account.responsible.exists():
        problems["responsible"] = str(_("Name at least one responsible person."))
    if not account.moderators.exists():
        problems["moderators"] = str(_("Name at least one moderator."))
    version = account.comment_policy_version
    if version is None:
        problems["comment_policy_version"] = str(_("Choose the comment policy."))
    elif not type(version).objects.filter(pk=version.pk, published_at__isnull=False).exists():
        # Read from the database: the caller's copy of the version may predate its publication.
        problems["comment_policy_version"] = str(
            _("The chosen comment policy version has no publication date.")
        )
    return problems
