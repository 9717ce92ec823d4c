"""Statistics in TaskRouter's shape: `realtime` from the engine, `cumulative` derived from the event log.

The cumulative window is `?start_date=&end_date=` (epoch seconds or ISO 8601, the end excluded), or
`?minutes=N` back from `end_date` or now; by default it runs from midnight UTC today to now.
`?split_by_wait_time=20,60` adds counts of tasks accepted and canceled below and above each wait. Events
from up to `HISTORY` seconds before the window are read too, so handle times and occupancy see
reservations and activities that began earlier. The wallboard reads every worker's figures
(`/workers/statistics`) and the window cut into intervals (`/statistics/intervals`) with one read each.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from callboard.api.access import Member, Scope, StaffScope
from callboard.api.params import PageDep, csv, parse_date
from callboard.api.urls import WORKSPACE
from callboard.core.errors import ValidationError
from callboard.core.events import Event
from callboard.routing import stats

router = APIRouter(prefix=f"{WORKSPACE}", tags=["statistics"])

HISTORY = 86_400.0
_BATCH = 5_000


@dataclass(frozen=True)
class Window:
    start: float | None
    end: float | None
    minutes: int | None
    splits: tuple[float, ...]

    def bounds(self, now: float) -> tuple[float, float]:
        end = self.end if self.end is not None else now
        if self.minutes is not None:
            return end - 60 * self.minutes, end
        if self.start is not None:
            return self.start, end
        midnight = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight.timestamp(), end


def period_params(
    minutes: Annotated[int | None, Query(ge=1, le=525_600, description="Window: this many minutes back")] = None,
    start_date: Annotated[str | None, Query(description="Window start: epoch seconds or ISO 8601")] = None,
    end_date: Annotated[str | None, Query(description="Window end: epoch seconds or ISO 8601")] = None,
) -> Window:
    window = Window(parse_date(start_date, "start_date"), parse_date(end_date, "end_date"), minutes, ())
    if window.start is not None and window.end is not None and window.start >= window.end:
        raise ValidationError("start_date must be before end_date", error_id="invalid_window")
    return window


PeriodDep = Annotated[Window, Depends(period_params)]


def window_params(
    period: PeriodDep,
    split_by_wait_time: Annotated[str | None, Query(description="Comma-separated waits in seconds")] = None,
) -> Window:
    try:
        splits = tuple(sorted(float(s) for s in csv(split_by_wait_time) or ()))
    except ValueError:
        raise ValidationError(
            "split_by_wait_time must be comma-separated numbers", error_id="invalid_split", field="split_by_wait_time"
        ) from None
    return replace(period, splits=splits)


WindowDep = Annotated[Window, Depends(window_params)]


@dataclass(frozen=True)
class Log:
    """The events a cumulative window needs, read once per request."""

    events: list[Event]
    start: float
    end: float
    splits: tuple[float, ...]

    def cumulative(self, threshold: float, **only: str) -> dict[str, Any]:
        return stats.cumulative(
            self.events, start=self.start, end=self.end, threshold=threshold, split_by_wait_time=self.splits, **only
        )

    def per_worker(self, worker_sids: list[str]) -> dict[str, dict[str, Any]]:
        return stats.worker_cumulative(self.events, start=self.start, end=self.end, worker_sids=worker_sids)


async def read_log(scope: Scope, window: Window) -> Log:
    """Every logged event of the workspace from HISTORY before the window to its end, read in batches."""
    start, end = window.bounds(scope.center.clock.now())
    found: list[Event] = []
    after_id: int | None = None
    while True:
        batch = await scope.center.store.events(
            scope.sid, start=start - HISTORY, end=end, after_id=after_id, limit=_BATCH
        )
        found.extend(event for _, event in batch)
        if len(batch) < _BATCH:
            return Log(found, start, end, window.splits)
        after_id = batch[-1][0]


@router.get("/statistics")
async def workspace_statistics(scope: StaffScope, window: WindowDep) -> dict[str, Any]:
    log = await read_log(scope, window)
    return {
        "workspace_sid": scope.sid,
        "realtime": stats.realtime_workspace(scope.engine),
        "cumulative": log.cumulative(scope.engine.service_level_threshold),
    }


MIN_INTERVAL = 60
MAX_INTERVAL = 86_400
MAX_INTERVALS = 1_000


@router.get("/statistics/intervals")
async def interval_statistics(
    scope: StaffScope,
    window: PeriodDep,
    interval: Annotated[int, Query(description="Seconds per interval, 60 to 86400")] = 1800,
    task_queue_sid: Annotated[str | None, Query(description="Only the tasks of this queue")] = None,
) -> dict[str, Any]:
    """The window cut into intervals from its start: tasks entered, accepted and abandoned, and service level."""
    if not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        raise ValidationError(
            f"interval must be {MIN_INTERVAL} to {MAX_INTERVAL} seconds",
            error_id="invalid_interval",
            field="interval",
            minimum=MIN_INTERVAL,
            maximum=MAX_INTERVAL,
        )
    start, end = window.bounds(scope.center.clock.now())
    if (end - start) / interval > MAX_INTERVALS:
        raise ValidationError(
            f"the window holds more than {MAX_INTERVALS} intervals of {interval} s",
            error_id="invalid_interval",
            field="interval",
            maximum_intervals=MAX_INTERVALS,
        )
    threshold = scope.engine.service_level_threshold
    if task_queue_sid is not None:
        queue = scope.engine.queue(task_queue_sid)
        task_queue_sid = queue.sid
        if queue.service_level_threshold is not None:
            threshold = queue.service_level_threshold
    log = await read_log(scope, window)
    return {
        "workspace_sid": scope.sid,
        "task_queue_sid": task_queue_sid,
        "start_time": log.start,
        "end_time": log.end,
        "interval": interval,
        "items": stats.intervals(
            log.events, start=log.start, end=log.end, interval=interval, threshold=threshold, queue_sid=task_queue_sid
        ),
    }


def _queue_statistics(scope: Scope, log: Log, sid: str) -> dict[str, Any]:
    queue = scope.engine.queue(sid)
    threshold = queue.service_level_threshold
    return {
        "workspace_sid": scope.sid,
        "task_queue_sid": queue.sid,
        "friendly_name": queue.friendly_name,
        "realtime": stats.realtime_queue(scope.engine, queue.sid),
        "cumulative": log.cumulative(
            threshold if threshold is not None else scope.engine.service_level_threshold, queue_sid=queue.sid
        ),
    }


@router.get("/task-queues/statistics")
async def all_queue_statistics(scope: StaffScope, window: WindowDep, page: PageDep) -> dict[str, Any]:
    """Every queue's statistics, a page of queues at a time."""
    sids = list(scope.engine.queues)
    log = await read_log(scope, window)
    chosen = sids[page.offset : page.offset + page.page_size]
    return page.body([_queue_statistics(scope, log, sid) for sid in chosen], len(sids))


