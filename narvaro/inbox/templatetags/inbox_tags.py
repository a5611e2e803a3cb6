"""Template helpers of the inbox."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.translation import gettext as _

from narvaro.radar.models import Category

register = template.Library()


@register.filter
def business_hours(value: dt.timedelta | None) -> str:
    """A business duration as hours and minutes ("3 h 05 min"); a dash for none."""
    if value is None:
        return "–"
    minutes = round(value.total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d min") % {"minutes": minutes}


@register.filter
def percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)} %"


@register.filter
def category_label(code: str) -> str:
    """The category's name in the reader's language ("critique" -> "Critique"), or the code."""
    try:
        return str(Category(code).label)
    except ValueError:
        return code or "–"
