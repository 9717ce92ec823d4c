"""Tasks and reservations as stored: the engine forgets them when they end, the store keeps their history."""

from __future__ import annotations

from callboard.api.access import Scope
from callboard.api.ports import Record
from callboard.core.errors import InvalidStateError, NotFoundError

_STATUS_FIELD = {"task": "assignment_status", "reservation": "reservation_status"}


async def stored(scope: Scope, kind: str, sid: str) -> Record:
    """The stored record of a task or reservation, live or ended; raises `NotFoundError`."""
    record = await scope.center.store.get(scope.sid, kind, sid)
    if record is None:
        raise NotFoundError(f"no {kind} {sid}", error_id=f"{kind}_not_found", sid=sid)
    return record


async def ensure_live(scope: Scope, kind: str, sid: str) -> None:
    """Raise 404 for an unknown sid and 409 for one that has ended, before acting on it."""
    live = scope.engine.tasks if kind == "task" else scope.engine.reservations
    if sid in live:
        return
    status = (await stored(scope, kind, sid))[_STATUS_FIELD[kind]]
    raise InvalidStateError(f"{kind} {sid} is {status}", error_id=f"{kind}_invalid_state", sid=sid, status=status)
