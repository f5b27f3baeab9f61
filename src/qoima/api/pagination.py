"""Pages of lists: ``limit``/``offset`` in, ``items``, ``total`` and ``next``/``previous``
links out (relative links, so they never depend on a Host header)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from qoima.api.results import plain

DEFAULT_LIMIT, MAX_LIMIT = 50, 500


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int
    offset: int
    request: Request

    def link(self, offset: int) -> str:
        url = self.request.url.include_query_params(limit=self.limit, offset=offset)
        return f"{url.path}?{url.query}"


async def page_request(request: Request,
                 limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=(
                     f"Items per page (at most {MAX_LIMIT})."))] = DEFAULT_LIMIT,
                 offset: Annotated[int, Query(ge=0, le=10**9, description=(
                     "Items to skip."))] = 0) -> PageRequest:
    """Async, like every dependency that does no I/O: no thread-pool hop per request."""
    return PageRequest(limit, offset, request)


Paging = Annotated[PageRequest, Depends(page_request)]


def page(items: Sequence[Any], paging: PageRequest,
         view: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """One page of a list already filtered to what the caller may see; ``view`` (when
    given) renders only the items on the page, not the whole list."""
    chunk = items[paging.offset:paging.offset + paging.limit]
    more = paging.offset + paging.limit < len(items)
    shown = [view(i) for i in chunk] if view is not None else chunk
    return _envelope([plain(i) for i in shown], paging, len(items), more)


def page_counted(items: Sequence[Any], total: int, paging: PageRequest,
                 view: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """A page the store cut (``items`` is the page) out of ``total`` matching items;
    ``view`` (when given) returns JSON-ready data already."""
    shown = [view(i) for i in items] if view is not None else [plain(i) for i in items]
    return _envelope(shown, paging, total, paging.offset + len(items) < total)


def page_of_fetched(items: Sequence[Any], paging: PageRequest) -> dict[str, Any]:
    """A page the store fetched with ``limit + 1`` rows (the extra row says there is more);
    the total is unknown (null)."""
    more = len(items) > paging.limit
    return _envelope([plain(i) for i in items[:paging.limit]], paging, None, more)


def _envelope(items: list[Any], paging: PageRequest, total: int | None,
              more: bool) -> dict[str, Any]:
    previous = max(paging.offset - paging.limit, 0) if paging.offset > 0 else None
    return {"items": items, "total": total, "limit": paging.limit, "offset": paging.offset,
            "next": paging.link(paging.offset + paging.limit) if more else None,
            "previous": None if previous is None else paging.link(previous)}
