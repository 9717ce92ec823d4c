"""Resources as the API shows them: the engine's records plus fields computed at read time."""

from __future__ import annotations

from callboard.api.ports import Record
from callboard.routing.model import Worker
from callboard.routing.records import worker_record, workspace_record
from callboard.routing.workspace import Workspace


def workspace_view(engine: Workspace) -> Record:
    return workspace_record(engine)


def worker_view(engine: Workspace, worker: Worker) -> Record:
    """A worker with its activity's name and whether that activity takes work (TaskRouter's `available`)."""
    activity = engine.activities.get(worker.activity_sid)
    return {
        **worker_record(worker),
        "activity_name": activity.friendly_name if activity else None,
        "available": bool(activity and activity.available),
    }


def task_view(record: Record, now: float) -> Record:
    """A stored task with its `age`: seconds since it was created, or until it ended."""
    end = record["date_updated"] if record["assignment_status"] in _ENDED else now
    return {**record, "age": end - record["date_created"]}


_ENDED = frozenset({"completed", "canceled"})
