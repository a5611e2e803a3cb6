from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "narvaro.inbox"
    label = "inbox"
    verbose_name = _("Inbox")

    def ready(self) -> None:
        import datetime as dt

        from narvaro.archive.signals import items_captured
        from narvaro.core.scheduler import register_periodic
        from narvaro.inbox import receivers

        items_captured.connect(receivers.derive_after_capture, dispatch_uid="inbox-derive")
        if apps.is_installed("narvaro.radar"):
            from narvaro.radar.signals import categories_revised

            categories_revised.connect(
                receivers.follow_revised_categories, dispatch_uid="inbox-category-follow"
            )
        # The catch-up: whatever a missed signal left behind is derived within a minute.
        register_periodic(
            "inbox-derive", "narvaro.inbox.tasks.inbox_derive", dt.timedelta(minutes=1)
        )
        register_periodic(
            "inbox-due-recompute", "narvaro.inbox.tasks.inbox_due_recompute", dt.timedelta(days=1)
        )
