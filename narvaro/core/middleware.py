"""Two-factor enforcement for the roles that must use it (R5)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import resolve, reverse
from django.urls.exceptions import Resolver404
from django_htmx.http import HttpResponseClientRedirect

# Set at sign-in: the person had a confirmed authenticator then (see core/signals.py).
SESSION_HAS_DEVICE = "narvaro_has_second_factor"

# Views a signed-in person may reach before completing the second factor.
EXEMPT_VIEWS = {
    "core:login",
    "core:logout",
    "core:two_factor_verify",
    "core:two_factor_setup",
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
        if not settings.NARVARO_BROWSER_LANGUAGE:
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class HtmxSignInMiddleware:
    """An htmx request whose session has ended is not answered with the sign-in page.

    `login_required` and the second-factor step answer with a redirect, which the browser
    follows inside the XHR: htmx would then swap the whole sign-in page into the element that
    asked (a filtered list, a poller inside a live region). Instead:

    - a **poller** of the inbox (`HX-Trigger` names it) gets 401: nothing is swapped, the page
      says the session has ended and stops polling, and what is typed on it stays (app.js);
    - **any other htmx request** gets `HX-Redirect` to the same sign-in (or second-factor)
      address, with the page the person was on as `next`: htmx loads it as a whole page.
    """

    POLLERS = frozenset({"news-poll", "conversation-poll"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.headers.get("HX-Request") != "true" or response.status_code not in (301, 302):
            return response
        location = response.get("Location", "")
        path = location.split("?")[0]
        targets = (
            resolve_url(settings.LOGIN_URL),
            reverse("core:two_factor_verify"),
            reverse("core:two_factor_setup"),
        )
        if path not in targets:
            return response
        if request.headers.get("HX-Trigger") in self.POLLERS:
            return HttpResponse(status=401)
        # Back to the page the person was on, not to the fragment htmx asked for.
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = current.path + (f"?{current.query}" if current.query else "")
        if not back.startswith("/"):
            back = "/"
        return HttpResponseClientRedirect(f"{path}?{urlencode({'next': back})}")


class RequireTwoFactorMiddleware:
    """Hold a signed-in person at the second-factor step until they have passed it (R5).

    It applies to everyone whose role requires a second factor (admins and registrars by
    default) and to everyone who has registered an authenticator, whatever their role: once
    turned on, a second factor is never optional. A person without a confirmed authenticator
    is sent to set one up; a person with one is asked for a code.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and (user.requires_two_factor or request.session.get(SESSION_HAS_DEVICE))
            and not self._is_exempt(request)
        ):
            return redirect(second_factor_url(request))
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


def second_factor_url(request: HttpRequest, next_url: str | None = None) -> str:
    """Where an unverified person goes: enter a code, or set up an authenticator first."""
    from narvaro.core.selectors import user_has_confirmed_device

    target = (
        "core:two_factor_verify"
        if user_has_confirmed_device(request.user)  # type: ignore[arg-type]
        else "core:two_factor_setup"
    )
    return f"{reverse(target)}?{urlencode({'next': next_url or request.get_full_path()})}"
