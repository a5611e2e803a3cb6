"""Finding personal data to suggest for masking in a disclosure copy (R25, R33).

Swedish personal identity and coordination numbers are found by their shape and then checked
with the `personnummer` package (date, Luhn checksum, coordination day + 60); phone numbers
by Google's libphonenumber (`phonenumbers`, region SE); e-mail addresses by shape, then
Django's own validator. These are suggestions: the registrar decides each one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from personnummer.personnummer import Personnummer, PersonnummerException

# 6 or 8 digits of date, an optional - or + separator, 4 digits; not part of a longer number
# (no digit, nor a digit and a dash, on either side; "intyg-19811218-9876.jpg" is found).
_PNR_SHAPE = re.compile(r"(?<!\d)(?<!\d-)(?:\d{2})?\d{6}[-+]?\d{4}(?!\d)(?!-\d)")
# Not right after "@" or a word character: "@anna@social.example" is a handle, not an address.
_EMAIL_SHAPE = re.compile(r"(?<![@\w.])[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class Finding:
    """A span of text that looks like personal data of `kind` (see `Redaction.Kind`)."""

    start: int
    end: int
    kind: str


def find_identity_numbers(text: str) -> list[Finding]:
    """Valid personnummer and samordningsnummer in `text` (format and checksum)."""
    found = []
    for match in _PNR_SHAPE.finditer(text):
        try:
            number = Personnummer(match.group())
        except PersonnummerException:
            continue
        kind = "samordning" if number.is_coordination_number() else "pnr"
        found.append(Finding(match.start(), match.end(), kind))
    return found


def find_emails(text: str) -> list[Finding]:
    found = []
    for match in _EMAIL_SHAPE.finditer(text):
        try:
            validate_email(match.group())
        except ValidationError:
            continue
        found.append(Finding(match.start(), match.end(), "email"))
    return found


def find_phone_numbers(text: str) -> list[Finding]:
    return [
        Finding(match.start, match.end, "phone")
        for match in phonenumbers.PhoneNumberMatcher(text, "SE")
    ]


def find_personal_data(text: str) -> list[Finding]:
    """Every finding in `text`, in order, none overlapping another.

    Where two overlap, identity numbers win over e-mail addresses, and both over phone
    numbers (a 10-digit personnummer also reads as a phone number).
    """
    kept: list[Finding] = []
    for finding in find_identity_numbers(text) + find_emails(text) + find_phone_numbers(text):
        if not any(finding.start < other.end and other.start < finding.end for other in kept):
            kept.append(finding)
    return sorted(kept, key=lambda finding: finding.start)
