from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "narvaro.channels"
    label = "channels"
    verbose_name = _("Channels")

    def ready(self) -> None:
        import datetime as dt

        from narvaro.core.scheduler import register_periodic

        # Each connection has its own next_run_at (NARVARO_HARVEST_INTERVAL); this job only
        # looks every minute for the ones that are due.
        register_periodic(
            "channels-harvest-due",
            "narvaro.channels.tasks.harvest_connections_due",
            dt.timedelta(minutes=1),
        )
