"""Typing helpers."""

from __future__ import annotations

from django.http import HttpRequest

from narvaro.core.models import User


class AuthedRequest(HttpRequest):
    """A request behind `login_required`: `user` is a signed-in person, never AnonymousUser."""

    user: User  # type: ignore[assignment]
