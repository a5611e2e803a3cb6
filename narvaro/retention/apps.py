from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetentionConfig(AppConfig):
    name = "narvaro.retention"
    label = "retention"
    verbose_name = _("Records management")

    def ready(self) -> None:
        import datetime as dt

        from narvaro.core.scheduler import register_periodic

        # Dry runs only: a scheduled job never commits a disposal (R27).
        register_periodic(
            "retention-dry-runs", "narvaro.retention.tasks.retention_dry_runs", dt.timedelta(days=7)
        )
