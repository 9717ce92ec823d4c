"""Shared fixtures: a migrated `store` on every database backend, and the rule for tests that need a peer."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from callboard.storage import Store

POSTGRES_URL = os.environ.get("CALLBOARD_TEST_POSTGRES_URL")


def require_peer(name: str, available: bool, why: str) -> None:
    """Skip a test whose peer is missing, or fail it when CALLBOARD_REQUIRE_PEERS=1 says every peer must be there."""
    if available:
        return
    message = f"{name} is not available: {why}"
    if os.environ.get("CALLBOARD_REQUIRE_PEERS") == "1":
        pytest.fail(f"{message} (CALLBOARD_REQUIRE_PEERS=1)", pytrace=False)
    pytest.skip(message)


@dataclass(frozen=True)
class Database:
    """Where a test's store lives: a fresh SQLite file, or a fresh schema in the test PostgreSQL server."""

    url: str
    schema: str | None = None

    async def open(self) -> Store:
        from callboard.storage import Store

        return await Store.open(self.url, schema=self.schema)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        yield Database(f"sqlite+aiosqlite:///{tmp_path / 'callboard.db'}")
        return
    require_peer("postgresql", POSTGRES_URL is not None, "CALLBOARD_TEST_POSTGRES_URL is not set")
    assert POSTGRES_URL is not None
    schema = f"test_{uuid.uuid4().hex[:16]}"
    await _postgres(POSTGRES_URL, f'CREATE SCHEMA "{schema}"')
    try:
        yield Database(POSTGRES_URL, schema)
    finally:
        await _postgres(POSTGRES_URL, f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
async def store(database: Database) -> AsyncIterator[Store]:
    """A migrated store, closed after the test."""
    store = await database.open()
    try:
        await store.migrate()
        yield store
    finally:
        await store.close()


async def _postgres(url: str, statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.ext.asyncio import create_async_engine

    from callboard.storage.engine import database_url

    engine = create_async_engine(database_url(url), connect_args={"timeout": 5})
    problem = None
    try:
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    except (OSError, TimeoutError, DBAPIError) as exc:
        problem = f"{url}: {exc}"
    finally:
        await engine.dispose()
    require_peer("postgresql", problem is None, problem or "")
