"""Tasks: units of work routed by a workflow to a queue and offered to workers.

A task as the API shows it also names its queue (`task_queue_friendly_name`): agents cannot read queues.
`/tasks/{sid}/history` gives the earlier calls of the task's customer for the agent's screen pop.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from callboard.api.access import Member, Scope, StaffScope
from callboard.api.auth import denied
from callboard.api.calls import call_view, with_dispositions
from callboard.api.holding import customer_numbers, held_tasks
from callboard.api.ivr import e164, ivr_store
from callboard.api.lookup import ensure_live, stored
from callboard.api.params import PageDep, csv
from callboard.api.ports import Record
from callboard.api.reservations import reservation_page
from callboard.api.schemas import TaskCreate, TaskTransfer, TaskUpdate
from callboard.api.urls import WORKSPACE
from callboard.api.views import task_view as stored_task_view
from callboard.core.errors import ValidationError
from callboard.routing.records import task_record

router = APIRouter(prefix=f"{WORKSPACE}/tasks", tags=["tasks"])
MAX_HISTORY = 100


def task_view(scope: Scope, record: Record) -> Record:
    """A stored task with its `age` and its queue's name."""
    queue = scope.engine.queues.get(record.get("task_queue_sid") or "")
    view = stored_task_view(record, scope.center.clock.now())
    return {**view, "task_queue_friendly_name": queue.friendly_name if queue is not None else None}


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
    return page.body([task_view(scope, r) for r in records], total)


@router.post("", status_code=201)
async def create_task(body: TaskCreate, scope: StaffScope) -> dict[str, Any]:
    options: dict[str, Any] = {"attributes": body.attributes, "priority": body.priority}
    if body.task_channel is not None:
        options["channel"] = body.task_channel
    if body.timeout is not None:
        options["timeout"] = body.timeout
    task = await scope.run(lambda w: w.create_task(body.workflow_sid, **options))
    return task_view(scope, task_record(task))


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
    return task_view(scope, record)


@router.patch("/{sid}")
async def update_task(sid: str, body: TaskUpdate, scope: StaffScope) -> dict[str, Any]:
    """New attributes re-route a waiting task; `assignment_status` cancels, wraps up or completes it."""
    await ensure_live(scope, "task", sid)
    task = await scope.run(lambda w: w.update_task(sid, **body.changes()))
    return task_view(scope, task_record(task))


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
    return task_view(scope, task_record(task))


@router.get("/{sid}/reservations")
async def list_task_reservations(sid: str, scope: Member, page: PageDep) -> dict[str, Any]:
    """The task's reservations; an agent sees only its own among them."""
    await stored(scope, "task", sid)
    worker_sid = scope.principal.worker_sid if scope.principal.is_agent else None
    return await reservation_page(scope, page, task_sid=sid, worker_sid=worker_sid)


@router.get("/{sid}/history")
async def task_history(
    sid: str,
    scope: Member,
    limit: Annotated[int, Query(ge=1, le=MAX_HISTORY, description="Calls at most")] = 20,
) -> dict[str, Any]:
    """The customer behind the task and their earlier calls, newest first: the calls from the task's caller
    number (attributes `caller`, `callback_number`, `from`) or any number of its CRM contact, with the
    disposition and notes each got; the task's own call is left out. An agent reads it only for a task it
    holds now (offered, accepted or wrapping); 403 `permission_denied` otherwise."""
    record = await stored(scope, "task", sid)
    if scope.principal.is_agent and sid not in {t.sid for t in held_tasks(scope)}:
        raise denied("agents may only read the history of the tasks they hold")
    attributes = record.get("attributes") or {}
    numbers = customer_numbers(attributes)
    contact = None
    for number in numbers:
        try:
            contact = await ivr_store(scope).find_contact(scope.sid, e164(number))
        except ValidationError:
            continue  # a withheld or garbled caller id
        if contact is not None:
            break
    callers = list(dict.fromkeys([*numbers, *(contact["numbers"] if contact else [])]))
    calls: list[Record] = []
    if callers:
        found = await scope.center.store.list_calls(scope.sid, limit=limit + 1, callers=callers)
        own = attributes.get("call_sid")
        calls = [c for c in found if c["sid"] != own and c.get("task_sid") != sid][:limit]
    return {
        "task_sid": sid,
        "numbers": callers,
        "contact": contact,
        "calls": [call_view(scope, c) for c in await with_dispositions(scope, calls)],
    }
