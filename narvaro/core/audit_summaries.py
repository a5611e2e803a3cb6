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
from typing import Any

from django.utils.translation import gettext, gettext_noop

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

MESSAGES: tuple[str, ...] = (
    RECORD_VIEWED,
    ATTACHMENT_VIEWED,
    RECORDS_EXPORTED,
    FIXITY_FAILED,
    EXPORT_IMPORTED,
    CHANNEL_REGISTER_EXPORTED,
)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def audit_summary(message: str, **values: Any) -> str:
    """The summary to store: `message` (one of MESSAGES) in English with `values` filled in."""
    if message not in MESSAGES:
        raise ValueError(f"not a listed audit summary: {message!r}")
    return message % values


@cache
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Each message as a pattern that takes its values back out of a stored summary.

    Longer messages first, so a message that is a more specific form of another wins.
    """
    patterns = []
    for message in sorted(MESSAGES, key=len, reverse=True):
        pattern = ""
        position = 0
        for placeholder in _PLACEHOLDER.finditer(message):
            pattern += re.escape(message[position : placeholder.start()])
            pattern += f"(?P<{placeholder.group(1)}>.+?)"
            position = placeholder.end()
        pattern += re.escape(message[position:])
        patterns.append((message, re.compile(pattern, re.DOTALL)))
    return patterns


def summary_display(summary: str) -> str:
    """A stored summary in the active language, when it was written from a listed message."""
    for message, pattern in _patterns():
        match = pattern.fullmatch(summary)
        if match is not None:
            return gettext(message) % match.groupdict()
    return summary
