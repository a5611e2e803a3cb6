"""Formatting of audit log rows (presentation only)."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.utils.text import capfirst

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


def _model_field(target_type: str, name: str) -> Any:
    """The model field `name` of the audited object's model ("channels.account"), if any."""
    from django.apps import apps
    from django.core.exceptions import FieldDoesNotExist

    try:
        field = apps.get_model(target_type)._meta.get_field(name)
    except (LookupError, ValueError, FieldDoesNotExist):
        return None
    # A reverse relation ("items" of an account) is not a field of the object's own.
    return field if hasattr(field, "verbose_name") else None


def _value(field: Any, value: Any) -> str:
    choices = dict(getattr(field, "flatchoices", None) or ()) if field is not None else {}
    if isinstance(value, str | int) and value in choices and value != "":
        return str(choices[value])
    return _shown(value)


@register.filter
def audit_event_changes(event: Any) -> list[tuple[str, str]]:
    """(field, "old → new") for each changed field of an audit event, the field named as its
    model names it in the reader's language ("state" -> "Status") and a choice shown by its
    label ("active" -> "Aktivt"); (key, value) for counts and filters (an import's
    {"items": 12}), which a template could not tell apart nor reach as `.items`."""
    changes = getattr(event, "changes", None)
    if not isinstance(changes, dict):
        return []
    shown = []
    for name, change in changes.items():
        field = _model_field(getattr(event, "target_type", "") or "", str(name))
        label = capfirst(str(field.verbose_name)) if field is not None else str(name)
        if isinstance(change, list) and len(change) == 2:
            shown.append((label, f"{_value(field, change[0])} → {_value(field, change[1])}"))
        else:
            shown.append((label, _value(field, change)))
    return shown
