"""Statistics: real-time from engine state, cumulative derived from event traces."""

from __future__ import annotations

import pytest

from callboard.core import events as ev
from callboard.core.clock import VirtualClock
from callboard.core.events import Event
from callboard.routing.stats import cumulative, realtime_queue, realtime_worker, realtime_workspace
from callboard.routing.workspace import Workspace

WS = "WS0"


def e(name: str, t: float, sid: str = "X", **data: object) -> Event:
    return Event(name, WS, name.split(".")[0], sid, t, dict(data))


@pytest.fixture
def center() -> tuple[VirtualClock, Workspace]:
    clock = VirtualClock()
    ws = Workspace(clock, seed=7)
    ws.add_activity("Offline", False)
    available = ws.add_activity("Available", True)
    ws.add_channel("voice", capacity=1)
    ws.add_queue("sales", target_workers='skills HAS "sales"')
    ws.add_workflow("in", {"task_routing": {"default_filter": {"queue": "sales"}}}, task_reservation_timeout=30)
    ws.add_worker("ann", attributes={"skills": ["sales"]}, activity_sid=available.sid)
    ws.add_worker("bob", attributes={"skills": ["support"]}, activity_sid=available.sid)
    return clock, ws


def test_realtime_counts_tasks_by_status_priority_and_workers(center: tuple[VirtualClock, Workspace]) -> None:
    clock, ws = center
    workflow = next(iter(ws.workflows))
    queue = next(iter(ws.queues))
    first = ws.create_task(workflow, channel="voice", priority=5)
    clock.advance(10)
    ws.create_task(workflow, channel="voice", priority=1)
    clock.advance(5)
    stats = realtime_queue(ws, queue)
    assert stats["tasks_by_status"] == {"pending": 1, "reserved": 1, "assigned": 0, "wrapping": 0}
    assert stats["tasks_by_priority"] == {"5": 1, "1": 1}
    assert stats["longest_task_waiting_age"] == 15
    assert stats["longest_task_waiting_sid"] == first.sid
    assert stats["total_eligible_workers"] == 1
    assert stats["total_available_workers"] == 1
    whole = realtime_workspace(ws)
    assert whole["total_workers"] == 2
    assert {a["friendly_name"]: a["workers"] for a in whole["activity_statistics"]} == {"Offline": 0, "Available": 2}
    ann = ws.worker_by_name("ann")
    assert ann is not None
    channel = realtime_worker(ws, ann.sid)["channels"][0]
    assert (channel["reserved_tasks"], channel["available_capacity_percentage"]) == (1, 0)


# (events, expected subset of the cumulative statistics) over the window [0, 1000)
TRACES = [
    (
        [
            e(ev.TASK_CREATED, 0, "T1"),
            e(ev.RESERVATION_ACCEPTED, 10, "R1", task_age=10.0, worker_sid="W1"),
            e(ev.RESERVATION_COMPLETED, 130, "R1", worker_sid="W1"),
            e(ev.TASK_CREATED, 200, "T2"),
            e(ev.TASK_CANCELED, 260, "T2", age=60.0),
            e(ev.TASK_CREATED, 300, "T3"),
            e(ev.TASK_CANCELED, 305, "T3", age=5.0),
        ],
        {
            "tasks_entered": 3,
            "tasks_canceled": 2,
            "reservations_accepted": 1,
            "asa": 10.0,
            "aht": 120.0,
            "abandonment_rate": 2 / 3,
            "service_level": {"threshold": 20, "tasks_within": 1, "tasks_measured": 2, "percentage": 50.0},
        },
    ),
    (
        [
            e(ev.RESERVATION_ACCEPTED, 1, "R1", task_age=30.0, worker_sid="W1"),
            e(ev.RESERVATION_ACCEPTED, 2, "R2", task_age=5.0, worker_sid="W2"),
        ],
        {"asa": 17.5, "service_level": {"threshold": 20, "tasks_within": 1, "tasks_measured": 2, "percentage": 50.0}},
    ),
    ([], {"tasks_entered": 0, "asa": 0, "abandonment_rate": 0.0, "occupancy": None}),
]


@pytest.mark.parametrize(("trace", "expected"), TRACES)
def test_cumulative_from_event_traces(trace: list[Event], expected: dict[str, object]) -> None:
    stats = cumulative(trace, start=0, end=1000, threshold=20)
    assert {k: stats[k] for k in expected} == expected


def test_occupancy_sweeps_available_and_busy_time() -> None:
    trace = [
        e(ev.WORKER_ACTIVITY_UPDATE, 0, "W1", available=True),
        e(ev.RESERVATION_ACCEPTED, 100, "R1", task_age=1.0, worker_sid="W1"),
        e(ev.RESERVATION_COMPLETED, 400, "R1", worker_sid="W1"),
        e(ev.WORKER_ACTIVITY_UPDATE, 500, "W1", available=False),
    ]
    # busy 300 s, idle available 200 s; the hour after 500 s is unavailable and does not count
    assert cumulative(trace, start=0, end=3600)["occupancy"] == pytest.approx(0.6)
    # a window that starts mid-call knows the call from the events before it
    assert cumulative(trace, start=200, end=500)["occupancy"] == pytest.approx(200 / 300)


def test_cumulative_is_the_same_when_recomputed_from_the_engine_log(center: tuple[VirtualClock, Workspace]) -> None:
    clock, ws = center
    workflow = next(iter(ws.workflows))
    task = ws.create_task(workflow, channel="voice")
    clock.advance(12)
    res = next(iter(ws.reservations.values()))
    ws.accept_reservation(res.sid)
    clock.advance(60)
    ws.complete_reservation(res.sid)
    log = ws.drain_events()
    first = cumulative(log, start=0, end=clock.now() + 1)
    assert first == cumulative(list(reversed(log)), start=0, end=clock.now() + 1)
    assert first["tasks_completed"] == 1
    assert first["asa"] == pytest.approx(12)
    assert first["aht"] == pytest.approx(60)
    assert task.sid not in ws.tasks
