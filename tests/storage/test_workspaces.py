"""Workspaces: saving, listing, name conflicts, and deleting with everything in them."""

from __future__ import annotations

import pytest

from callboard.core.errors import ConflictError, ValidationError
from callboard.core.events import Event
from callboard.storage import Store


def workspace(sid: str, name: str, **extra: object) -> dict[str, object]:
    return {"sid": sid, "friendly_name": name, "default_activity_sid": None, "wrapup_seconds": 0.0, **extra}


async def test_save_and_load(store: Store) -> None:
    await store.save_workspace(workspace("WS1", "first"))
    await store.save_workspace(workspace("WS2", "second"))
    assert await store.load_workspaces() == [workspace("WS1", "first"), workspace("WS2", "second")]
    assert await store.get_workspace("WS2") == workspace("WS2", "second")
    assert await store.get_workspace("WS3") is None


async def test_save_again_updates(store: Store) -> None:
    await store.save_workspace(workspace("WS1", "first"))
    await store.save_workspace(workspace("WS1", "renamed", wrapup_seconds=30.0))
    assert await store.load_workspaces() == [workspace("WS1", "renamed", wrapup_seconds=30.0)]


async def test_names_are_unique(store: Store) -> None:
    await store.save_workspace(workspace("WS1", "main"))
    with pytest.raises(ConflictError):
        await store.save_workspace(workspace("WS2", "main"))
    assert [w["sid"] for w in await store.load_workspaces()] == ["WS1"]


async def test_a_workspace_record_needs_a_sid_and_name(store: Store) -> None:
    with pytest.raises(ValidationError):
        await store.save_workspace({"friendly_name": "x"})


async def test_delete_cascades_to_records_but_keeps_the_log(store: Store) -> None:
    await store.save_workspace(workspace("WS1", "doomed"))
    await store.save_workspace(workspace("WS2", "kept"))
    record = {"sid": "WK1", "friendly_name": "alice", "activity_sid": None, "date_created": 1.0, "date_updated": 1.0}
    task = {"sid": "WT1", "assignment_status": "pending", "priority": 0, "date_created": 1.0, "date_updated": 1.0}
    event = Event("worker.created", "WS1", "worker", "WK1", 1.0)
    await store.commit("WS1", [("worker", record), ("task", task)], [], [event])
    await store.commit("WS2", [("worker", record | {"sid": "WK2"})], [], [])

    await store.delete_workspace("WS1")
    await store.delete_workspace("WS1")  # again: nothing to do

    assert [w["sid"] for w in await store.load_workspaces()] == ["WS2"]
    assert await store.get("WS1", "worker", "WK1") is None
    assert await store.list("WS1", "task") == ([], 0)
    assert await store.get("WS2", "worker", "WK2") is not None
    assert [e for _, e in await store.events("WS1")] == [event]
