"""Migrations: idempotent, and they build exactly the schema `tables.py` declares."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from callboard.storage import Store
from callboard.storage.migrate import current_revision
from callboard.storage.tables import metadata
from conftest import Database


async def test_a_fresh_database_has_no_revision_until_migrated(database: Database) -> None:
    store = await database.open()
    try:
        assert await current_revision(store.engine) is None
        await store.migrate()
        assert await current_revision(store.engine) == "0001"
    finally:
        await store.close()


async def test_migrate_twice_is_a_no_op(store: Store) -> None:
    await store.save_workspace({"sid": "WS1", "friendly_name": "main"})
    await store.migrate()
    await store.migrate()
    assert await current_revision(store.engine) == "0001"
    assert await store.load_workspaces() == [{"sid": "WS1", "friendly_name": "main"}]


async def test_migrated_schema_matches_the_tables(store: Store) -> None:
    def diff(conn: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata))

    async with store.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert set(metadata.tables) <= names
