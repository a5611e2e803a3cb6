from django.contrib import admin

from narvaro.lib.admin import ReadOnlyAdmin
from narvaro.organisation.models import Membership, Unit


@admin.register(Unit)
class UnitAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "parent"]
    search_fields = ["name", "slug"]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "unit", "role", "requires_approval"]
    list_filter = ["role"]
