"""Reservations: offers of a task to a worker, and the worker's answers (accept, reject, wrap up, complete).

A reservation as the API shows it also names its queue and what wrap-up will be like there (its seconds and
the activity the worker goes to after), since agents cannot read queues. In wrap-up the worker gives the
task a disposition and notes, kept in the task's attributes (`disposition`, `notes`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter

from callboard.api.access import Member, Scope
from callboard.api.dispositions import workspace_dispositions
from callboard.api.lookup import ensure_live, stored
from callboard.api.params import Page, PageDep, csv
from callboard.api.ports import Record
from callboard.api.schemas import ReservationComplete, ReservationReject, TaskDisposition, WrapupExtension
from callboard.api.urls import WORKSPACE
from callboard.core.errors import InvalidStateError, ValidationError
from callboard.routing.model import Reservation, ReservationStatus
from callboard.routing.records import reservation_record
from callboard.routing.workspace import Workspace

router = APIRouter(prefix=f"{WORKSPACE}/reservations", tags=["reservations"])


async def reservation_page(scope: Scope, page: Page, **filters: Any) -> dict[str, Any]:
    """A page of stored reservations, ended ones included; None filters are dropped."""
    wanted = {k: v for k, v in filters.items() if v is not None}
    records, total = await scope.center.store.list(
        scope.sid, "reservation", filters=wanted, limit=page.page_size, offset=page.offset
    )
    body = page.body(records, total)
    body["items"] = [reservation_view(scope, r) for r in body["items"]]
    return body


def reservation_view(scope: Scope, record: Record) -> Record:
    """A reservation with its queue's name, wrap-up seconds and post-work activity (null: none)."""
    engine = scope.engine
    queue = engine.queues.get(record.get("task_queue_sid") or "")
    wrapup = engine.wrapup_seconds
    if queue is not None and queue.wrapup_seconds is not None:
        wrapup = queue.wrapup_seconds
    post_work = queue.post_work_activity_sid if queue is not None else None
    activity = engine.activities.get(post_work or "")
    return {
        **record,
        "task_queue_friendly_name": queue.friendly_name if queue is not None else None,
        "wrapup_seconds": wrapup,
        "post_work_activity_sid": post_work,
        "post_work_activity_name": activity.friendly_name if activity is not None else None,
    }


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
    return reservation_view(scope, await _own(scope, sid))


async def _act(scope: Scope, sid: str, op: Callable[[Workspace], Reservation]) -> dict[str, Any]:
    await _own(scope, sid)
    await ensure_live(scope, "reservation", sid)
    return reservation_view(scope, reservation_record(await scope.run(op)))


async def _checked(scope: Scope, body: TaskDisposition | ReservationComplete) -> dict[str, str]:
    """The attributes a disposition and notes set; a code must be one of the workspace's (422
    `disposition_unknown`)."""
    given: dict[str, str] = {}
    if body.disposition is not None:
        codes = [d.code for d in await workspace_dispositions(scope)]
        if body.disposition not in codes:
            raise ValidationError(
                f"unknown disposition {body.disposition!r}", error_id="disposition_unknown", known=codes
            )
        given["disposition"] = body.disposition
    if body.notes is not None:
        given["notes"] = body.notes
    return given


def _dispose(w: Workspace, sid: str, given: dict[str, str]) -> Reservation:
    res = w.reservation(sid)
    if res.status not in (ReservationStatus.ACCEPTED, ReservationStatus.WRAPPING):
        raise InvalidStateError(
            f"reservation {sid} is {res.status}: a disposition is given once it is accepted",
            error_id="reservation_invalid_state",
            sid=sid,
            status=str(res.status),
        )
    if given:
        task = w.task(res.task_sid)
        w.update_task(task.sid, attributes={**task.attributes, **given})
    return res


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
    """Done with the task; `disposition` and `notes`, if given, are stored with it first."""
    reason = body.reason if body else None
    given = await _checked(scope, body) if body else {}

    def op(w: Workspace) -> Reservation:
        if given:
            _dispose(w, sid, given)
        return w.complete_reservation(sid, reason=reason)

    return await _act(scope, sid, op)


@router.post("/{sid}/disposition")
async def set_disposition(sid: str, body: TaskDisposition, scope: Member) -> dict[str, Any]:
    """Store a disposition code and notes with the task while the reservation is accepted or wrapping (they
    stay if wrap-up time runs out before the worker completes)."""
    given = await _checked(scope, body)
    return await _act(scope, sid, lambda w: _dispose(w, sid, given))


@router.post("/{sid}/extend-wrapup")
async def extend_wrapup(sid: str, body: WrapupExtension, scope: Member) -> dict[str, Any]:
    """Push the automatic end of wrap-up `seconds` later (a wrap-up without a time limit keeps none)."""
    return await _act(scope, sid, lambda w: w.extend_wrapup(sid, body.seconds))
