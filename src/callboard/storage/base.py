"""What every part of the store shares: the engine, the clock, and how database errors become domain errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from callboard.core.clock import Clock
from callboard.core.errors import ConflictError


class StoreBase:
    """The engine and clock the store's parts run on."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        # SQLite has one writer at a time. Writes of this process queue on this lock, in order, rather than in
        # SQLite's busy handler, which fails a write that waited longer than its timeout (a loaded node lost call
        # records to "database is locked"). PostgreSQL takes concurrent writers.
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, committed when the block ends. Not to be nested: on SQLite it would wait for itself."""
        if self._write_lock is None:
            async with self._engine.begin() as conn:
                yield conn
            return
        async with self._write_lock, self._engine.begin() as conn:
            yield conn


@contextmanager
def conflicts(message: str, **details: Any) -> Iterator[None]:
    """Turn a unique or foreign key violation into a `ConflictError` the API can show."""
    try:
        yield
    except IntegrityError as exc:
        raise ConflictError(message, **details) from exc


def as_dict(row: RowMapping | None) -> dict[str, Any] | None:
    return None if row is None else dict(row)