@router.get("/task-queues/{sid}/statistics")
async def queue_statistics(sid: str, scope: StaffScope, window: WindowDep) -> dict[str, Any]:
    scope.engine.queue(sid)
    return _queue_statistics(scope, await read_log(scope, window), sid)


@router.get("/workflows/{sid}/statistics")
async def workflow_statistics(sid: str, scope: StaffScope, window: WindowDep) -> dict[str, Any]:
    realtime = stats.realtime_workflow(scope.engine, sid)
    log = await read_log(scope, window)
    return {
        "workspace_sid": scope.sid,
        "workflow_sid": sid,
        "realtime": realtime,
        "cumulative": log.cumulative(scope.engine.service_level_threshold, workflow_sid=sid),
    }


@router.get("/workers/{sid}/statistics")
async def worker_statistics(sid: str, scope: Member, window: WindowDep) -> dict[str, Any]:
    """A worker's statistics; an agent may read its own."""
    scope.require_worker(sid)
    realtime = stats.realtime_worker(scope.engine, sid)
    return {
        "workspace_sid": scope.sid,
        "worker_sid": sid,
        "realtime": realtime,
        "cumulative": (await read_log(scope, window)).cumulative(scope.engine.service_level_threshold, worker_sid=sid),
    }


@router.get("/workers/statistics")
async def all_worker_statistics(scope: StaffScope, window: PeriodDep, page: PageDep) -> dict[str, Any]:
    """Every worker's statistics, a page of workers at a time, with one read of the log for the page."""
    log = await read_log(scope, window)
    sids = list(scope.engine.workers)
    chosen = sids[page.offset : page.offset + page.page_size]
    figures = log.per_worker(chosen)
    items = [
        {
            "workspace_sid": scope.sid,
            "worker_sid": sid,
            "friendly_name": scope.engine.workers[sid].friendly_name,
            "realtime": stats.realtime_worker(scope.engine, sid),
            "cumulative": figures[sid],
        }
        for sid in chosen
    ]
    return page.body(items, len(sids))
