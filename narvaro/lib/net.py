"""The client's address, the same for the audit log and for login throttling."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from, or None when no valid address is known.

    Behind NARVARO_PROXY_COUNT trusted reverse proxies, each proxy appends the address it
    received the request from to X-Forwarded-For, so the client is that many entries from
    the right. Entries further left were written by the client and cannot be trusted.
    """
    proxies = settings.NARVARO_PROXY_COUNT
    if proxies > 0:
        header = request.META.get("HTTP_X_FORWARDED_FOR", "")
        forwarded = [part.strip() for part in header.split(",") if part.strip()]
        if len(forwarded) >= proxies and _is_ip(forwarded[-proxies]):
            return forwarded[-proxies]
    remote = request.META.get("REMOTE_ADDR") or ""
    return remote if _is_ip(remote) else None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
