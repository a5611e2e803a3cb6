"""CSV for spreadsheet programs: text that would run as a formula is neutralised."""

from __future__ import annotations

import re
from typing import Any

HANDLE_RE = re.compile(r"@[\w.-]+(@[\w.-]+)?")


def spreadsheet_safe(value: Any) -> Any:
    """Neutralise text a spreadsheet would run as a formula (CSV injection, OWASP)."""
    if not isinstance(value, str) or value[:1] not in ("=", "+", "-", "@", "\t", "\r"):
        return value
    if HANDLE_RE.fullmatch(value):
        # @name or @name@instance: a handle, not a formula, and it must stay exact.
        return value
    return "'" + value
