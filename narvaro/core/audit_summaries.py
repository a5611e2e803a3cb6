"""Audit summaries: stored in one stable English form, shown in the reader's language.

The audit log is evidence: a stored row never changes, whatever language the person who
caused it spoke. So a summary is written in English, from a message listed here with its
values filled in (`audit_summary`), and translated only when shown (`summary_display`):
the stored text is matched against the listed messages, its values taken back out, and the
message's translation filled with them. A summary that matches no listed message (older
rows, free text such as a change note) is shown as stored.

Add a message here (wrapped in `gettext_noop`, so `make messages` collects it) and write
the summary with `audit_summary(MESSAGE, ...)`.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import import_module
from typing import Any

from django.utils.translation import get_language, gettext, gettext_noop

# The archive's logged reads and exports (R37).
RECORD_VIEWED = gettext_noop("record %(item)s viewed")
ATTACHMENT_VIEWED = gettext_noop("attachment %(position)s of %(version)s viewed")
RECORDS_EXPORTED = gettext_noop(
    "records register exported as %(format)s via %(via)s (%(count)s items)"
)
FIXITY_FAILED = gettext_noop("fixity check failed: %(count)s problem(s)")
# Imports and the channel register.
EXPORT_IMPORTED = gettext_noop("%(format)s export imported from %(path)s")
CHANNEL_REGISTER_EXPORTED = gettext_noop(
    "channel register exported as %(format)s (%(count)s accounts)"
)

# Requests for public records (narvaro.disclosure).
REQUEST_RECEIVED = gettext_noop("request for public records received %(received_at)s")
REQUEST_CLOSED = gettext_noop("request closed")
REQUEST_HANDED_OVER = gettext_noop("request handed over")
REQUEST_VIEWED = gettext_noop("request viewed")
REQUEST_ARCHIVE_SEARCHED = gettext_noop("archive searched")
REQUEST_RECORD_REVIEWED = gettext_noop("record %(item)s reviewed")
REQUEST_RECORDS_COMPILED = gettext_noop("%(count)s records compiled into the request")
REQUEST_RECORD_REMOVED = gettext_noop("record taken out of the request")
REQUEST_DECISION = gettext_noop("decision on record %(item)s: %(decision)s")
REDACTION_ACCEPTED = gettext_noop(
    "redaction accepted: version %(version_id)s characters %(start)s-%(end)s"
)
REDACTION_REJECTED = gettext_noop(
    "redaction rejected: version %(version_id)s characters %(start)s-%(end)s"
)
REDACTION_ADDED = gettext_noop(
    "redaction added: version %(version_id)s characters %(start)s-%(end)s"
)
REDACTION_FIELD_ACCEPTED = gettext_noop(
    "redaction accepted: %(redaction_field)s of record %(item)s characters %(start)s-%(end)s"
)
REDACTION_FIELD_REJECTED = gettext_noop(
    "redaction rejected: %(redaction_field)s of record %(item)s characters %(start)s-%(end)s"
)
REDACTION_FIELD_ADDED = gettext_noop(
    "redaction added: %(redaction_field)s of record %(item)s characters %(start)s-%(end)s"
)
DELIVERY_FILE_DOWNLOADED = gettext_noop("delivery %(number)s %(file_kind)s downloaded")
DELIVERY_MADE = gettext_noop("delivery %(number)s: %(released)s released, %(withheld)s withheld")
DELIVERY_RETRIED = gettext_noop("delivery %(number)s queued again after a failure")
DELIVERY_STALLED_REQUEUED = gettext_noop(
    "delivery %(number)s queued again: its rendering stopped (attempt %(attempt)s)"
)
DELIVERY_STALLED_FAILED = gettext_noop(
    "delivery %(number)s failed: its rendering stopped %(attempt)s times"
)
WORKING_COPY_PRINTED = gettext_noop("working copy of the request printed via %(via)s")

# Retention, legal holds, erasure requests and the registry (narvaro.retention).
RULE_CREATED = gettext_noop(
    "retention rule %(rule)s created (%(record_class)s, %(days)s days, decision %(decision_ref)s)"
)
RULE_DEACTIVATED = gettext_noop("retention rule %(rule)s deactivated")
DRY_RUN_MADE = gettext_noop("disposal dry run of rule %(rule)s: %(count)s item(s) listed")
DISPOSAL_RUN_VIEWED = gettext_noop("disposal run %(run)s viewed")
REGISTRY_ENTRY_VIEWED = gettext_noop("registry entry %(entry)s viewed")
DISPOSAL_COMMITTED = gettext_noop(
    "disposal (gallring) under %(decision_ref)s: %(versions)s version(s) of %(items)s item(s) "
    "disposed of, %(skipped)s skipped"
)
HOLD_PLACED = gettext_noop("legal hold placed: %(hold_kind)s on %(hold_scope)s %(covers)s")
HOLD_RELEASED = gettext_noop("legal hold released: %(covers)s")
ERASURE_RECORDED = gettext_noop("erasure request recorded")
ERASURE_DECIDED = gettext_noop("erasure request decided: %(erasure_decision)s")
REGISTERED = gettext_noop(
    "%(item)s registered as %(registry_kind)s (%(registry_scope)s), case %(case)s"
)
SECRECY_LIFTED = gettext_noop("secrecy lifted for %(case)s")
REGISTRY_EXPORTED = gettext_noop("registry export (%(via)s): %(count)s entry(ies)")

# Archival packages and snapshots (narvaro.packages).
PACKAGE_EXPORTED = gettext_noop(
    "%(package_kind)s package exported: %(items)s items, %(versions)s versions, %(events)s events"
)
PACKAGE_DOWNLOADED = gettext_noop("%(package_kind)s package downloaded")
SNAPSHOT_REQUESTED = gettext_noop("account snapshot requested")
SNAPSHOT_MADE = gettext_noop("account snapshot made")
PACKAGE_RESTORED = gettext_noop("archive package restored from %(path)s")

# Moderation (narvaro.moderation).
MODERATION_REVIEWED = gettext_noop("%(count)s item(s) reviewed in the moderation queue")
MODERATION_DECIDED = gettext_noop(
    "moderation: %(moderation_action)s %(moderation_status)s (%(moderation_reason)s)"
)
ESCALATION_OPENED = gettext_noop("escalation opened: %(moderation_reason)s")
ESCALATION_CLOSED = gettext_noop("escalation closed: %(escalation_status)s")
MODERATION_RENDERING_DOWNLOADED = gettext_noop("moderation rendering downloaded")
EVIDENCE_BUNDLE_DOWNLOADED = gettext_noop("evidence bundle downloaded")
SUPERVISION_ALERT = gettext_noop("moderation queue not reviewed: %(alert_level)s")

# The critique radar and classification (narvaro.radar).
CATEGORY_SET = gettext_noop("category set to %(category)s")
RADAR_ALERT_ACKNOWLEDGED = gettext_noop("radar alert acknowledged")
CLASSIFIER_TRAINED = gettext_noop("classifier trained on %(count)s labels")
CLASSIFIER_TRAINING_REQUESTED = gettext_noop("classifier training requested")

# The inbox (narvaro.inbox).
CONVERSATION_VIEWED = gettext_noop("conversation viewed")
CONVERSATION_ASSIGNED = gettext_noop("conversation assigned")
CONVERSATION_MOVED = gettext_noop("conversation moved to another unit")
CONVERSATION_STATUS = gettext_noop("conversation status changed")
CONVERSATION_NOTE = gettext_noop("internal note added to the conversation")
CONVERSATION_CATEGORY = gettext_noop("conversation category set")
CONVERSATION_REPLIED = gettext_noop("reply sent in the conversation")
CONVERSATION_REFERRED = gettext_noop("referral sent in the conversation")
CONVERSATION_REGISTERED = gettext_noop("conversation registered as a case")
SAVED_REPLY_CREATED = gettext_noop("saved reply created")
SAVED_REPLY_CHANGED = gettext_noop("saved reply changed")
ROUTING_RULE_SAVED = gettext_noop("routing rule saved")

# The inbox (narvaro.inbox).
CONVERSATION_VIEWED = gettext_noop("conversation viewed")
CONVERSATION_ASSIGNED = gettext_noop("conversation assigned")
CONVERSATION_MOVED = gettext_noop("conversation moved to another unit")
CONVERSATION_STATUS = gettext_noop("conversation status changed")
CONVERSATION_NOTE = gettext_noop("internal note added to the conversation")
CONVERSATION_CATEGORY = gettext_noop("conversation category set")
CONVERSATION_REPLIED = gettext_noop("reply sent in the conversation")
CONVERSATION_REFERRED = gettext_noop("referral sent in the conversation")
CONVERSATION_REGISTERED = gettext_noop("conversation registered as a case")
SAVED_REPLY_CREATED = gettext_noop("saved reply created")
SAVED_REPLY_CHANGED = gettext_noop("saved reply changed")
ROUTING_RULE_SAVED = gettext_noop("routing rule saved")

# Summaries other apps write as plain strings or f-strings of exactly these forms (channels,
# organisation, people and sign-in). Listed so they are shown translated; their writers can
# move to `audit_summary` one at a time without changing a stored byte.
ACCOUNT_PROPOSED = gettext_noop("account proposed")
ACCOUNT_MOVED = gettext_noop("account moved to another unit")
ACCOUNT_STATE_CHANGED = gettext_noop("%(from_state)s → %(to_state)s")
POLICY_CREATED = gettext_noop("comment policy created")
POLICY_VERSION_WRITTEN = gettext_noop("version %(number)s written")
POLICY_VERSION_PUBLISHED = gettext_noop("comment policy version published")
COMPLETENESS_VIEWED = gettext_noop("completeness report viewed")
COMPLETENESS_EXPORTED = gettext_noop("completeness report exported")
TOKEN_CONNECTED = gettext_noop("platform token connected")
TOKEN_REPLACED = gettext_noop("platform token replaced (reconnect)")
TOKEN_REFUSED = gettext_noop("platform token refused: reconnect needed")
APP_REGISTERED = gettext_noop("app registered on the instance")
GAP_OPENED = gettext_noop("capture gap opened: %(gap_reason)s")
GAP_CLOSED = gettext_noop("capture gap %(gap_status)s")
PLATFORM_ACTION_FAILED = gettext_noop("%(platform_action)s failed on %(platform)s")
PLATFORM_ACTION_SENT = gettext_noop("%(platform_action)s sent on %(platform)s")
UNIT_CREATED = gettext_noop("unit created")
UNIT_CREATED_UNDER = gettext_noop("unit created under %(parent)s")
MEMBERSHIP_SET = gettext_noop("%(user)s is %(role)s in %(unit)s")
MEMBERSHIP_ENDED = gettext_noop("%(user)s no longer %(role)s in %(unit)s")
OPENING_HOURS_CHANGED = gettext_noop("opening hours changed")
BUSINESS_DAY_SET = gettext_noop("business hours on %(date)s")
BUSINESS_DAY_RESET = gettext_noop("business hours on %(date)s back to normal")
DUTY_ASSIGNED = gettext_noop("%(user)s on duty in %(unit)s on %(dates)s")
DUTY_ASSIGNED_MORE = gettext_noop(
    "%(user)s on duty in %(unit)s on %(dates)s and %(more)s more days"
)
DUTY_UNASSIGNED = gettext_noop("%(user)s no longer on duty in %(unit)s on %(date)s")
PERSON_CREATED = gettext_noop("person %(username)s created")
PERSON_CREATED_AS = gettext_noop("person %(username)s created as %(org_role)s")
PERSON_CREATED_IN_ADMIN = gettext_noop("person %(username)s created in the Django admin")
PASSWORD_SET_IN_ADMIN = gettext_noop("password set in the Django admin")
SIGN_IN_FAILED = gettext_noop("username %(username)s")
AUTHENTICATOR_REGISTERED = gettext_noop("authenticator app registered")
SECOND_FACTOR_WRONG = gettext_noop("wrong second-factor code")
BACKUP_CODES_CREATED = gettext_noop("%(count)s new backup codes created; earlier ones revoked")

# Every message above, in the order written (each module-level name in capitals).
MESSAGES: tuple[str, ...] = tuple(
    value for name, value in list(globals().items()) if name.isupper() and isinstance(value, str)
)

# Placeholders whose values are numbers: matched as digits only.
_NUMBERS = frozenset(
    {"count", "position", "number", "items", "versions", "events", "released", "withheld",
     "skipped", "start", "end", "days", "version_id", "attempt", "run", "more"}
)  # fmt: skip
# Placeholders whose values are codes of a choice list: matched only as one of the codes and
# shown as the code's label in the reader's language.
_CHOICES: dict[str, tuple[str, ...]] = {
    "decision": ("narvaro.disclosure.models.Decision",),
    "file_kind": ("narvaro.disclosure.models.DeliveryFile.Kind",),
    "redaction_field": ("narvaro.disclosure.models.Redaction.Field",),
    "record_class": ("narvaro.retention.models.RecordClass",),
    "hold_kind": ("narvaro.retention.models.LegalHold.Kind",),
    "hold_scope": ("narvaro.retention.models.HoldScope",),
    "erasure_decision": ("narvaro.retention.models.ErasureRequest.Decision",),
    "registry_kind": ("narvaro.retention.models.RegistryEntry.Kind",),
    "registry_scope": ("narvaro.retention.models.RegistryEntry.Scope",),
    "package_kind": ("narvaro.packages.models.PackageExport.Kind",),
    "from_state": ("narvaro.channels.models.Account.State",),
    "to_state": ("narvaro.channels.models.Account.State",),
    "gap_reason": ("narvaro.channels.models.CaptureGap.Reason",),
    "gap_status": ("narvaro.channels.models.CaptureGap.Status",),
    "platform": ("narvaro.channels.models.Platform",),
    "role": ("narvaro.organisation.models.Membership.Role",),
    "org_role": ("narvaro.core.models.User.OrgRole",),
    "category": ("narvaro.radar.models.Category",),
    "moderation_action": ("narvaro.moderation.models.Action",),
    "moderation_status": ("narvaro.moderation.models.ModerationAction.Status",),
    "moderation_reason": ("narvaro.moderation.models.Reason",),
    "escalation_status": ("narvaro.moderation.models.EscalationTask.Status",),
    "alert_level": ("narvaro.moderation.models.SupervisionAlert.Level",),
}
# Codes written in summaries that belong to no choice list.
_EXTRA_LABELS: dict[str, dict[str, str]] = {
    "decision": {"undecided": gettext_noop("not decided")},
    "platform_action": {
        "publish": gettext_noop("publishing"),
        "reply": gettext_noop("reply"),
        "delete": gettext_noop("deletion"),
        "hide": gettext_noop("hiding a reply"),
        "block": gettext_noop("blocking"),
        "report": gettext_noop("report"),
    },
}

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def audit_summary(message: str, **values: Any) -> str:
    """The summary to store: `message` (one of MESSAGES) in English with `values` filled in."""
    if message not in MESSAGES:
        raise ValueError(f"not a listed audit summary: {message!r}")
    return message % values


@cache
def _codes(placeholder: str) -> dict[str, str]:
    """The codes a choice placeholder may hold, each with its (lazy or no-op) English label."""
    codes: dict[str, str] = {}
    for path in _CHOICES.get(placeholder, ()):
        module, _, attributes = path.partition(".models.")
        choices: Any = import_module(f"{module}.models")
        for attribute in attributes.split("."):
            choices = getattr(choices, attribute)
        codes.update({str(value): label for value, label in choices.choices if value})
    codes.update(_EXTRA_LABELS.get(placeholder, {}))
    return codes


def _value_pattern(placeholder: str) -> str:
    if placeholder in _NUMBERS:
        return r"\d+"
    codes = _codes(placeholder)
    if codes:
        return "|".join(re.escape(code) for code in sorted(codes, key=len, reverse=True))
    return ".+?"


@cache
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Each message as a pattern that takes its values back out of a stored summary.

    Longer messages first, so a message that is a more specific form of another wins.
    Numbers match only digits and codes only the codes of their choice list, so a free text
    (a change note) is not mistaken for a message.
    """
    patterns = []
    for message in sorted(MESSAGES, key=len, reverse=True):
        pattern = ""
        position = 0
        for placeholder in _PLACEHOLDER.finditer(message):
            name = placeholder.group(1)
            pattern += re.escape(message[position : placeholder.start()])
            pattern += f"(?P<{name}>{_value_pattern(name)})"
            position = placeholder.end()
        pattern += re.escape(message[position:])
        patterns.append((message, re.compile(pattern, re.DOTALL)))
    return patterns


def _shown(placeholder: str, value: str) -> str:
    label = _codes(placeholder).get(value) if placeholder not in _NUMBERS else None
    if label is None:
        return value
    return gettext(label) if isinstance(label, str) else str(label)


def summary_match(summary: str) -> tuple[str, dict[str, str]] | None:
    """The listed message `summary` was written from, and its values; None if it is free text."""
    for message, pattern in _patterns():
        match = pattern.fullmatch(summary)
        if match is not None:
            return message, match.groupdict()
    return None


def summary_display(summary: str) -> str:
    """A stored summary in the active language, when it was written from a listed message.

    Values that are codes of a choice list (a decision, a state, a role) are shown as their
    label in the active language; other values as stored. In English the summary is shown
    exactly as stored.
    """
    found = summary_match(summary)
    if found is None or (get_language() or "en").startswith("en"):
        return summary  # free text, or English: shown exactly as stored
    message, values = found
    return gettext(message) % {name: _shown(name, value) for name, value in values.items()}
