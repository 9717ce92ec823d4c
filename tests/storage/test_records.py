"""Routing records: commit round trips, upserts, deletes, live loading, get and list."""

from __future__ import annotations

from typing import Any

import pytest

from callboard.core.errors import ConflictError, NotFoundError, ValidationError
from callboard.core.events import Event
from callboard.storage import Store

WS = "WS" + "0" * 32


def activity(sid: str, name: str = "Available", available: bool = True, t: float = 1.0) -> dict[str, Any]:
    return {"sid": sid, "friendly_name": name, "available": available, "date_created": t, "date_updated": t}


def channel(sid: str, unique_name: str = "voice", t: float = 1.0) -> dict[str, Any]:
    return {
        "sid": sid,
        "unique_name": unique_name,
        "friendly_name": unique_name.title(),
        "default_capacity": 1,
        "date_created": t,
        "date_updated": t,
    }


def worker(sid: str, name: str = "alice", activity_sid: str | None = "WA1", t: float = 1.0) -> dict[str, Any]:
    return {
        "sid": sid,
        "friendly_name": name,
        "attributes": {"skills": {"english": 5}, "languages": ["en", "fr"]},
        "activity_sid": activity_sid,
        "channels": [{"task_channel": "voice", "capacity": 1, "available": True, "used": 0}],
        "date_created": t,
        "date_updated": t,
        "date_status_changed": t,
        "seq": 0,
        "last_idle": t,
        "tasks_assigned": 0,
        "talk_seconds": 0.0,
    }


def queue(sid: str, name: str = "support", t: float = 1.0) -> dict[str, Any]:
    return {"sid": sid, "friendly_name": name, "target_workers": "1 == 1", "date_created": t, "date_updated": t}


def workflow(sid: str, name: str = "main", t: float = 1.0) -> dict[str, Any]:
    config = {"task_routing": {"filters": [], "default_filter": {"queue": "WQ1"}}}
    return {"sid": sid, "friendly_name": name, "configuration": config, "date_created": t, "date_updated": t}


def task(
    sid: str, status: str = "pending", *, queue_sid: str | None = "WQ1", worker_sid: str | None = None, t: float = 1.0
) -> dict[str, Any]:
    return {
        "sid": sid,
        "workflow_sid": "WW1",
        "task_channel": "voice",
        "attributes": {"language": "en", "vip": True, "nested": {"a": [1, 2.5, None]}},
        "priority": 0,
        "timeout": 86400.0,
        "assignment_status": status,
        "reason": None,
        "task_queue_sid": queue_sid,
        "worker_sid": worker_sid,
        "date_created": t,
        "date_updated": t,
        "excluded_workers": [],
    }


def reservation(sid: str, status: str = "pending", *, task_sid: str = "WT1", t: float = 1.0) -> dict[str, Any]:
    return {
        "sid": sid,
        "task_sid": task_sid,
        "worker_sid": "WK1",
        "task_queue_sid": "WQ1",
        "task_channel": "voice",
        "reservation_status": status,
        "date_created": t,
        "date_updated": t,
        "timeout_at": t + 15.0,
    }


ONE_OF_EACH = [
    ("activity", activity("WA1")),
    ("channel", channel("TC1")),
    ("worker", worker("WK1")),
    ("queue", queue("WQ1")),
    ("workflow", workflow("WW1")),
    ("task", task("WT1")),
    ("reservation", reservation("WR1")),
]


@pytest.fixture
async def ws(store: Store) -> str:
    await store.save_workspace({"sid": WS, "friendly_name": "main"})
    return WS


async def test_commit_round_trips_every_kind(store: Store, ws: str) -> None:
    await store.commit(ws, ONE_OF_EACH, [], [])
    live = await store.load_live(ws)
    assert live == {kind: [record] for kind, record in ONE_OF_EACH}
    for kind, record in ONE_OF_EACH:
        assert await store.get(ws, kind, record["sid"]) == record


async def test_upsert_replaces_the_record(store: Store, ws: str) -> None:
    await store.commit(ws, [("task", task("WT1"))], [], [])
    await store.commit(ws, [("task", task("WT1", "assigned", worker_sid="WK1", t=1.0) | {"priority": 7})], [], [])
    stored = await store.get(ws, "task", "WT1")
    assert stored is not None
    assert (stored["assignment_status"], stored["worker_sid"], stored["priority"]) == ("assigned", "WK1", 7)
    assert await store.list(ws, "task", filters={"worker_sid": "WK1", "priority": 7}) == ([stored], 1)


async def test_the_last_record_of_a_sid_in_one_commit_wins(store: Store, ws: str) -> None:
    await store.commit(ws, [("task", task("WT1")), ("task", task("WT1", "reserved"))], [], [])
    assert (await store.get(ws, "task", "WT1") or {})["assignment_status"] == "reserved"


async def test_deletes(store: Store, ws: str) -> None:
    await store.commit(ws, ONE_OF_EACH, [], [])
    await store.commit(ws, [], [(kind, record["sid"]) for kind, record in ONE_OF_EACH], [])
    assert await store.load_live(ws) == {kind: [] for kind, _ in ONE_OF_EACH}
    # Deleting what is not there is not an error.
    await store.commit(ws, [], [("task", "WT404")], [])


async def test_a_record_created_and_deleted_in_one_commit_is_gone(store: Store, ws: str) -> None:
    await store.commit(ws, [("worker", worker("WK9"))], [("worker", "WK9")], [])
    assert await store.get(ws, "worker", "WK9") is None


