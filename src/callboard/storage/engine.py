"""Async engines for the two supported databases: SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import URL, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from callboard.core.errors import ValidationError

_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}


def database_url(url: str | URL) -> URL:
    """The URL with its async driver: `sqlite:///x.db` becomes `sqlite+aiosqlite:///x.db`."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _DRIVERS:
        raise ValidationError(f"unsupported database {backend!r}: use sqlite or postgresql", url=str(parsed))
    return parsed.set(drivername=_DRIVERS[backend])


def open_engine(url: str | URL, *, schema: str | None = None) -> AsyncEngine:
    """An engine; on PostgreSQL `schema` becomes the connection's search_path (tests isolate with it)."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        if schema is not None:
            raise ValidationError("SQLite has no schemas; use a separate file", schema=schema)
        engine = create_async_engine(parsed)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if schema is not None:
        connect_args["server_settings"] = {"search_path": schema}
    return create_async_engine(parsed, connect_args=connect_args, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; SQLite leaves foreign keys (and so cascades) off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
