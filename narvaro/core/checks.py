"""System checks of Narvaro's own settings (`narvaro manage check --deploy`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}  # noqa: S104 - compared, not bound


@register(Tags.security, deploy=True)
def base_url_is_public(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E-mails link to NARVARO_BASE_URL: on a server it must be the address people use."""
    host = urlsplit(settings.NARVARO_BASE_URL).hostname or ""
    if host in LOCAL_HOSTS:
        return [
            Warning(
                f"NARVARO_BASE_URL is {settings.NARVARO_BASE_URL!r}: the links in Narvaro's "
                "e-mails (radar alerts, supervision, reconnect, gallring) would point at this "
                "machine, not at the address people open.",
                hint="Set NARVARO_BASE_URL to the public https:// address (docs/operations.md).",
                id="narvaro.W001",
            )
        ]
    return []
