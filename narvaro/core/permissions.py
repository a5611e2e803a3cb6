"""Role-only checks (decorators) and the menu flags derived from them.

Object checks are the `get_<entity>_for_user` selectors; these decorators are for pages that
belong to an organisation-wide role rather than to an object.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse

from narvaro.core.models import User
from narvaro.lib.types import AuthedRequest

View = Callable[..., HttpResponse]


def require_org_admin(view: View) -> View:
    """Only organisation admins; others get 403."""

    @login_required
    @wraps(view)
    def wrapper(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_org_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def require_audit_reader(view: View) -> View:
    """Admins, registrars and unit managers (who read their units' events); others get 403."""

    @login_required
    @wraps(view)
    def wrapper(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not shell_flags(request.user)["audit"]:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def shell_flags(user: User) -> dict[str, bool]:
    """Which sections the signed-in person may open; the menu shows exactly these."""
    from narvaro.organisation.roles import Capability
    from narvaro.organisation.selectors import unit_access

    access = unit_access(user)
    manages = access.unit_ids(Capability.MANAGE)
    manages_any = manages is None or bool(manages)
    views = access.unit_ids(Capability.VIEW)
    views_any = views is None or bool(views)
    moderates = access.unit_ids(Capability.MODERATE)
    return {
        "units": views_any,
        # Anyone with a unit role reads its inbox; admins and registrars every unit's.
        "inbox": views_any,
        "accounts": views_any,
        # The critique radar: the moderators and managers of a unit, and admins.
        "radar": moderates is None or bool(moderates),
        # Moderation queues (moderators, managers, admins) and escalations (registrars too).
        "moderation": moderates is None or bool(moderates) or user.is_registrar,
        "policies": True,
        "audit": user.is_org_admin or user.is_registrar or manages_any,
        # Requests for public records, gallring and packages: the registrar's desk (R23, R27).
        "records_desk": user.is_org_admin or user.is_registrar,
        "people": user.is_org_admin,
        "admin": user.is_org_admin,
    }
