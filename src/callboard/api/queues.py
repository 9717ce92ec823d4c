"""Task queues: a worker expression picks the members, a strategy picks who gets the next task."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from callboard.api.access import AdminScope, StaffScope
from callboard.api.params import PageDep
from callboard.api.schemas import QueueCreate, QueueUpdate
from callboard.api.urls import WORKSPACE
from callboard.routing.records import queue_record

router = APIRouter(prefix=f"{WORKSPACE}/task-queues", tags=["task queues"])


@router.get("")
async def list_queues(
    scope: StaffScope, page: PageDep, friendly_name: str | None = None, worker_sid: str | None = None
) -> dict[str, Any]:
    """`worker_sid` keeps the queues that worker is a member of."""
    items = [
        queue_record(q)
        for q in scope.engine.queues.values()
        if (friendly_name is None or q.friendly_name == friendly_name)
        and (worker_sid is None or worker_sid in q.members)
    ]
    return page.slice(items)


@router.post("", status_code=201)
async def create_queue(body: QueueCreate, scope: AdminScope) -> dict[str, Any]:
    settings = body.changes()
    queue = await scope.run(lambda w: w.add_queue(settings.pop("friendly_name"), **settings))
    return queue_record(queue)


@router.get("/{sid}")
async def get_queue(sid: str, scope: StaffScope) -> dict[str, Any]:
    return queue_record(scope.engine.queue(sid))


@router.patch("/{sid}")
async def update_queue(sid: str, body: QueueUpdate, scope: AdminScope) -> dict[str, Any]:
    queue = await scope.run(lambda w: w.update_queue(sid, **body.changes()))
    return queue_record(queue)


@router.delete("/{sid}", status_code=204)
async def delete_queue(sid: str, scope: AdminScope) -> None:
    await scope.run(lambda w: w.delete_queue(sid))
