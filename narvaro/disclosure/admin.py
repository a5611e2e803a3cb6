from django.contrib import admin

from narvaro.disclosure.models import RecordsRequest
from narvaro.lib.admin import ReadOnlyAdmin


@admin.register(RecordsRequest)
class RecordsRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "received_at", "channel", "status", "handler"]
    list_filter = ["status", "channel"]
