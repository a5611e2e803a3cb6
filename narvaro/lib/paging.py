"""Pagination that every list view shares."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

DEFAULT_PAGE_SIZE = 50


def paginate(request: HttpRequest, items: Any, per_page: int = DEFAULT_PAGE_SIZE) -> Page:
    """The page named by ?page= (the last page if it is past the end, the first if it is junk)."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


class CappedPaginator(Paginator):
    """A paginator that counts at most `cap` + 1 items, so a huge result costs a bounded count.

    The count is `items[:cap + 1].count()` (only primary keys selected, the items' order
    kept, so an engine that reads its matches in that order stops after `cap` + 1 of
    them). Under the cap everything is exact. Over it, `capped` is true, `count` is
    `cap` and the pages cover the first `cap` items: next and previous work, and the last
    page is the one that ends at the cap (the page says there are more; narrow the search).
    """

    def __init__(self, object_list: Any, per_page: int, cap: int, **kwargs: Any) -> None:
        if cap < 1:
            raise ValueError(f"the count cap must be at least 1, not {cap}")
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _limited_count(self) -> int:
        items = self.object_list
        if isinstance(items, QuerySet):
            return items.values("pk")[: self.cap + 1].count()
        return len(items[: self.cap + 1])

    @property
    def capped(self) -> bool:
        """True when there are more than `cap` items (how many more was not counted)."""
        return self._limited_count > self.cap

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        """How many items the pages cover: all of them, or `cap` when there are more."""
        return min(self._limited_count, self.cap)

    @cached_property
    def num_pages(self) -> int:  # type: ignore[override]
        if self.capped:  # no orphans folded in: more items follow the last page
            return math.ceil(self.cap / self.per_page)
        return super().num_pages


def count_cap() -> int:
    """The largest count a search page shows exactly (settings.NARVARO_RESULT_COUNT_CAP)."""
    return int(settings.NARVARO_RESULT_COUNT_CAP)


def paginate_capped(
    request: HttpRequest, items: Any, per_page: int = DEFAULT_PAGE_SIZE, cap: int | None = None
) -> Page:
    """Like `paginate`, but counting at most `cap` + 1 items (`count_cap()` when not given)."""
    paginator = CappedPaginator(items, per_page, cap=count_cap() if cap is None else cap)
    return paginator.get_page(request.GET.get("page"))


def querystring_without_page(request: HttpRequest) -> str:
    """The current filters as a query string, for building page links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
