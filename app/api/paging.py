"""Paging for the list routes: ``limit``/``offset`` query parameters in, ``{items, total, limit, offset}`` out.

A route takes ``page: PageParams`` (default page size 50) or ``page: PageParams100`` and answers
``page.of(items, total)``; bad values are FastAPI's own 422 on ``["query", "limit"|"offset"]``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query

MAX_LIMIT = 500
MAX_OFFSET = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Paging:
    """The page a caller asked for."""

    limit: int
    offset: int

    def of(self, items: Sequence[Any], total: int) -> dict[str, Any]:
        """The answer for one page of ``items`` out of ``total``."""
        return {"items": items, "total": total, "limit": self.limit, "offset": self.offset}

    def cut(self, everything: Sequence[Any]) -> dict[str, Any]:
        """The answer for a list the service returns whole (a short one, such as the tokens)."""
        return self.of(everything[self.offset : self.offset + self.limit], len(everything))


def paging(default_limit: int = 50) -> Callable[..., Paging]:
    """A dependency reading ``limit`` (1–500, default ``default_limit``) and ``offset`` (≥ 0)."""

    def page_params(
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (at most 500)")] = default_limit,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")] = 0,
    ) -> Paging:
        return Paging(limit, offset)

    return page_params


PageParams = Annotated[Paging, Depends(paging(50))]
PageParams100 = Annotated[Paging, Depends(paging(100))]
