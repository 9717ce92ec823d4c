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
from typing import Any, TypeVar

from callboard.bus.memory import EventBus
from callboard.core import ids
from callboard.core.clock import Clock
from callboard.core.errors import ConflictError, NotFoundError
from callboard.routing.records import record_of, restore_workspace, workspace_record
from callboard.routing.workspace import Workspace
from callboard.storage.store import Store

log = logging.getLogger(__name__)

T = TypeVar("T")


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

    @classmethod
    async def start(cls, store: Store, clock: Clock, bus: EventBus | None = None, *, timers: bool = True) -> Center:
        center = cls(store, clock, bus)
        for record in await store.load_workspaces():
            live = await store.load_live(record["sid"])
            engine = restore_workspace(clock, record, live)
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
        """Run one engine operation and persist and publish what it did, even when it raised halfway."""
        engine = self.workspace(workspace_sid)
        async with self._locks[engine.sid]:
            try:
                return op(engine)
            finally:
                await self._commit(engine)
                self._wake.set()

    async def _commit(self, engine: Workspace) -> None:
        touched, deleted = engine.drain_changes()
        events = engine.drain_events()
        if not touched and not deleted and not events:
            return
        upserts = [record_of(obj) for obj in touched.values()]
        await self.store.commit(engine.sid, upserts, deleted, events)
        await self._save_settings(engine)
        self.bus.publish(events)

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
