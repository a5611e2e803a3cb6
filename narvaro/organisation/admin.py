from django.contrib import admin

from narvaro.lib.admin import ReadOnlyAdmin
from narvaro.organisation.models import (
    CalendarDay,
    DutyAssignment,
    Membership,
    OpeningHours,
    Unit,
)


@admin.register(Unit)
class UnitAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "parent", "response_target"]
    search_fields = ["name", "slug"]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "unit", "role", "requires_approval"]
    list_filter = ["role"]


@admin.register(OpeningHours)
class OpeningHoursAdmin(ReadOnlyAdmin):
    list_display = ["weekday", "opens", "closes"]


@admin.register(CalendarDay)
class CalendarDayAdmin(ReadOnlyAdmin):
    list_display = ["date", "kind", "opens_at", "closes_at", "note"]


@admin.register(DutyAssignment)
class DutyAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["date", "unit", "user", "note"]
    list_filter = ["unit"]
