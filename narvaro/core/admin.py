from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from narvaro.core.models import AuditEvent, ScheduledJob, User


@admin.register(User)
class PersonAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "org_role", "is_active"]
    list_filter = ["org_role", "is_active"]
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Narvaro", {"fields": ["org_role", "title"]}))


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only, even for admins."""

    list_display = ["at", "actor_name", "action", "target_repr", "summary"]
    list_filter = ["action"]
    search_fields = ["target_repr", "summary", "actor_name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ScheduledJob)
class ScheduledJobAdmin(admin.ModelAdmin):
    list_display = ["name", "task_path", "interval_seconds", "enabled", "next_run_at"]
