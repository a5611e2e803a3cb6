from django.contrib import admin

from narvaro.lib.admin import ReadOnlyAdmin
from narvaro.moderation.models import EscalationTask, ModerationAction, SupervisionAlert


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "action", "reason", "status"]
    list_filter = ["action", "reason", "status"]


@admin.register(EscalationTask)
class EscalationTaskAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "status"]


@admin.register(SupervisionAlert)
class SupervisionAlertAdmin(ReadOnlyAdmin):
    list_display = ["raised_at", "account", "level", "pending"]
