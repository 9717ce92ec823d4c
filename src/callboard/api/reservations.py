"""Reservations: offers of a task to a worker, and the worker's answers (accept, reject, wrap up, complete)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter

from callboard.api.access import Member, Scope
from callboard.api.lookup import ensure_live, stored
from callboard.api.params import Page, PageDep, csv
from callboard.api.schemas import ReservationComplete, ReservationReject, WrapupExtension
from callboard.api.urls import WORKSPACE
from callboard.routing.model import Reservation
from callboard.routing.records import reservation_record
from callboard.routing.workspace import Workspace

router = APIRouter(prefix=f"{WORKSPACE}/reservations", tags=["reservations"])


async def reservation_page(scope: Scope, page: Page, **filters: Any) -> dict[str, Any]:
    """A page of stored reservations, ended ones included; None filters are dropped."""
    wanted = {k: v for k, v in filters.items() if v is not None}
    records, total = await scope.center.store.list(
        scope.sid, "reservation", filters=wanted, limit=page.page_size, offset=page.offset
    )
    return page.body(records, total)


@router.get("")
async def list_reservations(
    scope: Member,
    page: PageDep,
    worker_sid: str | None = None,
    task_sid: str | None = None,
    reservation_status: str | None = None,
) -> dict[str, Any]:
    """Staff see every reservation; an agent sees its own (`worker_sid` defaults to it)."""
    if scope.principal.is_agent:
        worker_sid = worker_sid or scope.principal.worker_sid
        scope.require_worker(worker_sid or "")
    return await reservation_page(
        scope,
        page,
        worker_sid=worker_sid,
        task_sid=task_sid,
        reservation_status=csv(reservation_status),
    )


async def _own(scope: Scope, sid: str) -> dict[str, Any]:
    record = await stored(scope, "reservation", sid)
    scope.require_worker(record["worker_sid"])
    return record


@router.get("/{sid}")
async def get_reservation(sid: str, scope: Member) -> dict[str, Any]:
    return await _own(scope, sid)


async def _act(scope: Scope, sid: str, op: Callable[[Workspace], Reservation]) -> dict[str, Any]:
    await _own(scope, sid)
    await ensure_live(scope, "reservation", sid)
    return reservation_record(await scope.run(op))


@router.post("/{sid}/accept")
async def accept_reservation(sid: str, scope: Member) -> dict[str, Any]:
    return await _act(scope, sid, lambda w: w.accept_reservation(sid))


@router.post("/{sid}/reject")
async def reject_reservation(sid: str, scope: Member, body: ReservationReject | None = None) -> dict[str, Any]:
    """Refuse the offer; the task goes to another worker. `activity_sid` moves the worker (e.g. to Break)."""
    activity_sid = body.activity_sid if body else None
    return await _act(scope, sid, lambda w: w.reject_reservation(sid, activity_sid=activity_sid))


@router.post("/{sid}/wrapup")
async def wrapup_reservation(sid: str, scope: Member) -> dict[str, Any]:
    return await _act(scope, sid, lambda w: w.wrapup_reservation(sid))


@router.post("/{sid}/complete")
async def complete_reservation(sid: str, scope: Member, body: ReservationComplete | None = None) -> dict[str, Any]:
    reason = body.reason if body else None
    return await _act(scope, sid, lambda w: w.complete_reservation(sid, reason=reason))


@router.post("/{sid}/extend-wrapup")
async def extend_wrapup(sid: str, body: WrapupExtension, scope: Member) -> dict[str, Any]:
    return await _act(scope, sid, lambda w: w.extend_wrapup(sid, body.seconds))
