"""Every worker's figures from one pass over the log (handled tasks, AHT as talk + wrap-up, occupancy), and the
tasks a worker holds now."""

from __future__ import annotations

import pytest

from callboard.core import events as ev
from callboard.core.clock import VirtualClock
from callboard.core.events import Event
from callboard.routing.stats import cumulative, realtime_worker, worker_cumulative
from callboard.routing.workspace import Workspace

WS = "WS0"


def e(name: str, t: float, sid: str = "X", **data: object) -> Event:
    return Event(name, WS, name.split(".")[0], sid, t, dict(data))


# The window is [100, 1000). W1 talks 90 s and wraps up 30 s on R1, talks 60 s on R2 with no wrap-up, rejects
# R3 and still talks on R4 at the end. W2 accepted R5 before the window and completes it inside.
TRACE = [
    e(ev.WORKER_ACTIVITY_UPDATE, 0, "W1", available=True),
    e(ev.WORKER_ACTIVITY_UPDATE, 0, "W2", available=True),
    e(ev.RESERVATION_ACCEPTED, 50, "R5", worker_sid="W2", task_age=1.0),
    e(ev.RESERVATION_CREATED, 110, "R1", worker_sid="W1"),
    e(ev.RESERVATION_ACCEPTED, 110, "R1", worker_sid="W1", task_age=3.0),
    e(ev.RESERVATION_WRAPUP, 200, "R1", worker_sid="W1"),
    e(ev.RESERVATION_COMPLETED, 230, "R1", worker_sid="W1"),
    e(ev.RESERVATION_COMPLETED, 250, "R5", worker_sid="W2"),
    e(ev.RESERVATION_CREATED, 300, "R2", worker_sid="W1"),
    e(ev.RESERVATION_ACCEPTED, 300, "R2", worker_sid="W1", task_age=2.0),
    e(ev.RESERVATION_COMPLETED, 360, "R2", worker_sid="W1"),
    e(ev.RESERVATION_CREATED, 400, "R3", worker_sid="W1"),
    e(ev.RESERVATION_REJECTED, 405, "R3", worker_sid="W1"),
    e(ev.RESERVATION_CREATED, 900, "R4", worker_sid="W1"),
    e(ev.RESERVATION_ACCEPTED, 900, "R4", worker_sid="W1", task_age=9.0),
    e(ev.RESERVATION_COMPLETED, 1200, "R4", worker_sid="W1"),
]


def test_handled_tasks_and_aht_split_into_talk_and_wrapup() -> None:
    figures = worker_cumulative(TRACE, start=100, end=1000, worker_sids=["W1", "W2", "W3"])
    w1 = figures["W1"]
    assert (w1["start_time"], w1["end_time"]) == (100, 1000)
    assert w1["tasks_handled"] == 2 and w1["reservations_completed"] == 2
    assert (w1["reservations_created"], w1["reservations_accepted"], w1["reservations_rejected"]) == (4, 3, 1)
    assert w1["aht"] == 90.0
    assert w1["handle_time"] == {"avg": 90.0, "min": 60.0, "max": 120.0, "total": 180.0}
    assert w1["talk_time"] == {"avg": 75.0, "min": 60.0, "max": 90.0, "total": 150.0}
    assert w1["wrapup_time"] == {"avg": 15.0, "min": 0.0, "max": 30.0, "total": 30.0}
    # busy 120 + 60 + 100 (R4 until the window's end), available and idle 900 - 280
    assert w1["occupancy"] == pytest.approx(280 / 900)
    w2 = figures["W2"]
    assert w2["tasks_handled"] == 1 and w2["aht"] == 200.0 and w2["reservations_accepted"] == 0
    w3 = figures["W3"]
    assert w3["tasks_handled"] == 0 and w3["aht"] == 0 and w3["occupancy"] is None
    assert set(figures) == {"W1", "W2", "W3"}  # only the workers asked for


@pytest.mark.parametrize(("start", "end"), [(0, 2000), (100, 1000), (240, 380), (1000, 1100)])
def test_the_figures_are_those_of_each_workers_cumulative_statistics(start: float, end: float) -> None:
    figures = worker_cumulative(TRACE, start=start, end=end, worker_sids=["W1", "W2"])
    for sid, mine in figures.items():
        alone = cumulative(TRACE, start=start, end=end, worker_sid=sid)
        same = ["aht", "handle_time", "occupancy", "reservations_accepted", "reservations_completed"]
        assert {k: mine[k] for k in same} == {k: alone[k] for k in same}


def test_a_worker_holds_its_tasks_with_their_queue_and_caller() -> None:
    clock = VirtualClock()
    ws = Workspace(clock, seed=7)
    available = ws.add_activity("Available", True)
    ws.add_channel("voice", capacity=1)
    ws.add_channel("chat", capacity=2)
    sales = ws.add_queue("Sales", target_workers='skills HAS "sales"')
    workflow = ws.add_workflow("in", {"task_routing": {"default_filter": {"queue": "Sales"}}})
    ann = ws.add_worker("ann", attributes={"skills": ["sales"]}, activity_sid=available.sid)
    opened = clock.now()
    call = ws.create_task(workflow.sid, channel="voice", attributes={"caller": "+34600111222"})
    clock.advance(4)
    chat = ws.create_task(workflow.sid, channel="chat", attributes={"from": "web visitor"})
    offered = next(r for r in ws.reservations.values() if r.task_sid == call.sid)
    ws.accept_reservation(offered.sid)
    clock.advance(10)

    held = realtime_worker(ws, ann.sid)["tasks"]
    assert [(h["task_sid"], h["reservation_status"], h["task_channel"]) for h in held] == [
        (call.sid, "accepted", "voice"),
        (chat.sid, "pending", "chat"),
    ]
    assert held[0]["task_queue_sid"] == sales.sid and held[0]["task_queue_friendly_name"] == "Sales"
    assert (held[0]["caller"], held[1]["caller"]) == ("+34600111222", "web visitor")
    assert (held[0]["date_created"], held[0]["date_accepted"]) == (opened, opened + 4)
    assert held[1]["date_accepted"] is None

    ws.wrapup_reservation(offered.sid)
    assert realtime_worker(ws, ann.sid)["tasks"][0]["reservation_status"] == "wrapping"
    ws.complete_reservation(offered.sid)
    assert [h["task_sid"] for h in realtime_worker(ws, ann.sid)["tasks"]] == [chat.sid]
