from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from narvaro.core import services
from narvaro.core.models import AuditEvent, ScheduledJob, User
from narvaro.lib.admin import ReadOnlyAdmin


@admin.register(User)
class PersonAdmin(UserAdmin):
    """People: admin and staff flags follow the organisation-wide role and cannot be set apart."""

    list_display = ["username", "first_name", "last_name", "email", "org_role", "is_active"]
    list_filter = ["org_role", "is_active"]
    fieldsets = (
        (None, {"fields": ["username", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "email", "title"]}),
        ("Narvaro", {"fields": ["org_role", "is_active"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    )
    readonly_fields = ["last_login", "date_joined"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # People are deactivated, never deleted: the audit log points at them.
        return False

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        fields = {name: getattr(obj, name) for name in services.USER_TRACKED_FIELDS}
        if change:
            services.user_update(actor=request.user, user=obj, request=request, **fields)  # type: ignore[arg-type]
        else:
            super().save_model(request, obj, form, change)
            services.user_update(actor=request.user, user=obj, request=request, **fields)  # type: ignore[arg-type]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the audit log is append-only, even for admins."""

    list_display = ["at", "actor_name", "action", "target_repr", "summary"]
    list_filter = ["action"]
    search_fields = ["target_repr", "summary", "actor_name"]


@admin.register(ScheduledJob)
class ScheduledJobAdmin(admin.ModelAdmin):
    """Admins may pause or re-time periodic jobs; the worker's scheduler reads these rows."""

    list_display = ["name", "task_path", "interval_seconds", "enabled", "next_run_at"]
    fields = ["name", "task_path", "interval_seconds", "enabled", "next_run_at"]
    readonly_fields = ["name", "task_path"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
