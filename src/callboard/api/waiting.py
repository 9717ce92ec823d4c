"""A queue's waiting options: what its callers hear while they wait (music, position and wait announcements,
custom announcements), the callback offer, and the limits (max wait, join and leave when empty)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Body

from callboard.api.access import AdminScope, Scope, StaffScope
from callboard.api.ivr import ListenerDep, changed, ivr_store, load_ivr
from callboard.api.urls import WORKSPACE
from callboard.config.model import Waiting
from callboard.config.reader import DataReader
from callboard.config.validate_ivr import read_waiting
from callboard.core.errors import ValidationError

router = APIRouter(prefix=f"{WORKSPACE}/task-queues", tags=["task queues"])

WaitingBody = Annotated[
    dict[str, Any],
    Body(description="The queue's `waiting:` block as in the center file; every key optional (defaults apply)"),
]
KIND = "queue_waiting"


def waiting_view(queue_sid: str, queue_name: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """The options in force: the stored ones, or the defaults (`configured` false) when none are stored."""
    options = dataclasses.asdict(Waiting()) if body is None else body
    return {"queue_sid": queue_sid, "queue": queue_name, "configured": body is not None, **options}


def _queue_name(scope: Scope, sid: str) -> str:
    return scope.engine.queue(sid).friendly_name  # 404 queue_not_found from the engine


@router.get("/{sid}/waiting")
async def get_waiting(sid: str, scope: StaffScope) -> dict[str, Any]:
    """The queue's waiting options (the defaults when none were set)."""
    name = _queue_name(scope, sid)
    return waiting_view(sid, name, await ivr_store(scope).get_document(scope.sid, KIND, name))


@router.put("/{sid}/waiting")
async def put_waiting(sid: str, body: WaitingBody, scope: AdminScope, listener: ListenerDep) -> dict[str, Any]:
    """Replace the queue's waiting options; 422 `waiting_invalid` lists each problem at its path. Callers already
    waiting keep the options they started with; the next callers get these."""
    name = _queue_name(scope, sid)
    ivr = await load_ivr(scope)
    catalog = ivr.catalog(scope)
    reader = DataReader()
    waiting = read_waiting(reader, body, (), catalog.prompts, sorted(catalog.workflows))
    if reader.problems:
        count = f"{len(reader.problems)} problem{'s' if len(reader.problems) != 1 else ''}"
        listed = [{"path": ".".join(str(part) for part in path), "message": text} for path, text in reader.problems]
        raise ValidationError(
            f"waiting options of queue {name} have {count}", error_id="waiting_invalid", problems=listed
        )
    stored = dataclasses.asdict(waiting)
    await ivr_store(scope).put_document(scope.sid, KIND, name, stored)
    changed(listener, scope.sid)
    return waiting_view(sid, name, stored)


@router.delete("/{sid}/waiting", status_code=204)
async def delete_waiting(sid: str, scope: AdminScope, listener: ListenerDep) -> None:
    """Back to the default waiting experience."""
    name = _queue_name(scope, sid)
    if await ivr_store(scope).delete_document(scope.sid, KIND, name):
        changed(listener, scope.sid)
