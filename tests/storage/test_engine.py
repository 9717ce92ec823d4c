"""Database URLs and the connection settings each backend gets."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from callboard.core.errors import ValidationError
from callboard.storage import Store
from callboard.storage.engine import database_url


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///callboard.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///callboard.db", "sqlite+aiosqlite"),
        ("postgresql://u@db/callboard", "postgresql+asyncpg"),
        ("postgres://u@db/callboard", "postgresql+asyncpg"),
        ("postgresql+psycopg://u@db/callboard", "postgresql+asyncpg"),
    ],
)
def test_urls_get_the_async_driver(given: str, driver: str) -> None:
    assert database_url(given).drivername == driver


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValidationError):
        database_url("mysql://u@db/callboard")


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        async with store.engine.connect() as conn:
            assert await conn.scalar(text("PRAGMA journal_mode")) == "wal"
            assert await conn.scalar(text("PRAGMA foreign_keys")) == 1
    finally:
        await store.close()


async def test_sqlite_has_no_schemas(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        await Store.open(f"sqlite:///{tmp_path / 'x.db'}", schema="s")
