"""A page of rows and the links around it, for every paginated list."""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Generic, TypeVar

from flask import request

T = TypeVar("T")


# Far beyond any real list, and small enough that page * per_page stays a safe OFFSET.
MAX_PAGE = 100_000


def page_arg() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


@dataclass
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(ceil(self.total / self.per_page), 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

