"""Plain-dict records of the engine's objects, for the store and the API, and rebuilding an engine from them.

A record holds what cannot be derived; counts such as a worker channel's `used` are recomputed from the
live reservations when an engine is restored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from callboard.core.clock import Clock
from callboard.routing.model import (
    Activity,
    Reservation,
    ReservationStatus,
    Task,
    TaskChannel,
    TaskQueue,
    TaskStatus,
    Worker,
    WorkerChannel,
)
from callboard.routing.workflow import Workflow
from callboard.routing.workspace import Workspace

Record = dict[str, Any]
Routable = Activity | TaskChannel | Worker | TaskQueue | Workflow | Task | Reservation

KIND_OF: dict[type, str] = {
    Activity: "activity",
    TaskChannel: "channel",
    Worker: "worker",
    TaskQueue: "queue",
    Workflow: "workflow",
    Task: "task",
    Reservation: "reservation",
}


def workspace_record(ws: Workspace) -> Record:
    return {
        "sid": ws.sid,
        "friendly_name": ws.friendly_name,
        "default_activity_sid": ws.default_activity_sid,
        "timeout_activity_sid": ws.timeout_activity_sid,
        "service_level_threshold": ws.service_level_threshold,
        "wrapup_seconds": ws.wrapup_seconds,
    }


def activity_record(a: Activity) -> Record:
    return {
        "sid": a.sid,
        "friendly_name": a.friendly_name,
        "available": a.available,
        "date_created": a.date_created,
        "date_updated": a.date_updated,
    }


def channel_record(c: TaskChannel) -> Record:
    return {
        "sid": c.sid,
        "unique_name": c.unique_name,
        "friendly_name": c.friendly_name,
        "default_capacity": c.default_capacity,
        "date_created": c.date_created,
        "date_updated": c.date_updated,
    }


def worker_record(w: Worker) -> Record:
    return {
        "sid": w.sid,
        "friendly_name": w.friendly_name,
        "attributes": w.attributes,
        "activity_sid": w.activity_sid,
        "channels": [
            {"task_channel": c.channel, "capacity": c.capacity, "available": c.available, "used": c.used}
            for c in w.channels.values()
        ],
        "date_created": w.date_created,
        "date_updated": w.date_updated,
        "date_status_changed": w.date_status_changed,
        "seq": w.seq,
        "last_idle": w.last_idle,
        "tasks_assigned": w.tasks_assigned,
        "talk_seconds": w.talk_seconds,
    }


def queue_record(q: TaskQueue) -> Record:
    return {
        "sid": q.sid,
        "friendly_name": q.friendly_name,
        "target_workers": q.target_workers.source,
        "strategy": str(q.strategy),
        "strategy_options": q.strategy_options,
        "task_order": str(q.task_order),
        "max_reserved_workers": q.max_reserved_workers,
        "reservation_activity_sid": q.reservation_activity_sid,
        "assignment_activity_sid": q.assignment_activity_sid,
        "wrapup_seconds": q.wrapup_seconds,
        "post_work_activity_sid": q.post_work_activity_sid,
        "service_level_threshold": q.service_level_threshold,
        "date_created": q.date_created,
        "date_updated": q.date_updated,
    }


def workflow_record(w: Workflow) -> Record:
    return {
        "sid": w.sid,
        "friendly_name": w.friendly_name,
        "configuration": w.configuration,
        "task_reservation_timeout": w.task_reservation_timeout,
        "date_created": w.date_created,
        "date_updated": w.date_updated,
    }


def task_record(t: Task) -> Record:
    return {
        "sid": t.sid,
        "workflow_sid": t.workflow_sid,
        "task_channel": t.channel,
        "attributes": t.attributes,
        "priority": t.priority,
        "timeout": t.timeout,
        "assignment_status": str(t.status),
        "reason": t.reason,
        "task_queue_sid": t.queue_sid,
        "worker_sid": t.worker_sid,
        "date_created": t.date_created,
        "date_updated": t.date_updated,
        "date_entered_workflow": t.date_entered_workflow,
        "date_entered_queue": t.date_entered_queue,
        "date_assigned": t.date_assigned,
        "date_wrapping": t.date_wrapping,
        "date_completed": t.date_completed,
        "seq": t.seq,
        "filter_index": t.filter_index,
        "target_index": t.target_index,
        "target_deadline": t.target_deadline,
        "known_worker_sid": t.known_worker_sid,
        "excluded_workers": sorted(t.excluded_workers),
        "transferred_from": t.transferred_from,
        "expires_at": t.expires_at,
    }


def reservation_record(r: Reservation) -> Record:
    return {
        "sid": r.sid,
        "task_sid": r.task_sid,
        "worker_sid": r.worker_sid,
        "task_queue_sid": r.queue_sid,
        "task_channel": r.channel,
        "reservation_status": str(r.status),
        "date_created": r.date_created,
        "date_updated": r.date_updated,
        "timeout_at": r.timeout_at,
        "date_accepted": r.date_accepted,
        "date_wrapping": r.date_wrapping,
        "wrapup_deadline": r.wrapup_deadline,
    }


_RECORDERS: dict[type, Any] = {
    Activity: activity_record,
    TaskChannel: channel_record,
    Worker: worker_record,
    TaskQueue: queue_record,
    Workflow: workflow_record,
    Task: task_record,
    Reservation: reservation_record,
}


def record_of(obj: object) -> tuple[str, Record]:
    """(kind, record) of any engine object."""
    return KIND_OF[type(obj)], _RECORDERS[type(obj)](obj)


def restore_workspace(clock: Clock, workspace: Mapping[str, Any], records: Mapping[str, Iterable[Record]]) -> Workspace:
    """Rebuild an engine from stored records: live tasks keep their age, priority, step and offers."""
    ws = Workspace(
        clock,
        sid=workspace["sid"],
        friendly_name=workspace["friendly_name"],
        service_level_threshold=workspace["service_level_threshold"],
        wrapup_seconds=workspace["wrapup_seconds"],
    )
    for r in records.get("activity", ()):
        ws.activities[r["sid"]] = Activity(
            r["sid"], r["friendly_name"], r["available"], r["date_created"], r["date_updated"]
        )
    ws.default_activity_sid = workspace["default_activity_sid"]
    ws.timeout_activity_sid = workspace["timeout_activity_sid"]
    for r in records.get("channel", ()):
        ws.channels[r["unique_name"]] = TaskChannel(
            r["sid"],
            r["unique_name"],
            r["friendly_name"],
            r["default_capacity"],
            r["date_created"],
            r["date_updated"],
        )
    for r in sorted(records.get("queue", ()), key=lambda r: r["date_created"]):
        queue = ws.add_queue(
            r["friendly_name"],
            sid=r["sid"],
            target_workers=r["target_workers"],
            strategy=r["strategy"],
            strategy_options=r["strategy_options"],
            task_order=r["task_order"],
            max_reserved_workers=r["max_reserved_workers"],
            reservation_activity_sid=r["reservation_activity_sid"],
            assignment_activity_sid=r["assignment_activity_sid"],
            wrapup_seconds=r["wrapup_seconds"],
            post_work_activity_sid=r["post_work_activity_sid"],
            service_level_threshold=r["service_level_threshold"],
        )
        queue.date_created, queue.date_updated = r["date_created"], r["date_updated"]
    for r in records.get("workflow", ()):
        config = ws.parse_workflow(r["configuration"])
        ws.workflows[r["sid"]] = Workflow(
            r["sid"],
            r["friendly_name"],
            r["configuration"],
            config,
            r["task_reservation_timeout"],
            r["date_created"],
            r["date_updated"],
        )
    workers = sorted(records.get("worker", ()), key=lambda r: r["seq"])
    for r in workers:
        worker = Worker(
            sid=r["sid"],
            friendly_name=r["friendly_name"],
            attributes=r["attributes"],
            activity_sid=r["activity_sid"],
            channels={
                c["task_channel"]: WorkerChannel(c["task_channel"], c["capacity"], c["available"])
                for c in r["channels"]
                if c["task_channel"] in ws.channels
            },
            date_created=r["date_created"],
            date_updated=r["date_updated"],
            date_status_changed=r["date_status_changed"],
            seq=r["seq"],
            last_idle=r["last_idle"],
            tasks_assigned=r["tasks_assigned"],
            talk_seconds=r["talk_seconds"],
        )
        ws.adopt_worker(worker)
    tasks = [_task(r) for r in records.get("task", ()) if r["assignment_status"] not in ("completed", "canceled")]
    reservations = [
        _reservation(r) for r in records.get("reservation", ()) if r["reservation_status"] in _LIVE_STATUSES
    ]
    # Rebuilding emits nothing; offers the restored engine makes at once are real and keep their events.
    ws.drain_events()
    ws.drain_changes()
    ws.adopt_tasks(tasks, reservations)
    return ws


_LIVE_STATUSES = {"pending", "accepted", "wrapping"}


def _task(r: Record) -> Task:
    return Task(
        sid=r["sid"],
        workflow_sid=r["workflow_sid"],
        channel=r["task_channel"],
        attributes=r["attributes"],
        priority=r["priority"],
        timeout=r["timeout"],
        date_created=r["date_created"],
        date_updated=r["date_updated"],
        seq=r["seq"],
        status=TaskStatus(r["assignment_status"]),
        reason=r["reason"],
        queue_sid=r["task_queue_sid"],
        filter_index=r["filter_index"],
        target_index=r["target_index"],
        date_entered_workflow=r["date_entered_workflow"],
        date_entered_queue=r["date_entered_queue"],
        target_deadline=r["target_deadline"],
        known_worker_sid=r["known_worker_sid"],
        excluded_workers=set(r["excluded_workers"]),
        worker_sid=r["worker_sid"],
        date_assigned=r["date_assigned"],
        date_wrapping=r["date_wrapping"],
        date_completed=r["date_completed"],
        transferred_from=r["transferred_from"],
        expires_at=r.get("expires_at"),
    )


def _reservation(r: Record) -> Reservation:
    return Reservation(
        sid=r["sid"],
        task_sid=r["task_sid"],
        worker_sid=r["worker_sid"],
        queue_sid=r["task_queue_sid"],
        channel=r["task_channel"],
        date_created=r["date_created"],
        date_updated=r["date_updated"],
        timeout_at=r["timeout_at"],
        status=ReservationStatus(r["reservation_status"]),
        date_accepted=r["date_accepted"],
        date_wrapping=r["date_wrapping"],
        wrapup_deadline=r["wrapup_deadline"],
    )
