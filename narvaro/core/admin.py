from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from narvaro.core import services
from narvaro.core.models import AuditEvent, ScheduledJob, User
from narvaro.lib.admin import ReadOnlyAdmin


class PersonChangeForm(UserChangeForm):
    """The admin's person form, refusing what would lock the admin out."""

    acting_user: User | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        acting = self.acting_user
        locks_out = (
            acting is not None
            and self.instance.pk == acting.pk
            and (data.get("org_role") != User.OrgRole.ADMIN or not data.get("is_active", True))
        )
        if locks_out:
            raise ValidationError(_("You cannot remove your own administrator role or access."))
        return data


@admin.register(User)
class PersonAdmin(UserAdmin):
    """People: admin and staff flags follow the organisation-wide role and cannot be set apart.

    Changes go through `user_update`, so they are validated and in the audit log like changes
    made on Narvaro's own pages. People are deactivated, never deleted.
    """

    form = PersonChangeForm
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

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if issubclass(form, PersonChangeForm):
            form.acting_user = request.user  # type: ignore[assignment]
        return form

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        actor = request.user if isinstance(request.user, User) else None
        if not change:
            super().save_model(request, obj, form, change)
            services.audit_record(
                actor=actor,
                action=AuditEvent.Action.CREATE,
                target=obj,
                summary=f"person {obj.username} created in the Django admin",
                request=request,
            )
            return
        fields = {name: getattr(obj, name) for name in services.USER_TRACKED_FIELDS}
        services.user_update(actor=actor, user=obj, request=request, **fields)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_change(request, obj, message)
        if "password" in str(message).lower():
            # The admin's "change password" form: a security change to another person.
            services.audit_record(
                actor=request.user if isinstance(request.user, User) else None,
                action=AuditEvent.Action.SECURITY,
                target=obj,
                summary="password set in the Django admin",
                request=request,
            )
        return entry


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
