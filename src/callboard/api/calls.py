"""Call records of a workspace and their recordings.

Supervisors and admins see every call; an agent sees the calls it took (the record's `worker_sid` is its
worker) and the call of a task it holds now (offered, accepted or wrapping: its screen pop), and no
recording. Only admins see where a recording lies on the server's disk. Each call shows the `disposition`
and `notes` its agent gave its task in wrap-up.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse

from callboard.api.access import Member, Scope, StaffScope
from callboard.api.holding import held_tasks
from callboard.api.params import parse_date
from callboard.api.ports import Record
from callboard.api.urls import V1, WORKSPACE
from callboard.core.errors import NotFoundError, ValidationError
from callboard.storage.calls import searched_digits

log = logging.getLogger(__name__)
router = APIRouter(prefix=f"{WORKSPACE}/calls", tags=["calls"])

MAX_LIMIT = 500
Outcome = Literal["completed", "abandoned", "no_agent", "failed", "rejected", "ivr", "callback"]


def get_recordings_dir(request: Request) -> Path | None:
    folder: Path | None = request.app.state.recordings_dir
    return folder


RecordingsDir = Annotated[Path | None, Depends(get_recordings_dir)]


def call_view(scope: Scope, record: Record) -> Record:
    """A call as `scope`'s caller may see it: `has_recording`, and for staff where to download it."""
    has_recording = record.get("recording_path") is not None
    url = f"{V1}/workspaces/{scope.sid}/calls/{record['sid']}/recording"
    return {
        **record,
        "recording_path": record.get("recording_path") if scope.principal.is_admin else None,
        "has_recording": has_recording,
        "recording_url": url if has_recording and scope.principal.is_staff else None,
    }


async def with_dispositions(scope: Scope, records: list[Record]) -> list[Record]:
    """The calls with the `disposition` and `notes` of their tasks (null when none was given)."""
    task_sids = sorted({r["task_sid"] for r in records if r.get("task_sid")})
    attributes: dict[str, dict[str, Any]] = {}
    if task_sids:
        tasks, _ = await scope.center.store.list(scope.sid, "task", filters={"sid": task_sids}, limit=len(task_sids))
        attributes = {t["sid"]: t.get("attributes") or {} for t in tasks}
    out = []
    for record in records:
        given = attributes.get(record.get("task_sid") or "", {})
        out.append({**record, "disposition": given.get("disposition"), "notes": given.get("notes")})
    return out


def _held(scope: Scope, record: Record) -> bool:
    """Whether the call is the one of a task the agent holds now."""
    return any(
        task.sid == record.get("task_sid") or task.attributes.get("call_sid") == record["sid"]
        for task in held_tasks(scope)
    )


def _digits(number: str) -> str:
    """The digits a number is searched by: `+34 600-11` and `0034 60011` both give `3460011`."""
    digits = searched_digits(number)
    if not digits:
        raise ValidationError(f"{number!r} has no digits to search for", error_id="number_invalid", number=number)
    return digits


def _call_not_found(sid: str) -> NotFoundError:
    return NotFoundError(f"no call {sid}", error_id="call_not_found", sid=sid)


async def _visible_call(scope: Scope, sid: str) -> Record:
    """The call, if the caller may see it; another worker's call is as unknown to an agent as a missing one."""
    record = await scope.center.store.get_call(scope.sid, sid)
    if record is None:
        raise _call_not_found(sid)
    if scope.principal.is_agent and (
        scope.principal.worker_sid is None
        or (record["worker_sid"] != scope.principal.worker_sid and not _held(scope, record))
    ):
        raise _call_not_found(sid)
    return record


@router.get("")
async def list_calls(
    scope: Member,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Calls per page")] = 50,
    before: Annotated[str | None, Query(description="Only calls that started before (epoch or ISO 8601)")] = None,
    before_sid: Annotated[
        str | None, Query(description="With `before`: also calls that started at `before` with a smaller sid")
    ] = None,
    queue_sid: str | None = None,
    worker_sid: str | None = None,
    outcome: Outcome | None = None,
    start_date: Annotated[
        str | None, Query(description="Only calls that started at or after (epoch or ISO 8601)")
    ] = None,
    end_date: Annotated[str | None, Query(description="Only calls that started before (epoch or ISO 8601)")] = None,
    number: Annotated[
        str | None, Query(description="The caller's or the called number ends with these digits (+34 600 11 12 22)")
    ] = None,
    has_recording: Annotated[bool | None, Query(description="Only recorded calls (true) or unrecorded ones")] = None,
) -> dict[str, Any]:
    """Calls newest first. To read on, pass `meta.next_before` as `before` and `meta.next_before_sid` as
    `before_sid` (both null on the last page)."""
    started_before = parse_date(before, "before")
    meta: dict[str, Any] = {"limit": limit, "before": started_before, "before_sid": before_sid}
    if scope.principal.is_agent:
        own = scope.principal.worker_sid
        if own is None or worker_sid not in (None, own):
            return {"items": [], "meta": {**meta, "next_before": None, "next_before_sid": None}}
        worker_sid = own
    cursor = (started_before, before_sid if started_before is not None else None)
    until = parse_date(end_date, "end_date")
    if until is not None and (cursor[0] is None or until <= cursor[0]):
        cursor = (until, None)
    records = await scope.center.store.list_calls(
        scope.sid,
        limit=limit + 1,
        before=cursor[0],
        before_sid=cursor[1],
        queue_sid=queue_sid,
        worker_sid=worker_sid,
        outcome=outcome,
        since=parse_date(start_date, "start_date"),
        number_ends=_digits(number) if number is not None else None,
        has_recording=has_recording,
    )
    last = records[limit - 1] if len(records) > limit else None
    records = records[:limit]
    meta["next_before"] = last["started_at"] if last else None
    meta["next_before_sid"] = last["sid"] if last else None
    return {"items": [call_view(scope, r) for r in await with_dispositions(scope, records)], "meta": meta}


@router.get("/{sid}")
async def get_call(sid: str, scope: Member) -> dict[str, Any]:
    return call_view(scope, (await with_dispositions(scope, [await _visible_call(scope, sid)]))[0])


@router.get(
    "/{sid}/recording",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}, "description": "The call's stereo WAV (caller left, agent right)"}},
)
async def get_recording(sid: str, scope: StaffScope, recordings_dir: RecordingsDir) -> FileResponse:
    """The call's recording (supervisors and admins)."""
    record = await _visible_call(scope, sid)
    stored = record["recording_path"]
    found = None
    if stored is not None and recordings_dir is not None:
        found = await asyncio.to_thread(recording_file, recordings_dir, stored)
    if found is None:
        raise NotFoundError(f"call {sid} has no recording", error_id="recording_not_found", sid=sid)
    return FileResponse(found, media_type="audio/wav", filename=f"{sid}.wav", content_disposition_type="inline")


def recording_file(recordings_dir: Path, stored: str) -> Path | None:
    """The file a record's `recording_path` names, if it is a file inside `recordings_dir` (after following
    links); None otherwise. A relative path is taken from the working directory (where the voice plane
    wrote it, under a relative recordings folder) or from the recordings folder itself."""
    root = recordings_dir.resolve()
    path = Path(stored)
    candidates = [path] if path.is_absolute() else [path, root / path]
    for candidate in candidates:
        try:
            real = candidate.resolve(strict=True)
        except (OSError, RuntimeError, ValueError):  # missing, a link loop, a NUL byte
            continue
        if not real.is_relative_to(root):
            log.warning("refusing to serve recording %s: it is outside the recordings folder %s", real, root)
            continue
        if real.is_file():
            return real
    return None
