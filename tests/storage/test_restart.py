"""A store closed and opened again on the same database finds everything it wrote."""

from __future__ import annotations

from callboard.core.events import Event
from conftest import Database


async def test_data_survives_a_restart(database: Database) -> None:
    store = await database.open()
    try:
        await store.migrate()
        await store.save_workspace({"sid": "WS1", "friendly_name": "main"})
        task = {"sid": "WT1", "assignment_status": "pending", "priority": 3, "date_created": 1.5, "date_updated": 2.5}
        await store.commit("WS1", [("task", task)], [], [Event("task.created", "WS1", "task", "WT1", 1.5)])
        user = await store.create_user("alice", "hash", "agent", workspace_sid="WS1")
        await store.create_session("s1", user["id"], 100.0, "csrf")
    finally:
        await store.close()

    store = await database.open()
    try:
        await store.migrate()
        assert await store.load_workspaces() == [{"sid": "WS1", "friendly_name": "main"}]
        assert (await store.load_live("WS1"))["task"] == [task]
        assert [(e.name, e.timestamp) for _, e in await store.events("WS1")] == [("task.created", 1.5)]
        assert await store.get_user_by_name("alice") == user
        assert await store.get_session("s1") is not None
    finally:
        await store.close()
