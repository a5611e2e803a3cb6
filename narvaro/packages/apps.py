import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PackagesConfig(AppConfig):
    name = "narvaro.packages"
    label = "packages"
    verbose_name = _("Archival packages")

    def ready(self) -> None:
        # The bagit library logs a line per file at INFO; an export's progress bar says enough.
        logging.getLogger("bagit").setLevel(logging.WARNING)
