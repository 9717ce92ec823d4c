"""Calls and service level per interval, derived from event traces: the wallboard's charts."""

from __future__ import annotations

import pytest

from callboard.core import events as ev
from callboard.core.events import Event
from callboard.routing.stats import cumulative, intervals

WS = "WS0"


def e(name: str, t: float, sid: str = "X", **data: object) -> Event:
    return Event(name, WS, name.split(".")[0], sid, t, dict(data))


# Over [0, 300) in intervals of 100 s, threshold 20 s: T1 answered after 10 s, T2 abandoned after 60 s (late),
# T3 abandoned after 5 s (counts neither way), T4 answered after 40 s in queue Q2; an event at 300 is outside.
TRACE = [
    e(ev.TASK_CREATED, 0, "T1"),
    e(ev.TASK_QUEUE_ENTERED, 0, "T1", queue_sid="Q1"),
    e(ev.RESERVATION_ACCEPTED, 10, "R1", task_age=10.0, worker_sid="W1", queue_sid="Q1"),
    e(ev.RESERVATION_COMPLETED, 130, "R1", worker_sid="W1", queue_sid="Q1"),
    e(ev.TASK_CREATED, 90, "T2"),
    e(ev.TASK_QUEUE_ENTERED, 90, "T2", queue_sid="Q1"),
    e(ev.TASK_CANCELED, 150, "T2", age=60.0, queue_sid="Q1"),
    e(ev.TASK_CREATED, 160, "T3"),
    e(ev.TASK_QUEUE_ENTERED, 160, "T3", queue_sid="Q1"),
    e(ev.TASK_CANCELED, 165, "T3", age=5.0, queue_sid="Q1"),
    e(ev.TASK_CREATED, 200, "T4"),
    e(ev.TASK_QUEUE_ENTERED, 200, "T4", queue_sid="Q2"),
    e(ev.RESERVATION_ACCEPTED, 240, "R4", task_age=40.0, worker_sid="W1", queue_sid="Q2"),
    e(ev.TASK_CREATED, 300, "T5"),
]


def counts(rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [(r["tasks_entered"], r["reservations_accepted"], r["tasks_canceled"]) for r in rows]


def levels(rows: list[dict[str, object]]) -> list[object]:
    return [r["service_level"]["percentage"] for r in rows]  # type: ignore[index]


def test_each_interval_counts_the_tasks_entered_accepted_and_abandoned_in_it() -> None:
    rows = intervals(TRACE, start=0, end=300, interval=100, threshold=20)
    assert [(r["start_time"], r["end_time"]) for r in rows] == [(0, 100), (100, 200), (200, 300)]
    assert counts(rows) == [(2, 1, 0), (1, 0, 2), (1, 1, 0)]
    assert rows[1]["service_level"] == {"threshold": 20, "tasks_within": 0, "tasks_measured": 1, "percentage": 0.0}
    assert levels(rows) == [100.0, 0.0, 0.0]


def test_an_interval_with_nothing_measured_has_no_service_level() -> None:
    rows = intervals(TRACE, start=0, end=300, interval=100, threshold=60)
    assert levels(rows) == [100.0, None, 100.0]  # T2 left at 60 s, not after the threshold


def test_a_wait_of_exactly_the_threshold_is_within_it() -> None:
    trace = [
        e(ev.RESERVATION_ACCEPTED, 5, "R1", task_age=20.0),
        e(ev.TASK_CANCELED, 6, "T2", age=20.0),
        e(ev.TASK_CANCELED, 7, "T3", age=20.5),
    ]
    [row] = intervals(trace, start=0, end=10, interval=10, threshold=20)
    assert row["service_level"] == {"threshold": 20, "tasks_within": 1, "tasks_measured": 2, "percentage": 50.0}


def test_the_last_interval_ends_with_the_window() -> None:
    rows = intervals(TRACE, start=50, end=260, interval=100)
    assert [(r["start_time"], r["end_time"]) for r in rows] == [(50, 150), (150, 250), (250, 260)]
    assert counts(rows) == [(1, 0, 0), (2, 1, 2), (0, 0, 0)]
    assert intervals(TRACE, start=0, end=0, interval=100) == []


def test_a_queue_counts_the_tasks_that_entered_it() -> None:
    rows = intervals(TRACE, start=0, end=300, interval=100, queue_sid="Q1")
    assert counts(rows) == [(2, 1, 0), (1, 0, 2), (0, 0, 0)]
    assert counts(intervals(TRACE, start=0, end=300, interval=100, queue_sid="Q2")) == [(0, 0, 0), (0, 0, 0), (1, 1, 0)]


@pytest.mark.parametrize("queue_sid", [None, "Q1", "Q2"])
@pytest.mark.parametrize("interval", [7, 30, 100, 1000])
def test_the_intervals_add_up_to_the_window(queue_sid: str | None, interval: float) -> None:
    rows = intervals(TRACE, start=0, end=300, interval=interval, queue_sid=queue_sid)
    whole = cumulative(TRACE, start=0, end=300, queue_sid=queue_sid)
    for key in ("tasks_entered", "reservations_accepted", "tasks_canceled"):
        assert sum(r[key] for r in rows) == whole[key]
    for key in ("tasks_within", "tasks_measured"):
        assert sum(r["service_level"][key] for r in rows) == whole["service_level"][key]


def test_an_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval"):
        intervals(TRACE, start=0, end=300, interval=0)
