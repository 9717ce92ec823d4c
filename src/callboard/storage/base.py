"""What every part of the store shares: the engine, the clock, and how database errors become domain errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from callboard.core.clock import Clock
from callboard.core.errors import ConflictError


class StoreBase:
    """The engine and clock the store's parts run on."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name


@contextmanager
def conflicts(message: str, **details: Any) -> Iterator[None]:
    """Turn a unique or foreign key violation into a `ConflictError` the API can show."""
    try:
        yield
    except IntegrityError as exc:
        raise ConflictError(message, **details) from exc


def as_dict(row: RowMapping | None) -> dict[str, Any] | None:
    return None if row is None else dict(row)
