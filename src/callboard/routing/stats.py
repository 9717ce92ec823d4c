"""Statistics with TaskRouter's field names: real-time from the engine's state, cumulative from events.

Cumulative figures are derived from the event log only, so they can be recomputed for any window.
Definitions (all waits are the task's age, counted from its creation):
- service level: tasks accepted within the threshold / (tasks accepted + tasks abandoned after the
  threshold); callers who hang up before the threshold count neither way.
- abandonment rate: tasks canceled while waiting / (tasks accepted + tasks canceled).
- ASA: the mean wait of accepted tasks. AHT: the mean time from acceptance to completion (talk + wrap-up).
- occupancy: time handling tasks / (time handling tasks + time available and idle).
The same figures come per interval of a window (`intervals`: the calls-per-interval and service-level charts)
and per worker (`worker_cumulative`: every worker's handled tasks and AHT from one read of the log).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from callboard.core import events as ev
from callboard.core.events import Event
from callboard.routing.model import Reservation, Task, TaskStatus
from callboard.routing.workspace import Workspace

_LIVE_STATUSES = (TaskStatus.PENDING, TaskStatus.RESERVED, TaskStatus.ASSIGNED, TaskStatus.WRAPPING)


def _task_summary(ws: Workspace, tasks: Iterable[Task]) -> dict[str, Any]:
    now = ws.clock.now()
    by_status = {str(s): 0 for s in _LIVE_STATUSES}
    by_priority: Counter[str] = Counter()
    longest: Task | None = None
    total = 0
    for task in tasks:
        total += 1
        by_status[str(task.status)] += 1
        if task.is_waiting:
            by_priority[str(task.priority)] += 1
            if longest is None or task.date_created < longest.date_created:
                longest = task
    return {
        "tasks_by_status": by_status,
        "tasks_by_priority": dict(by_priority),
        "longest_task_waiting_age": 0 if longest is None else int(now - longest.date_created),
        "longest_task_waiting_sid": None if longest is None else longest.sid,
        "total_tasks": total,
    }


def _activity_statistics(ws: Workspace, worker_sids: Iterable[str]) -> list[dict[str, Any]]:
    counts = Counter(ws.workers[s].activity_sid for s in worker_sids)
    return [
        {"sid": a.sid, "friendly_name": a.friendly_name, "workers": counts.get(a.sid, 0)}
        for a in ws.activities.values()
    ]


def realtime_workspace(ws: Workspace) -> dict[str, Any]:
    stats = _task_summary(ws, ws.tasks.values())
    stats["activity_statistics"] = _activity_statistics(ws, ws.workers)
    stats["total_workers"] = len(ws.workers)
    stats["total_available_workers"] = sum(1 for w in ws.workers.values() if ws.is_available(w))
    return stats


def realtime_queue(ws: Workspace, queue_sid: str) -> dict[str, Any]:
    queue = ws.queue(queue_sid)
    now = ws.clock.now()
    tasks = [t for t in ws.tasks.values() if t.queue_sid == queue.sid]
    stats = _task_summary(ws, tasks)
    waiting = [t for t in tasks if t.is_waiting and t.date_entered_queue is not None]
    relative = min(waiting, key=lambda t: t.date_entered_queue or now, default=None)
    stats["longest_relative_task_age_in_queue"] = (
        0 if relative is None else int(now - (relative.date_entered_queue or now))
    )
    stats["longest_relative_task_sid_in_queue"] = None if relative is None else relative.sid
    stats["activity_statistics"] = _activity_statistics(ws, queue.members)
    stats["total_eligible_workers"] = len(queue.members)
    stats["total_available_workers"] = sum(1 for s in queue.members if ws.is_available(ws.workers[s]))
    stats["task_queue_sid"] = queue.sid
    return stats


def realtime_workflow(ws: Workspace, workflow_sid: str) -> dict[str, Any]:
    workflow = ws.workflow(workflow_sid)
    stats = _task_summary(ws, (t for t in ws.tasks.values() if t.workflow_sid == workflow.sid))
    stats["workflow_sid"] = workflow.sid
    return stats


def realtime_worker(ws: Workspace, worker_sid: str) -> dict[str, Any]:
    worker = ws.worker(worker_sid)
    activity = ws.activities[worker.activity_sid]
    reservations = [ws.reservations[r] for r in worker.reservations]
    channels = []
    for ch in worker.channels.values():
        mine = [r for r in reservations if r.channel == ch.channel]
        channels.append(
            {
                "task_channel": ch.channel,
                "configured_capacity": ch.capacity,
                "available": ch.available,
                "assigned_tasks": sum(1 for r in mine if r.status != "pending"),
                "reserved_tasks": sum(1 for r in mine if r.status == "pending"),
                "available_capacity_percentage": 0
                if ch.capacity == 0
                else int(100 * max(0, ch.capacity - ch.used) / ch.capacity),
            }
        )
    return {
        "worker_sid": worker.sid,
        "tasks": [_held_task(ws, r) for r in sorted(reservations, key=lambda r: r.date_created)],
        "activity_sid": activity.sid,
        "activity_name": activity.friendly_name,
        "available": activity.available,
        "time_in_activity": ws.clock.now() - worker.date_status_changed,
        "channels": channels,
        "tasks_assigned": worker.tasks_assigned,
        "talk_seconds": worker.talk_seconds,
    }


def _held_task(ws: Workspace, res: Reservation) -> dict[str, Any]:
    """A task the worker holds: offered, accepted or in wrap-up, with its queue and who the customer is."""
    task = ws.tasks[res.task_sid]
    queue = ws.queues.get(res.queue_sid or "")
    attributes = task.attributes
    caller = attributes.get("caller") or attributes.get("callback_number") or attributes.get("from")
    return {
        "reservation_sid": res.sid,
        "task_sid": task.sid,
        "reservation_status": str(res.status),
        "task_channel": res.channel,
        "task_queue_sid": res.queue_sid,
        "task_queue_friendly_name": None if queue is None else queue.friendly_name,
        "caller": None if caller is None else str(caller),
        "date_created": res.date_created,
        "date_accepted": res.date_accepted,
    }


@dataclass
class _Durations:
    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    def summary(self) -> dict[str, float]:
        if not self.values:
            return {"avg": 0, "min": 0, "max": 0, "total": 0}
        total = sum(self.values)
        return {"avg": total / len(self.values), "min": min(self.values), "max": max(self.values), "total": total}


_RESERVATION_COUNTS = {
    "reservations_created": ev.RESERVATION_CREATED,
    "reservations_accepted": ev.RESERVATION_ACCEPTED,
    "reservations_rejected": ev.RESERVATION_REJECTED,
    "reservations_timed_out": ev.RESERVATION_TIMEOUT,
    "reservations_canceled": ev.RESERVATION_CANCELED,
    "reservations_rescinded": ev.RESERVATION_RESCINDED,
    "reservations_completed": ev.RESERVATION_COMPLETED,
}


def _matches(event: Event, queue_sid: str | None, workflow_sid: str | None, worker_sid: str | None) -> bool:
    data = event.data
    if queue_sid is not None and data.get("queue_sid") != queue_sid:
        return False
    if workflow_sid is not None and data.get("workflow_sid") != workflow_sid:
        return False
    return worker_sid is None or data.get("worker_sid") == worker_sid or event.resource_sid == worker_sid


def cumulative(
    events: Iterable[Event],
    *,
    start: float,
    end: float,
    threshold: float = 20.0,
    queue_sid: str | None = None,
    workflow_sid: str | None = None,
    worker_sid: str | None = None,
    split_by_wait_time: Iterable[float] = (),
) -> dict[str, Any]:
    """Cumulative statistics over [start, end) from the event log, for a workspace, queue, workflow or worker."""
    all_events = sorted((e for e in events if e.timestamp < end), key=lambda e: e.timestamp)
    window = [e for e in all_events if e.timestamp >= start and _matches(e, queue_sid, workflow_sid, worker_sid)]
    names = Counter(e.name for e in window)
    accepted_waits = _Durations()
    canceled_waits = _Durations()
    handle = _Durations()
    accepted_at: dict[str, float] = {}
    for e in all_events:
        if e.name == ev.RESERVATION_ACCEPTED:
            accepted_at[e.resource_sid] = e.timestamp
    for e in window:
        if e.name == ev.RESERVATION_ACCEPTED:
            accepted_waits.add(e.data.get("task_age", 0.0))
        elif e.name == ev.TASK_CANCELED:
            canceled_waits.add(e.data.get("age", 0.0))
        elif e.name == ev.RESERVATION_COMPLETED and e.resource_sid in accepted_at:
            handle.add(e.timestamp - accepted_at[e.resource_sid])
    entered = names[ev.TASK_QUEUE_ENTERED] if queue_sid is not None else names[ev.TASK_CREATED]
    within = sum(1 for w in accepted_waits.values if w <= threshold)
    abandoned_late = sum(1 for w in canceled_waits.values if w > threshold)
    measured = len(accepted_waits.values) + abandoned_late
    answered_or_abandoned = len(accepted_waits.values) + len(canceled_waits.values)
    splits = {}
    for limit in split_by_wait_time:
        splits[str(int(limit))] = {
            "below": {
                "tasks_accepted": sum(1 for w in accepted_waits.values if w < limit),
                "tasks_canceled": sum(1 for w in canceled_waits.values if w < limit),
            },
            "above": {
                "tasks_accepted": sum(1 for w in accepted_waits.values if w >= limit),
                "tasks_canceled": sum(1 for w in canceled_waits.values if w >= limit),
            },
        }
    accepted = accepted_waits.summary()
    return {
        "start_time": start,
        "end_time": end,
        "tasks_entered": entered,
        "tasks_canceled": names[ev.TASK_CANCELED],
        "tasks_completed": names[ev.TASK_COMPLETED],
        "tasks_moved": names[ev.TASK_QUEUE_MOVED],
        "tasks_deleted": names[ev.TASK_DELETED],
        **{key: names[name] for key, name in _RESERVATION_COUNTS.items()},
        "avg_task_acceptance_time": accepted["avg"],
        "wait_duration_until_accepted": accepted,
        "wait_duration_until_canceled": canceled_waits.summary(),
        "split_by_wait_time": splits,
        "service_level": {
            "threshold": threshold,
            "tasks_within": within,
            "tasks_measured": measured,
            "percentage": 100.0 if measured == 0 else 100.0 * within / measured,
        },
        "abandonment_rate": 0.0 if answered_or_abandoned == 0 else len(canceled_waits.values) / answered_or_abandoned,
        "asa": accepted["avg"],
        "aht": handle.summary()["avg"],
        "handle_time": handle.summary(),
        "occupancy": _occupancy(all_events, start, end, worker_sid),
    }


def intervals(
    events: Iterable[Event],
    *,
    start: float,
    end: float,
    interval: float,
    threshold: float = 20.0,
    queue_sid: str | None = None,
) -> list[dict[str, Any]]:
    """[start, end) cut into intervals of `interval` seconds from `start` (the last one may be shorter), each with
    the tasks that entered, were accepted and were abandoned in it and its service level, as `cumulative` counts
    them: summed over the intervals they are the window's. A service level over no measured task is None."""
    if interval <= 0:
        raise ValueError(f"interval must be positive, not {interval}")
    count = max(0, math.ceil((end - start) / interval))
    entered_name = ev.TASK_QUEUE_ENTERED if queue_sid is not None else ev.TASK_CREATED
    entered, accepted, canceled, within, late = ([0] * count for _ in range(5))
    for e in events:
        if not start <= e.timestamp < end or not _matches(e, queue_sid, None, None):
            continue
        i = min(int((e.timestamp - start) // interval), count - 1)
        if e.name == entered_name:
            entered[i] += 1
        elif e.name == ev.RESERVATION_ACCEPTED:
            accepted[i] += 1
            within[i] += e.data.get("task_age", 0.0) <= threshold
        elif e.name == ev.TASK_CANCELED:
            canceled[i] += 1
            late[i] += e.data.get("age", 0.0) > threshold
    rows = []
    for i in range(count):
        measured = accepted[i] + late[i]
        rows.append(
            {
                "start_time": start + i * interval,
                "end_time": min(start + (i + 1) * interval, end),
                "tasks_entered": entered[i],
                "reservations_accepted": accepted[i],
                "tasks_canceled": canceled[i],
                "service_level": {
                    "threshold": threshold,
                    "tasks_within": within[i],
                    "tasks_measured": measured,
                    "percentage": None if measured == 0 else 100.0 * within[i] / measured,
                },
            }
        )
    return rows


@dataclass
class _WorkerFigures:
    names: Counter[str] = field(default_factory=Counter)
    handle: _Durations = field(default_factory=_Durations)
    talk: _Durations = field(default_factory=_Durations)
    wrapup: _Durations = field(default_factory=_Durations)


def worker_cumulative(
    events: Iterable[Event], *, start: float, end: float, worker_sids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Each worker's cumulative figures over [start, end), in one pass over the log: its reservations by outcome,
    the tasks it handled (reservations completed in the window, accepted at a time the log knows), their handle
    time from acceptance to completion, split into talk (to wrap-up, or to completion without one) and wrap-up,
    and its occupancy. The counts, `aht` and `occupancy` are those of `cumulative(worker_sid=...)`."""
    all_events = sorted((e for e in events if e.timestamp < end), key=lambda e: e.timestamp)
    figures = {sid: _WorkerFigures() for sid in worker_sids}
    accepted_at: dict[str, float] = {}
    wrapup_at: dict[str, float] = {}
    for e in all_events:
        if e.name == ev.RESERVATION_ACCEPTED:
            accepted_at[e.resource_sid] = e.timestamp
        elif e.name == ev.RESERVATION_WRAPUP:
            wrapup_at[e.resource_sid] = e.timestamp
        mine = figures.get(e.data.get("worker_sid", ""))
        if mine is None or e.timestamp < start:
            continue
        mine.names[e.name] += 1
        if e.name == ev.RESERVATION_COMPLETED and e.resource_sid in accepted_at:
            accepted = accepted_at[e.resource_sid]
            talk_end = wrapup_at.get(e.resource_sid, e.timestamp)
            mine.handle.add(e.timestamp - accepted)
            mine.talk.add(talk_end - accepted)
            mine.wrapup.add(e.timestamp - talk_end)
    times = _busy_idle(all_events, start, end)
    return {
        sid: {
            "start_time": start,
            "end_time": end,
            **{key: mine.names[name] for key, name in _RESERVATION_COUNTS.items()},
            "tasks_handled": len(mine.handle.values),
            "aht": mine.handle.summary()["avg"],
            "handle_time": mine.handle.summary(),
            "talk_time": mine.talk.summary(),
            "wrapup_time": mine.wrapup.summary(),
            "occupancy": _ratio(*times.get(sid, (0.0, 0.0))),
        }
        for sid, mine in figures.items()
    }


def _occupancy(events: list[Event], start: float, end: float, worker_sid: str | None) -> float | None:
    """Busy / (busy + available idle), swept over each worker's timeline in the window."""
    times = _busy_idle(events, start, end, worker_sid).values()
    return _ratio(sum(busy for busy, _ in times), sum(idle for _, idle in times))


def _ratio(busy: float, idle: float) -> float | None:
    return None if busy + idle == 0 else busy / (busy + idle)


def _busy_idle(
    events: list[Event], start: float, end: float, worker_sid: str | None = None
) -> dict[str, tuple[float, float]]:
    """Per worker, the seconds of [start, end) spent handling tasks and spent available with none; events sorted."""
    per_worker: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        sid = e.resource_sid if e.name == ev.WORKER_ACTIVITY_UPDATE else e.data.get("worker_sid")
        if sid is None or (worker_sid is not None and sid != worker_sid):
            continue
        if e.name in (ev.WORKER_ACTIVITY_UPDATE, ev.RESERVATION_ACCEPTED, ev.RESERVATION_COMPLETED):
            per_worker[sid].append(e)
    found = {}
    for sid, timeline in per_worker.items():
        busy = idle = 0.0
        available = False
        handling: set[str] = set()
        cursor = start
        for e in timeline:
            t = min(max(e.timestamp, start), end)
            if t > cursor:
                if handling:
                    busy += t - cursor
                elif available:
                    idle += t - cursor
                cursor = t
            if e.name == ev.WORKER_ACTIVITY_UPDATE:
                available = bool(e.data.get("available"))
            elif e.name == ev.RESERVATION_ACCEPTED:
                handling.add(e.resource_sid)
            else:
                handling.discard(e.resource_sid)
        if end > cursor:
            if handling:
                busy += end - cursor
            elif available:
                idle += end - cursor
        found[sid] = (busy, idle)
    return found
