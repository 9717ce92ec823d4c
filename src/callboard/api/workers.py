"""Workers (agents): attributes, activity, capacity per channel, and their reservations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from callboard.api.access import AdminScope, Member, StaffScope
from callboard.api.auth import denied
from callboard.api.channels import find_channel
from callboard.api.params import PageDep, csv
from callboard.api.reservations import reservation_page
from callboard.api.schemas import WorkerChannelUpdate, WorkerCreate, WorkerUpdate
from callboard.api.urls import WORKSPACE
from callboard.api.views import worker_view
from callboard.core.expressions import compile_expression
from callboard.routing.model import Worker

router = APIRouter(prefix=f"{WORKSPACE}/workers", tags=["workers"])

# What each role may change on a worker; an agent changes only its own activity.
_EDITABLE = {"admin": {"friendly_name", "attributes", "activity_sid"}, "supervisor": {"attributes", "activity_sid"}}


@router.get("")
async def list_workers(
    scope: StaffScope,
    page: PageDep,
    activity_sid: str | None = None,
    available: bool | None = None,
    friendly_name: str | None = None,
    target_workers_expression: str | None = None,
    task_queue_sid: str | None = None,
) -> dict[str, Any]:
    """Filters combine; `target_workers_expression` is evaluated on each worker's attributes."""
    engine = scope.engine
    expression = compile_expression(target_workers_expression) if target_workers_expression else None
    members = engine.queue(task_queue_sid).members if task_queue_sid else None

    def keep(w: Worker) -> bool:
        return (
            (activity_sid is None or w.activity_sid == activity_sid)
            and (available is None or engine.is_available(w) == available)
            and (friendly_name is None or w.friendly_name == friendly_name)
            and (members is None or w.sid in members)
            and (expression is None or expression.evaluate({"worker": w.attributes}))
        )

    return page.slice([worker_view(engine, w) for w in engine.workers.values() if keep(w)])


@router.post("", status_code=201)
async def create_worker(body: WorkerCreate, scope: AdminScope) -> dict[str, Any]:
    worker = await scope.run(
        lambda w: w.add_worker(
            body.friendly_name, attributes=body.attributes, activity_sid=body.activity_sid, capacities=body.capacities
        )
    )
    return worker_view(scope.engine, worker)


@router.get("/{sid}")
async def get_worker(sid: str, scope: Member) -> dict[str, Any]:
    scope.require_worker(sid)
    return worker_view(scope.engine, scope.engine.worker(sid))


@router.patch("/{sid}")
async def update_worker(sid: str, body: WorkerUpdate, scope: Member) -> dict[str, Any]:
    scope.require_worker(sid)
    changes = body.changes()
    refused = set(changes) - _EDITABLE.get(scope.principal.role, {"activity_sid"})
    if refused:
        raise denied(f"a {scope.principal.role} may not change {', '.join(sorted(refused))}")
    worker = await scope.run(lambda w: w.update_worker(sid, **changes))
    return worker_view(scope.engine, worker)


@router.delete("/{sid}", status_code=204)
async def delete_worker(sid: str, scope: AdminScope) -> None:
    await scope.run(lambda w: w.delete_worker(sid))


@router.get("/{sid}/channels")
async def list_worker_channels(sid: str, scope: Member, page: PageDep) -> dict[str, Any]:
    scope.require_worker(sid)
    return page.slice(worker_view(scope.engine, scope.engine.worker(sid))["channels"])


@router.patch("/{sid}/channels/{channel}")
async def update_worker_channel(sid: str, channel: str, body: WorkerChannelUpdate, scope: StaffScope) -> dict[str, Any]:
    """Set a worker's capacity on a channel, or take the channel out of its work (`available: false`)."""
    unique_name = find_channel(scope.engine, channel).unique_name
    await scope.run(lambda w: w.set_worker_channel(sid, unique_name, **body.changes()))
    channels = worker_view(scope.engine, scope.engine.worker(sid))["channels"]
    return next(c for c in channels if c["task_channel"] == unique_name)


@router.get("/{sid}/reservations")
async def list_worker_reservations(
    sid: str, scope: Member, page: PageDep, reservation_status: str | None = None
) -> dict[str, Any]:
    """The worker's reservations, ended ones included (`reservation_status` takes a comma-separated list)."""
    scope.require_worker(sid)
    scope.engine.worker(sid)
    return await reservation_page(scope, page, worker_sid=sid, reservation_status=csv(reservation_status))
