"""Formatting of audit log rows (presentation only)."""

from __future__ import annotations

import json
from typing import Any

from django import template

from narvaro.core.audit_summaries import summary_display

register = template.Library()


@register.filter
def audit_summary(summary: str) -> str:
    """A stored audit summary in the reader's language (see core.audit_summaries)."""
    return summary_display(summary or "")


def _shown(value: Any) -> str:
    if not value:
        return "–"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@register.filter
def audit_changes(changes: Any) -> list[tuple[str, str]]:
    """(field, "old → new") for a field's [old, new] pair; (key, value) for anything else.

    Services log changed fields as [old, new] pairs, and counts or filters as plain values
    (an import's {"items": 12}); a template cannot tell them apart, nor reach `.items` of
    a dict that has an "items" key.
    """
    if not isinstance(changes, dict):
        return []
    shown = []
    for field, change in changes.items():
        if isinstance(change, list) and len(change) == 2:
            shown.append((str(field), f"{_shown(change[0])} → {_shown(change[1])}"))
        else:
            shown.append((str(field), _shown(change)))
    return shown
