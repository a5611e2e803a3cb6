from django.contrib import admin

from narvaro.lib.admin import ReadOnlyAdmin
from narvaro.retention.models import (
    DisposalLogEntry,
    DisposalRun,
    ErasureRequest,
    LegalHold,
    RegistryEntry,
    RetentionRule,
)


@admin.register(RetentionRule)
class RetentionRuleAdmin(ReadOnlyAdmin):
    list_display = ["name", "record_class", "decision_reference", "period_days", "active"]


@admin.register(DisposalRun)
class DisposalRunAdmin(ReadOnlyAdmin):
    list_display = ["rule", "state", "created_at", "item_count", "disposed_count"]


@admin.register(DisposalLogEntry)
class DisposalLogEntryAdmin(ReadOnlyAdmin):
    list_display = ["item_label", "version_number", "decision_reference", "disposed_at"]


@admin.register(LegalHold)
class LegalHoldAdmin(ReadOnlyAdmin):
    list_display = ["kind", "scope", "created_at", "released_at"]


@admin.register(ErasureRequest)
class ErasureRequestAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "requester", "decision", "decided_at"]


@admin.register(RegistryEntry)
class RegistryEntryAdmin(ReadOnlyAdmin):
    list_display = ["case_number", "kind", "received_on", "sender", "lifted_at"]
