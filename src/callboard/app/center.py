"""The running center: one routing engine per workspace, kept in step with the store and the event bus.

Every change goes through `run()`: the operation runs on the engine, then what it changed and the events
it emitted are committed to the store in one transaction and published on the bus, under the workspace's
lock so commits land in the order the engine made them. A timer task fires the engines' deadlines.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from callboard.bus.memory import EventBus
from callboard.core import events as ev
from callboard.core import ids
from callboard.core.clock import Clock
from callboard.core.errors import ConflictError, NotFoundError
from callboard.core.events import Event
from callboard.routing.records import record_of, restore_workspace, workspace_record
from callboard.routing.workspace import Workspace
from callboard.storage.store import Store

log = logging.getLogger(__name__)

T = TypeVar("T")

# How far back a restarted engine reads completed reservations to relearn its handle times: the moving average
# weighs about the last hundred of a queue, which a day holds for any queue that matters to a wait estimate.
HANDLE_TIME_WINDOW = 24 * 3600.0
HANDLE_TIME_EVENTS = 100_000


@dataclass
class _Batch:
    """The writes of one engine operation, and the future its caller waits on until they are committed."""

    upserts: list[Any]
    deletes: list[Any]
    events: list[Event]
    done: asyncio.Future[None]


class Center:
    """Engines, store and bus for every workspace of one Callboard process."""

    def __init__(self, store: Store, clock: Clock, bus: EventBus | None = None) -> None:
        self.store = store
        self.clock = clock
        self.bus = bus or EventBus()
        self._engines: dict[str, Workspace] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._wake = asyncio.Event()
        self._timer_task: asyncio.Task[None] | None = None
        self._saved: dict[str, dict[str, Any]] = {}
        self._pending: dict[str, list[_Batch]] = {}
        self._writers: dict[str, asyncio.Task[None]] = {}

    @classmethod
    async def start(cls, store: Store, clock: Clock, bus: EventBus | None = None, *, timers: bool = True) -> Center:
        center = cls(store, clock, bus)
        for record in await store.load_workspaces():
            live = await store.load_live(record["sid"])
            engine = restore_workspace(clock, record, live)
            await _relearn_handle_times(store, engine, clock.now())
            center._saved[engine.sid] = record
            center._engines[engine.sid] = engine
            center._locks[engine.sid] = asyncio.Lock()
            await center._commit(engine)  # the restore may have fired offers
        # The restored engines are long-lived: keep the collector from walking them on every full collection.
        gc.freeze()
        if timers:
            center._timer_task = asyncio.create_task(center._run_timers(), name="callboard-timers")
        return center

    async def stop(self) -> None:
        await asyncio.gather(*self._writers.values(), return_exceptions=True)
        if self._timer_task is not None:
            self._timer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer_task
            self._timer_task = None

    # Workspaces

    def workspaces(self) -> dict[str, Workspace]:
        return self._engines

    def workspace(self, sid: str) -> Workspace:
        engine = self._engines.get(sid)
        if engine is None:
            engine = next((w for w in self._engines.values() if w.friendly_name == sid), None)
        if engine is None:
            raise NotFoundError(f"no workspace {sid}", error_id="workspace_not_found", sid=sid)
        return engine

    async def create_workspace(self, friendly_name: str, **settings: Any) -> Workspace:
        if any(w.friendly_name == friendly_name for w in self._engines.values()):
            raise ConflictError(f"workspace {friendly_name!r} exists", error_id="workspace_exists")
        engine = Workspace(self.clock, sid=settings.pop("sid", None) or ids.new_sid(ids.WORKSPACE))
        engine.friendly_name = friendly_name
        for key in ("service_level_threshold", "wrapup_seconds"):
            if settings.get(key) is not None:
                setattr(engine, key, settings[key])
        self._engines[engine.sid] = engine
        self._locks[engine.sid] = asyncio.Lock()
        await self._save_settings(engine)
        return engine

    async def update_workspace(self, sid: str, **settings: Any) -> Workspace:
        engine = self.workspace(sid)
        name = settings.get("friendly_name")
        if name is not None and any(w.friendly_name == name and w is not engine for w in self._engines.values()):
            raise ConflictError(f"workspace {name!r} exists", error_id="workspace_exists")
        async with self._locks[engine.sid]:
            engine.configure(**{k: v for k, v in settings.items() if v is not None})
            await self._commit(engine)
        return engine

    async def delete_workspace(self, sid: str) -> None:
        engine = self.workspace(sid)
        async with self._locks[engine.sid]:
            writer = self._writers.get(engine.sid)
            if writer is not None:  # what it did before goes to the store first, then goes with it
                await asyncio.gather(writer, return_exceptions=True)
            await self.store.delete_workspace(engine.sid)
            # Its supervisors and agents go with it: left behind, they would belong to nothing.
            for user in await self.store.list_users():
                if user.get("workspace_sid") == engine.sid:
                    await self.store.delete_user(user["id"])
            del self._engines[engine.sid]
        del self._locks[engine.sid]
        self._saved.pop(engine.sid, None)

    # Changes

    async def run(self, workspace_sid: str, op: Callable[[Workspace], T]) -> T:
        """Run one engine operation and persist and publish what it did, even when it raised halfway.

        The operation runs under the workspace's lock; its writes wait outside it, so the next operation can
        run while they are committed. Writes that queue up meanwhile go to the store in one transaction
        (group commit), in the order the engine made them, and their events are published after it.
        """
        engine = self.workspace(workspace_sid)
        error: BaseException | None = None
        async with self._locks[engine.sid]:
            try:
                result = op(engine)
            except BaseException as exc:
                error = exc
            batch = self._take(engine)
        self._wake.set()
        if batch is not None:
            await batch.done
        if error is not None:
            raise error
        return result

    async def _commit(self, engine: Workspace) -> None:
        batch = self._take(engine)
        if batch is not None:
            await batch.done

    def _take(self, engine: Workspace) -> _Batch | None:
        """What the engine changed and emitted since the last take, queued for its workspace's writer."""
        touched, deleted = engine.drain_changes()
        events = engine.drain_events()
        if not touched and not deleted and not events:
            return None
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        batch = _Batch([record_of(obj) for obj in touched.values()], list(deleted), events, done)
        self._pending.setdefault(engine.sid, []).append(batch)
        if engine.sid not in self._writers:
            self._writers[engine.sid] = asyncio.create_task(self._write(engine), name=f"callboard-writer-{engine.sid}")
        return batch

    async def _write(self, engine: Workspace) -> None:
        """Commits the workspace's queued batches, all that queued up at once in one transaction."""
        try:
            while batches := self._pending.pop(engine.sid, []):
                try:
                    await self.store.commit(
                        engine.sid,
                        [record for b in batches for record in b.upserts],
                        [gone for b in batches for gone in b.deletes],
                        [event for b in batches for event in b.events],
                    )
                    await self._save_settings(engine)
                except Exception as exc:
                    for b in batches:
                        b.done.set_exception(exc)
                    continue
                for b in batches:
                    self.bus.publish(b.events)
                    b.done.set_result(None)
        finally:
            del self._writers[engine.sid]

    async def _save_settings(self, engine: Workspace) -> None:
        """Store the workspace's own settings when they changed (adding a first activity sets defaults)."""
        record = workspace_record(engine)
        if self._saved.get(engine.sid) != record:
            await self.store.save_workspace(record)
            self._saved[engine.sid] = record

    # Time

    async def tick(self) -> int:
        fired = 0
        for sid in list(self._engines):
            engine = self._engines.get(sid)
            deadline = engine.next_deadline() if engine else None
            if deadline is not None and deadline <= self.clock.now():
                fired += await self.run(sid, lambda w: w.tick())
        return fired

    def next_deadline(self) -> float | None:
        deadlines = [d for e in self._engines.values() if (d := e.next_deadline()) is not None]
        return min(deadlines, default=None)

    async def _run_timers(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("timer tick failed")
            deadline = self.next_deadline()
            delay = 1.0 if deadline is None else min(1.0, max(0.0, deadline - self.clock.now()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)


async def _relearn_handle_times(store: Store, engine: Workspace, now: float) -> None:
    """Replays the handle times of the reservations completed in the last day, oldest first, as they happened."""
    completed = await store.events(
        engine.sid,
        start=now - HANDLE_TIME_WINDOW,
        event_types=[ev.RESERVATION_COMPLETED],
        limit=HANDLE_TIME_EVENTS,
    )
    for _, event in completed:
        seconds = event.data.get("handle_seconds")
        if isinstance(seconds, int | float) and isinstance(event.data.get("channel"), str):
            engine.handle_times.record(event.data.get("queue_sid"), event.data["channel"], float(seconds))
