"""Pagination that every list view shares."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

DEFAULT_PAGE_SIZE = 50


def paginate(request: HttpRequest, items: Any, per_page: int = DEFAULT_PAGE_SIZE) -> Page:
    """The page named by ?page= (the last page if it is past the end, the first if it is junk)."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def querystring_without_page(request: HttpRequest) -> str:
    """The current filters as a query string, for building page links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
