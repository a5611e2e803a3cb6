"""Two-factor enforcement for the roles that must use it (R5)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import resolve, reverse
from django.urls.exceptions import Resolver404

# Views a signed-in person may reach before completing the second factor.
EXEMPT_VIEWS = {
    "core:login",
    "core:logout",
    "core:two_factor_verify",
    "core:two_factor_setup",
    "core:two_factor_backup_codes",
    "core:set_language",
    "core:accessibility",
    "core:health",
}


class OrganisationLanguageMiddleware:
    """Speak the organisation's language (NARVARO_LANGUAGE) until the person picks another.

    Django would otherwise follow the browser's Accept-Language header, so a Swedish
    municipality's staff with English browsers would land in English. The language switch
    sets a cookie, which LocaleMiddleware still honours.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        if not settings.NARVARO_BROWSER_LANGUAGE:
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class RequireTwoFactorMiddleware:
    """Send admins and registrars to the second-factor step until they have passed it.

    A person without a confirmed authenticator is sent to set one up; a person with one is
    asked for a code. Everything else answers only after that.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and user.requires_two_factor
            and not user.is_verified()  # type: ignore[union-attr,attr-defined]  # set by OTPMiddleware
            and not self._is_exempt(request)
        ):
            from narvaro.core.selectors import user_has_confirmed_device

            target = (
                "core:two_factor_verify"
                if user_has_confirmed_device(user)
                else "core:two_factor_setup"
            )
            # Come back to the page that was asked for once the second factor is given.
            return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _is_exempt(request: HttpRequest) -> bool:
        if request.path.startswith("/static/"):
            return True
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.view_name in EXEMPT_VIEWS
