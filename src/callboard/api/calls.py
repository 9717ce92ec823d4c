"""Call records of a workspace and their recordings.

Supervisors and admins see every call; an agent sees the calls it took (the record's `worker_sid` is its
worker) and the call of a task it holds now (offered, accepted or wrapping: its screen pop), and no
recording. Only admins see where a recording lies on the server's disk. Each call shows the `disposition`
and `notes` its agent gave its task in wrap-up.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
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

log = logging.getLogger(__name__)
router = APIRouter(prefix=f"{WORKSPACE}/calls", tags=["calls"])

MAX_LIMIT = 500
SCAN_BATCH = 200
MAX_SCAN = 5000  # records one request reads at most to fill a page the store cannot filter
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
    digits = "".join(c for c in number if c.isdigit()).lstrip("0")
    if not digits:
        raise ValidationError(f"{number!r} has no digits to search for", error_id="number_invalid", number=number)
    return digits


@dataclass(frozen=True)
class CallSearch:
    """The filters the store does not apply: kept calls are read in batches, newest first, until a page is full,
    the calls are older than `since`, or `MAX_SCAN` records were read."""

    since: float | None = None
    until: float | None = None
    digits: str | None = None
    has_recording: bool | None = None

    def keeps(self, record: Record) -> bool:
        if self.has_recording is not None and (record.get("recording_path") is not None) != self.has_recording:
            return False
        if self.digits is None:
            return True
        numbers = (record.get("caller"), record.get("called"))
        return any(n and "".join(c for c in n if c.isdigit()).endswith(self.digits) for n in numbers)

    async def page(
        self, scope: Scope, limit: int, cursor: tuple[float | None, str | None], **filters: str | None
    ) -> tuple[list[Record], Record | None]:
        """Up to `limit` kept calls and the record to read on from (None: there are no more)."""
        batch_size = limit if self.digits is None and self.has_recording is None else max(limit, SCAN_BATCH)
        kept: list[Record] = []
        scanned = 0
        while True:
            batch = await scope.center.store.list_calls(
                scope.sid, limit=batch_size, before=cursor[0], before_sid=cursor[1], **filters
            )
            for record in batch:
                if self.since is not None and record["started_at"] < self.since:
                    return kept, None
                scanned += 1
                cursor = (record["started_at"], record["sid"])
                if self.keeps(record):
                    kept.append(record)
                    if len(kept) == limit:
                        return kept, record
            if len(batch) < batch_size:
                return kept, None
            if scanned >= MAX_SCAN:
                return kept, batch[-1]


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
    `before_sid` (both null on the last page). With `number` or `has_recording` a page may hold fewer than
    `limit` calls (each request reads a bounded number of records): read on while `next_before` is not null."""
    started_before = parse_date(before, "before")
    meta: dict[str, Any] = {"limit": limit, "before": started_before, "before_sid": before_sid}
    if scope.principal.is_agent:
        own = scope.principal.worker_sid
        if own is None or worker_sid not in (None, own):
            return {"items": [], "meta": {**meta, "next_before": None, "next_before_sid": None}}
        worker_sid = own
    search = CallSearch(
        since=parse_date(start_date, "start_date"),
        until=parse_date(end_date, "end_date"),
        digits=_digits(number) if number is not None else None,
        has_recording=has_recording,
    )
    cursor = (started_before, before_sid if started_before is not None else None)
    if search.until is not None and (cursor[0] is None or search.until <= cursor[0]):
        cursor = (search.until, None)
    records, last = await search.page(scope, limit, cursor, queue_sid=queue_sid, worker_sid=worker_sid, outcome=outcome)
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