async def test_deletes_stay_in_their_workspace(store: Store, ws: str) -> None:
    await store.save_workspace({"sid": "WS2", "friendly_name": "other"})
    await store.commit("WS2", [("task", task("WT2"))], [], [])
    await store.commit(ws, [], [("task", "WT2")], [])
    assert await store.get("WS2", "task", "WT2") is not None
    assert await store.get(ws, "task", "WT2") is None


async def test_load_live_leaves_out_finished_tasks_and_reservations(store: Store, ws: str) -> None:
    tasks = {s: task(f"WT-{s}", s) for s in ("pending", "reserved", "assigned", "wrapping", "completed", "canceled")}
    statuses = ("pending", "accepted", "rejected", "timeout", "canceled", "rescinded", "wrapping", "completed")
    reservations = {s: reservation(f"WR-{s}", s) for s in statuses}
    await store.commit(
        ws, [("task", r) for r in tasks.values()] + [("reservation", r) for r in reservations.values()], [], []
    )
    live = await store.load_live(ws)
    assert {r["assignment_status"] for r in live["task"]} == {"pending", "reserved", "assigned", "wrapping"}
    assert {r["reservation_status"] for r in live["reservation"]} == {"pending", "accepted", "wrapping"}
    assert await store.get(ws, "task", "WT-completed") == tasks["completed"]


async def test_list_filters_pages_and_counts(store: Store, ws: str) -> None:
    records = [task(f"WT{i:02}", ("pending", "reserved", "completed")[i % 3], t=100.0 + i // 2) for i in range(30)]
    records.append(task("WTq", queue_sid="WQ2", t=50.0))
    await store.commit(ws, [("task", r) for r in records], [], [])

    page, total = await store.list(ws, "task", filters={"assignment_status": ["pending", "reserved"]}, limit=5)
    assert total == 21
    assert [r["sid"] for r in page] == ["WTq", "WT00", "WT01", "WT03", "WT04"]
    page, total = await store.list(ws, "task", filters={"assignment_status": ("pending", "reserved")}, offset=20)
    assert ([r["sid"] for r in page], total) == (["WT28"], 21)

    assert (await store.list(ws, "task", filters={"task_queue_sid": "WQ2"}))[1] == 1
    assert (await store.list(ws, "task", filters={"worker_sid": None}))[1] == 31
    assert (await store.list(ws, "task", filters={"assignment_status": []}))[1] == 0
    all_tasks, total = await store.list(ws, "task", limit=100)
    assert total == 31
    assert [r["sid"] for r in all_tasks] == ["WTq", *(f"WT{i:02}" for i in range(30))]
    assert await store.list(ws, "task", limit=0) == ([], 31)


async def test_list_by_name_and_other_kinds(store: Store, ws: str) -> None:
    await store.commit(ws, [("worker", worker("WK1", "alice")), ("worker", worker("WK2", "bob", None))], [], [])
    assert await store.list(ws, "worker", filters={"friendly_name": "bob"}) == ([worker("WK2", "bob", None)], 1)
    assert (await store.list(ws, "worker", filters={"activity_sid": "WA1"}))[1] == 1
    assert (await store.list(ws, "worker", filters={"sid": ["WK1", "WK2"]}))[1] == 2
    assert await store.list(ws, "queue") == ([], 0)
    assert await store.list("WS-elsewhere", "worker") == ([], 0)


async def test_unknown_kinds_and_fields_are_refused(store: Store, ws: str) -> None:
    with pytest.raises(ValidationError):
        await store.commit(ws, [("agent", {"sid": "X"})], [], [])
    with pytest.raises(ValidationError):
        await store.commit(ws, [], [("agent", "X")], [])
    with pytest.raises(ValidationError):
        await store.commit(ws, [("task", {"no": "sid"})], [], [])
    with pytest.raises(ValidationError):
        await store.get(ws, "agent", "X")
    with pytest.raises(ValidationError):
        await store.list(ws, "task", filters={"attributes": "x"})
    with pytest.raises(ValidationError):
        await store.list(ws, "task", limit=-1)


async def test_commit_to_a_missing_workspace_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        await store.commit("WS404", [("task", task("WT1"))], [], [])


async def test_a_failed_commit_writes_nothing(store: Store, ws: str) -> None:
    broken = task("WT2") | {"assignment_status": None}
    event = Event("task.created", ws, "task", "WT1", 1.0)
    with pytest.raises(ConflictError):
        await store.commit(ws, [("worker", worker("WK1")), ("task", task("WT1")), ("task", broken)], [], [event])
    assert await store.load_live(ws) == {kind: [] for kind, _ in ONE_OF_EACH}
    assert await store.events(ws) == []


async def test_a_large_commit(store: Store, ws: str) -> None:
    tasks = [task(f"WT{i:05}", t=float(i)) for i in range(5000)]
    events = [Event("task.created", ws, "task", r["sid"], r["date_created"], {"i": i}) for i, r in enumerate(tasks)]
    await store.commit(ws, [("task", r) for r in tasks], [], events)
    assert len((await store.load_live(ws))["task"]) == 5000
    assert (await store.list(ws, "task", filters={"assignment_status": "pending"}, limit=1))[1] == 5000
    logged = await store.events(ws, limit=10_000)
    assert [e.data["i"] for _, e in logged] == list(range(5000))

    await store.commit(ws, [("task", r | {"assignment_status": "canceled"}) for r in tasks[:2500]], [], [])
    await store.commit(ws, [], [("task", r["sid"]) for r in tasks[2500:]], [])
    assert (await store.load_live(ws))["task"] == []
    assert (await store.list(ws, "task"))[1] == 2500
