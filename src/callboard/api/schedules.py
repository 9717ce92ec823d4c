"""Schedules: a time zone, weekly hours and holidays, which numbers and flows refer to by name."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Query, Response

from callboard.api.access import AdminScope, Scope, StaffScope
from callboard.api.ivr import ListenerDep, catalog, changed, check_removal, document, invalid, ivr_store, load_ivr
from callboard.api.params import PageDep
from callboard.api.ports import Record
from callboard.api.urls import WORKSPACE
from callboard.core.errors import NotFoundError, ValidationError
from callboard.flows.schedule import build_schedules

router = APIRouter(prefix=f"{WORKSPACE}/schedules", tags=["schedules"])

ScheduleBody = Annotated[
    dict[str, Any],
    Body(description="One schedule as in the center file's `schedules:` list; `name` may be left out"),
]


def schedule_view(name: str, body: Record) -> Record:
    return {**body, "name": name}


def _not_found(name: str) -> NotFoundError:
    return NotFoundError(f"no schedule {name}", error_id="schedule_not_found", name=name)


async def _body(scope: Scope, name: str) -> Record:
    body = await ivr_store(scope).get_document(scope.sid, "schedule", name)
    if body is None:
        raise _not_found(name)
    return body


@router.get("")
async def list_schedules(scope: StaffScope, page: PageDep) -> dict[str, Any]:
    documents = await ivr_store(scope).list_documents(scope.sid, "schedule")
    return page.slice([schedule_view(d["name"], d["body"]) for d in documents])


@router.get("/{name}")
async def get_schedule(name: str, scope: StaffScope) -> Record:
    return schedule_view(name, await _body(scope, name))


@router.put("/{name}", responses={201: {"description": "The schedule was added"}})
async def put_schedule(
    name: str, body: ScheduleBody, scope: AdminScope, listener: ListenerDep, response: Response
) -> Record:
    data = document("name", name, body)
    ivr = await load_ivr(scope)
    _, problems = build_schedules([data], ivr.catalog(scope))
    if problems:
        raise invalid("schedule_invalid", f"schedule {name}", problems)
    stored = {k: v for k, v in data.items() if k != "name"}
    await ivr_store(scope).put_document(scope.sid, "schedule", name, stored)
    if name not in ivr.schedules:
        response.status_code = 201
    changed(listener, scope.sid)
    return schedule_view(name, stored)


@router.delete("/{name}", status_code=204)
async def delete_schedule(name: str, scope: AdminScope, listener: ListenerDep) -> None:
    """Delete a schedule; refused (409 `schedule_in_use`) while a number or a flow uses it."""
    ivr = await load_ivr(scope)
    if name not in ivr.schedules:
        raise _not_found(name)
    without = replace(ivr, schedules={k: v for k, v in ivr.schedules.items() if k != name})
    check_removal(scope, ivr, without, "schedule_in_use", f"schedule {name}")
    if not await ivr_store(scope).delete_document(scope.sid, "schedule", name):
        raise _not_found(name)
    changed(listener, scope.sid)


@router.get("/{name}/state")
async def schedule_state(
    name: str,
    scope: StaffScope,
    at: Annotated[
        str | None,
        Query(
            description="When: ISO 8601 (without an offset: the schedule's local time) or epoch seconds; default now"
        ),
    ] = None,
) -> dict[str, Any]:
    """Whether the schedule is open, closed or closed for a holiday at a moment, and until when."""
    data = {"name": name, **await _body(scope, name)}
    schedules, problems = build_schedules([data], await catalog(scope))
    if problems:
        raise invalid("schedule_invalid", f"schedule {name}", problems)
    schedule = schedules[name]
    instant = _instant(at, ZoneInfo(schedule.time_zone)) if at else scope.center.clock.now()
    state = schedule.state_at(instant)
    return {
        "name": name,
        "at": datetime.fromtimestamp(instant, ZoneInfo(schedule.time_zone)).isoformat(),
        "status": state.status.value,
        "holiday": state.holiday,
        "until": state.until,
    }


def _instant(at: str, zone: ZoneInfo) -> float:
    try:
        return float(at)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        raise ValidationError("at must be ISO 8601 or epoch seconds", error_id="invalid_date", field="at") from None
    return (when if when.tzinfo is not None else when.replace(tzinfo=zone)).timestamp()
