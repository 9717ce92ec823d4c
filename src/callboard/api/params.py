"""Query parameters shared by many routes: pagination, comma-separated lists and dates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Query

from callboard.core.errors import ValidationError

MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Page:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return self.page * self.page_size

    def body(self, items: list[dict[str, Any]], total: int) -> dict[str, Any]:
        """The list response every collection returns."""
        return {"items": items, "meta": {"page": self.page, "page_size": self.page_size, "total": total}}

    def slice(self, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """One page of a list held in memory."""
        return self.body(list(items[self.offset : self.offset + self.page_size]), len(items))


def page_params(
    page: Annotated[int, Query(ge=0, description="Page number, from 0")] = 0,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page")] = 50,
) -> Page:
    return Page(page, page_size)


PageDep = Annotated[Page, Depends(page_params)]


def csv(value: str | None) -> list[str] | None:
    """`"a, b"` -> `["a", "b"]`; None or blank -> None."""
    if value is None:
        return None
    items = [part.strip() for part in value.split(",") if part.strip()]
    return items or None


def parse_date(value: str | None, name: str) -> float | None:
    """Epoch seconds (`1767225600`) or ISO 8601 (`2026-01-01T00:00:00Z`; no zone means UTC)."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"{name} must be epoch seconds or an ISO 8601 date", error_id="invalid_date", field=name
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()
