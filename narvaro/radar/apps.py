from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RadarConfig(AppConfig):
    name = "narvaro.radar"
    label = "radar"
    verbose_name = _("Critique radar")

    def ready(self) -> None:
        import datetime as dt

        from django.conf import settings

        from narvaro.archive.signals import items_captured
        from narvaro.core.scheduler import register_periodic
        from narvaro.radar import receivers

        items_captured.connect(receivers.classify_captured, dispatch_uid="radar-classify")
        # The feed's catch-up: items a lost signal (a crash, a restart) left behind.
        register_periodic(
            "radar-classify", "narvaro.radar.tasks.classify_feed", dt.timedelta(minutes=15)
        )
        register_periodic("radar-train", "narvaro.radar.tasks.model_train", dt.timedelta(hours=1))
        register_periodic(
            "radar-evaluate",
            "narvaro.radar.tasks.radar_evaluate",
            dt.timedelta(minutes=settings.NARVARO_RADAR_EVALUATE_MINUTES),
        )
