from django.contrib import admin

from narvaro.lib.admin import ReadOnlyAdmin
from narvaro.packages.models import AccountSnapshot, PackageExport, RestoredChainEntry


@admin.register(PackageExport)
class PackageExportAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "status", "account", "unit", "created_at", "size"]
    list_filter = ["kind", "status"]


@admin.register(AccountSnapshot)
class AccountSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["account", "made_at", "made_by", "chain_seq"]


@admin.register(RestoredChainEntry)
class RestoredChainEntryAdmin(ReadOnlyAdmin):
    list_display = ["account", "seq", "original_seq", "entry_type", "recorded_at"]
