"""Formatting of business time (presentation only)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def business_time(value: dt.timedelta | None) -> str:
    """8 h 30 min, 4 h, 45 min; a dash for nothing."""
    if value is None:
        return "–"
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    if hours:
        return _("%(hours)d h") % {"hours": hours}
    return _("%(minutes)d min") % {"minutes": minutes}


@register.filter
def clock(value: dt.datetime | dt.time | None) -> str:
    """A time of day as 08:00; a closing time at midnight as 24:00."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.timetz().replace(tzinfo=None)
    return value.strftime("%H:%M")
