from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "narvaro.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        import datetime as dt

        from narvaro.core import checks, signals  # noqa: F401  (registers checks and receivers)
        from narvaro.core.scheduler import register_periodic

        register_periodic(
            "prune-task-results", "narvaro.core.tasks.prune_task_results", dt.timedelta(days=1)
        )
