"""Tasks: units of work routed by a workflow to a queue and offered to workers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from callboard.api.access import Member, StaffScope
from callboard.api.auth import denied
from callboard.api.lookup import ensure_live, stored
from callboard.api.params import PageDep, csv
from callboard.api.reservations import reservation_page
from callboard.api.schemas import TaskCreate, TaskTransfer, TaskUpdate
from callboard.api.urls import WORKSPACE
from callboard.api.views import task_view
from callboard.routing.records import task_record

router = APIRouter(prefix=f"{WORKSPACE}/tasks", tags=["tasks"])


@router.get("")
async def list_tasks(
    scope: StaffScope,
    page: PageDep,
    assignment_status: str | None = None,
    task_queue_sid: str | None = None,
    worker_sid: str | None = None,
    workflow_sid: str | None = None,
) -> dict[str, Any]:
    """Live and ended tasks from the store; `assignment_status` takes a comma-separated list."""
    filters = {
        "assignment_status": csv(assignment_status),
        "task_queue_sid": task_queue_sid,
        "worker_sid": worker_sid,
        "workflow_sid": workflow_sid,
    }
    records, total = await scope.center.store.list(
        scope.sid,
        "task",
        filters={k: v for k, v in filters.items() if v is not None},
        limit=page.page_size,
        offset=page.offset,
    )
    now = scope.center.clock.now()
    return page.body([task_view(r, now) for r in records], total)


@router.post("", status_code=201)
async def create_task(body: TaskCreate, scope: StaffScope) -> dict[str, Any]:
    options: dict[str, Any] = {"attributes": body.attributes, "priority": body.priority}
    if body.task_channel is not None:
        options["channel"] = body.task_channel
    if body.timeout is not None:
        options["timeout"] = body.timeout
    task = await scope.run(lambda w: w.create_task(body.workflow_sid, **options))
    return task_view(task_record(task), scope.center.clock.now())


@router.get("/{sid}")
async def get_task(sid: str, scope: Member) -> dict[str, Any]:
    """Staff read any task; an agent only a task it has (or had) a reservation for."""
    record = await stored(scope, "task", sid)
    if scope.principal.is_agent:
        _, offered = await scope.center.store.list(
            scope.sid, "reservation", filters={"task_sid": sid, "worker_sid": scope.principal.worker_sid}, limit=1
        )
        if not offered:
            raise denied("agents may only read the tasks of their reservations")
    return task_view(record, scope.center.clock.now())


@router.patch("/{sid}")
async def update_task(sid: str, body: TaskUpdate, scope: StaffScope) -> dict[str, Any]:
    """New attributes re-route a waiting task; `assignment_status` cancels, wraps up or completes it."""
    await ensure_live(scope, "task", sid)
    task = await scope.run(lambda w: w.update_task(sid, **body.changes()))
    return task_view(task_record(task), scope.center.clock.now())


@router.delete("/{sid}", status_code=204)
async def cancel_task(sid: str, scope: StaffScope, reason: str = "canceled") -> None:
    """Cancel a task that is still waiting; an assigned task is completed instead (409 here)."""
    await ensure_live(scope, "task", sid)
    await scope.run(lambda w: w.cancel_task(sid, reason))


@router.post("/{sid}/transfer")
async def transfer_task(sid: str, body: TaskTransfer, scope: StaffScope) -> dict[str, Any]:
    """Move a task to another queue or worker; an assigned task is handed over as a new task (returned)."""
    await ensure_live(scope, "task", sid)
    task = await scope.run(lambda w: w.transfer_task(sid, queue_sid=body.task_queue_sid, worker_sid=body.worker_sid))
    return task_view(task_record(task), scope.center.clock.now())


@router.get("/{sid}/reservations")
async def list_task_reservations(sid: str, scope: Member, page: PageDep) -> dict[str, Any]:
    """The task's reservations; an agent sees only its own among them."""
    await stored(scope, "task", sid)
    worker_sid = scope.principal.worker_sid if scope.principal.is_agent else None
    return await reservation_page(scope, page, task_sid=sid, worker_sid=worker_sid)
