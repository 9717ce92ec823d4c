"""The event log: append order, time windows, tailing by id, and filters."""

from __future__ import annotations

import pytest

from callboard.core.errors import ValidationError
from callboard.core.events import Event
from callboard.storage import Store


def event(name: str, ws: str, t: float, **data: object) -> Event:
    return Event(name, ws, name.split(".")[0], "R" + ws, t, dict(data))


@pytest.fixture
async def logged(store: Store) -> list[Event]:
    await store.save_workspace({"sid": "WS1", "friendly_name": "one"})
    await store.save_workspace({"sid": "WS2", "friendly_name": "two"})
    # Out of time order on purpose: the log keeps the order of appends.
    first = [event("task.created", "WS1", 10.0, n=1), event("reservation.created", "WS1", 5.0, n=2)]
    second = [event("task.created", "WS2", 7.0, n=3)]
    third = [event("task.canceled", "WS1", 20.0, n=4, reason="hung up"), event("task.created", "WS1", 30.0, n=5)]
    await store.commit("WS1", [], [], first)
    await store.commit("WS2", [], [], second)
    await store.commit("WS1", [], [], third)
    return first + second + third


async def test_events_come_back_in_append_order(store: Store, logged: list[Event]) -> None:
    everything = await store.events(None)
    assert [e for _, e in everything] == logged
    ids = [i for i, _ in everything]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert [e.data["n"] for _, e in await store.events("WS1")] == [1, 2, 4, 5]


async def test_time_window_is_start_inclusive_end_exclusive(store: Store, logged: list[Event]) -> None:
    assert [e.data["n"] for _, e in await store.events("WS1", start=10.0, end=30.0)] == [1, 4]
    assert [e.data["n"] for _, e in await store.events(None, end=10.0)] == [2, 3]
    assert [e.data["n"] for _, e in await store.events(None, start=100.0)] == []


async def test_tail_by_id(store: Store, logged: list[Event]) -> None:
    page = await store.events("WS1", limit=2)
    assert [e.data["n"] for _, e in page] == [1, 2]
    rest = await store.events("WS1", after_id=page[-1][0])
    assert [e.data["n"] for _, e in rest] == [4, 5]
    assert await store.events("WS1", after_id=rest[-1][0]) == []


async def test_filter_by_type(store: Store, logged: list[Event]) -> None:
    created = await store.events(None, event_types=["task.created"])
    assert [e.data["n"] for _, e in created] == [1, 3, 5]
    assert await store.events(None, event_types=[]) == []
    with pytest.raises(ValidationError):
        await store.events(None, limit=-1)


async def test_events_without_a_workspace(store: Store) -> None:
    global_event = Event("workspace.created", "", "workspace", "WS9", 1.0, {"friendly_name": "x"})
    await store.save_workspace({"sid": "WS9", "friendly_name": "x"})
    await store.commit("WS9", [], [], [global_event])
    assert [e for _, e in await store.events(None)] == [global_event]
    assert await store.events("WS9") == []
