"""Formatting filters for form fields (presentation only)."""

from __future__ import annotations

from django import forms, template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def with_class(field: BoundField, css_class: str) -> SafeString:
    """Render the widget with a Designsystemet class (and `ds-input` variants per widget)."""
    widget = field.field.widget
    classes = [css_class]
    if isinstance(widget, forms.Select | forms.SelectMultiple):
        classes = ["ds-input"]
    return field.as_widget(attrs={"class": " ".join(classes)})


@register.filter
def is_checkbox(field: BoundField) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)
