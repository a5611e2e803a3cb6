"""htmx helpers: one view, two renderings (full page or the partial it swaps in)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import HttpResponseClientRedirect


def htmx_partial(request: HttpRequest) -> bool:
    """True for an htmx request that wants only the partial (not a boosted navigation)."""
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.boosted


def render_page(
    request: HttpRequest, template: str, partial: str, context: dict[str, Any]
) -> HttpResponse:
    """Render `partial` for htmx requests and the full `template` otherwise."""
    return render(request, partial if htmx_partial(request) else template, context)


def redirect_to(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that htmx follows as a full navigation (HX-Redirect)."""
    if htmx_partial(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)
