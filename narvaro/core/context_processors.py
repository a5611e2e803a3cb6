"""What every page's shell needs: the organisation's name and which menu entries to show."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    nav: dict[str, bool] = {}
    if user is not None and user.is_authenticated:
        from narvaro.core.permissions import shell_flags

        nav = shell_flags(user)
    return {"organisation_name": settings.ORGANISATION_NAME, "nav": nav}
