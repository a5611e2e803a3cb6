from django.contrib import admin

from narvaro.lib.admin import ReadOnlyAdmin
from narvaro.radar.models import Alert, Label, ModelVersion


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["id", "raised_at", "scope", "unit", "account", "observed", "acknowledged_at"]
    list_filter = ["scope", "critique_spike", "volume_spike"]


@admin.register(Label)
class LabelAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "item", "category", "previous", "person"]
    list_filter = ["category"]


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "status", "label_count", "model_f1", "rules_f1", "active"]
    list_filter = ["status", "active"]
    exclude = ["model_bytes"]
