"""Whole addresses for links that are read outside Narvaro, such as in e-mails."""

from __future__ import annotations

from django.conf import settings


def absolute_url(path: str) -> str:
    """`path` (a `reverse()` result) as a full address under NARVARO_BASE_URL.

    A view builds links from its request; a mail is often sent by the worker, with no request
    to read the host from, and a bare path is useless in a mail client.
    """
    if not path.startswith("/"):
        raise ValueError(f"{path!r} is not a path on the site")
    return f"{settings.NARVARO_BASE_URL}{path}"
