from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisclosureConfig(AppConfig):
    name = "narvaro.disclosure"
    label = "disclosure"
    verbose_name = _("Requests for public records")

    def ready(self) -> None:
        import datetime as dt

        from narvaro.core.scheduler import register_periodic

        # A delivery whose worker died mid-render is queued again (or marked failed) on its
        # own, shortly after Delivery.STALE_AFTER (ADR 0016).
        register_periodic(
            "disclosure-stalled-deliveries",
            "narvaro.disclosure.tasks.deliveries_recover_stalled",
            dt.timedelta(minutes=5),
        )
