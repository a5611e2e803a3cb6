"""The client's address, the same for the audit log and for login throttling."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from.

    Behind NARVARO_PROXY_COUNT trusted reverse proxies, each proxy appends the address it
    received the request from to X-Forwarded-For, so the client is that many entries from
    the right. Entries further left were written by the client and cannot be trusted.
    """
    proxies = settings.NARVARO_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None
