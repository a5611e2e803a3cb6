from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArchiveConfig(AppConfig):
    name = "narvaro.archive"
    label = "archive"
    verbose_name = _("Records archive")

    def ready(self) -> None:
        import datetime as dt

        from narvaro.core.scheduler import register_periodic

        register_periodic(
            "fixity-check", "narvaro.archive.tasks.fixity_check", dt.timedelta(days=1)
        )
