"""Migrations: idempotent, and they build exactly the schema `tables.py` declares."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from callboard.storage import Store
from callboard.storage.migrate import current_revision, upgrade
from callboard.storage.tables import metadata
from conftest import Database

HEAD = "0004"


async def test_a_fresh_database_has_no_revision_until_migrated(database: Database) -> None:
    store = await database.open()
    try:
        assert await current_revision(store.engine) is None
        await store.migrate()
        assert await current_revision(store.engine) == HEAD
    finally:
        await store.close()


async def test_migrate_twice_is_a_no_op(store: Store) -> None:
    await store.save_workspace({"sid": "WS1", "friendly_name": "main"})
    await store.migrate()
    await store.migrate()
    assert await current_revision(store.engine) == HEAD
    assert await store.load_workspaces() == [{"sid": "WS1", "friendly_name": "main"}]


async def test_migrated_schema_matches_the_tables(store: Store) -> None:
    def diff(conn: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata))

    async with store.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert set(metadata.tables) <= names


async def test_upgrading_from_0001_keeps_the_data_and_adds_voice(database: Database) -> None:
    store = await database.open()
    try:
        await upgrade(store.engine, "0001")
        assert await current_revision(store.engine) == "0001"
        async with store.engine.connect() as conn:
            before = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert "calls" not in before and "sip_bindings" not in before
        await store.save_workspace({"sid": "WS1", "friendly_name": "main"})
        # Users as 0001 wrote them (today's store writes the new columns too).
        async with store.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, username, password_hash, role, workspace_sid, worker_sid, date_created,"
                    " disabled) VALUES ('US1', 'alice', 'argon', 'agent', 'WS1', 'WK1', 1.5, false)"
                )
            )
        await store.create_session("s1", "US1", 100.0, "csrf")

        await store.migrate()
        assert await current_revision(store.engine) == HEAD
        assert await store.load_workspaces() == [{"sid": "WS1", "friendly_name": "main"}]
        assert await store.get_user("US1") == {
            "id": "US1",
            "username": "alice",
            "password_hash": "argon",
            "role": "agent",
            "workspace_sid": "WS1",
            "worker_sid": "WK1",
            "date_created": 1.5,
            "disabled": False,
            "sip_realm": None,
            "sip_ha1_md5": None,
            "sip_ha1_sha256": None,
        }
        assert await store.get_session("s1") is not None
        assert await store.get_sip_credentials("alice") is None  # the new columns start empty
        await store.set_sip_credentials("US1", "callboard", "0" * 32, "1" * 64)
        assert (await store.get_sip_credentials("alice") or {})["worker_sid"] == "WK1"
        await store.save_call({"sid": "CA1", "workspace_sid": "WS1", "direction": "inbound", "started_at": 1.0})
        assert [c["sid"] for c in await store.list_calls("WS1")] == ["CA1"]
        await store.save_sip_binding("sip:alice@cb", "k", {"aor": "sip:alice@cb"})
        assert await store.load_sip_bindings() == [{"aor": "sip:alice@cb"}]
    finally:
        await store.close()


async def test_upgrading_from_0003_makes_the_calls_already_there_searchable_by_number(database: Database) -> None:
    store = await database.open()
    try:
        await upgrade(store.engine, "0003")
        await store.save_workspace({"sid": "WS1", "friendly_name": "main"})
        async with store.engine.begin() as conn:  # calls as 0003 wrote them, without the digits
            for n, caller, called in ((1, "+34 600 111 222", "+34900100200"), (2, "5550177", "")):
                await conn.execute(
                    text(
                        "INSERT INTO calls (sid, workspace_sid, direction, caller, called, from_uri, to_uri,"
                        " started_at, wait_seconds, talk_seconds, hold_seconds, attributes)"
                        " VALUES (:sid, 'WS1', 'inbound', :caller, :called, '', '', :at, 0, 0, 0, '{}')"
                    ),
                    {"sid": f"CA{n}", "caller": caller, "called": called, "at": float(n)},
                )
        await store.migrate()
        assert [c["sid"] for c in await store.list_calls("WS1", number_ends="1222")] == ["CA1"]
        assert [c["sid"] for c in await store.list_calls("WS1", number_ends="100200")] == ["CA1"]
        assert [c["sid"] for c in await store.list_calls("WS1", number_ends="5550177")] == ["CA2"]
        assert await store.list_calls("WS1", number_ends="9") == []
    finally:
        await store.close()
