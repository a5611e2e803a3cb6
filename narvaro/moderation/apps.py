from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "narvaro.moderation"
    label = "moderation"
    verbose_name = _("Moderation")

    def ready(self) -> None:
        import datetime as dt

        from narvaro.archive.signals import items_captured
        from narvaro.core.scheduler import register_periodic
        from narvaro.moderation import receivers

        items_captured.connect(receivers.queue_after_capture, dispatch_uid="moderation-queue")
        # The catch-up for a missed signal, and the supervision monitor (R15).
        register_periodic(
            "moderation-queue",
            "narvaro.moderation.tasks.moderation_queue_fill",
            dt.timedelta(minutes=5),
        )
        register_periodic(
            "moderation-supervision",
            "narvaro.moderation.tasks.moderation_supervise",
            dt.timedelta(hours=1),
        )
