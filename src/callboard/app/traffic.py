"""The demo's traffic generator: customers arrive, simulated agents answer, talk, wrap up and go again.

It drives the center only through `Center.run`, the same path the API takes, so everything it does
shows in the API, the event stream and the statistics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from callboard.app.center import Center
from callboard.bus.memory import Subscription
from callboard.core import events as ev
from callboard.core.errors import CallboardError
from callboard.routing.workspace import Workspace

log = logging.getLogger(__name__)

DEPARTMENTS = ("sales", "support", "billing")
LANGUAGES = ("en", "es", "ru")
SITES = ("madrid", "denver")


@dataclass
class TrafficProfile:
    """Rates and durations, in seconds; the defaults keep a dozen agents busy but not swamped."""

    mean_interarrival: float = 4.0
    accept_delay: tuple[float, float] = (1.0, 4.0)
    talk_time: tuple[float, float] = (15.0, 60.0)
    patience: tuple[float, float] = (40.0, 240.0)
    miss_probability: float = 0.05
    vip_probability: float = 0.1
    chat_probability: float = 0.2


class Traffic:
    """Generates tasks for one workspace and plays its agents."""

    def __init__(
        self, center: Center, workspace: str, *, seed: int | None = None, profile: TrafficProfile | None = None
    ):
        self.center = center
        self.ws = center.workspace(workspace)
        self.rng = random.Random(seed)
        self.profile = profile or TrafficProfile()
        self.created = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, *, limit: int | None = None) -> None:
        """Log every agent in, then generate arrivals until cancelled (or `limit` tasks were created)."""
        await self.center.run(self.ws.sid, self._log_in_everyone)
        sub = self.center.bus.subscribe(lambda e: e.workspace_sid == self.ws.sid and e.name == ev.RESERVATION_CREATED)
        agents = asyncio.create_task(self._agents(sub), name="demo-agents")
        try:
            while limit is None or self.created < limit:
                await self._arrive()
                await asyncio.sleep(self.rng.expovariate(1.0 / self.profile.mean_interarrival))
            await asyncio.Event().wait()
        finally:
            agents.cancel()
            sub.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(agents, *self._tasks, return_exceptions=True)

    def _log_in_everyone(self, ws: Workspace) -> None:
        available = next((a for a in ws.activities.values() if a.available), None)
        if available is None:
            return
        for worker in ws.workers.values():
            ws.update_worker(worker.sid, activity_sid=available.sid)

    async def _arrive(self) -> None:
        workflow = next(iter(self.ws.workflows.values()), None)
        if workflow is None:
            return
        profile = self.profile
        attributes = {
            "department": self.rng.choice(DEPARTMENTS),
            "language": self.rng.choice(LANGUAGES),
            "site": self.rng.choice(SITES),
            "vip": self.rng.random() < profile.vip_probability,
            "caller": f"+3491{self.rng.randrange(10**6, 10**7)}",
        }
        channel = "chat" if self.rng.random() < profile.chat_probability and "chat" in self.ws.channels else "voice"
        task = await self.center.run(
            self.ws.sid, lambda ws: ws.create_task(workflow.sid, attributes=attributes, channel=channel)
        )
        self.created += 1
        self._spawn(self._abandon_later(task.sid, self.rng.uniform(*profile.patience)))

    async def _abandon_later(self, task_sid: str, patience: float) -> None:
        await asyncio.sleep(patience)
        task = self.ws.tasks.get(task_sid)
        if task is not None and task.is_waiting:
            with contextlib.suppress(CallboardError):
                await self.center.run(self.ws.sid, lambda ws: ws.cancel_task(task_sid, "caller hung up"))

    async def _agents(self, sub: Subscription) -> None:
        async for event in sub:
            self._spawn(self._answer(event.resource_sid))

    async def _answer(self, reservation_sid: str) -> None:
        res = self.ws.reservations.get(reservation_sid)
        task = self.ws.tasks.get(res.task_sid) if res is not None else None
        if task is None or "call_sid" in task.attributes:
            return  # a real call: the agent's phone rings, no simulated agent takes it
        profile = self.profile
        if self.rng.random() < profile.miss_probability:
            return  # the agent lets it ring: the reservation times out and the engine moves on
        await asyncio.sleep(self.rng.uniform(*profile.accept_delay))
        try:
            await self.center.run(self.ws.sid, lambda ws: ws.accept_reservation(reservation_sid))
            await asyncio.sleep(self.rng.uniform(*profile.talk_time))
            await self.center.run(self.ws.sid, lambda ws: ws.wrapup_reservation(reservation_sid))
            res = self.ws.reservations.get(reservation_sid)
            if res is not None and res.wrapup_deadline is None:
                await self.center.run(self.ws.sid, lambda ws: ws.complete_reservation(reservation_sid))
            await self._back_to_ready(reservation_sid)
        except CallboardError:
            pass  # the caller hung up or the offer moved on meanwhile

    async def _back_to_ready(self, reservation_sid: str) -> None:
        """Agents who timed out earlier come back after a short pause, like real ones."""
        await asyncio.sleep(1.0)
        await self.center.run(self.ws.sid, self._log_in_missed)

    def _log_in_missed(self, ws: Workspace) -> None:
        available = next((a for a in ws.activities.values() if a.available), None)
        if available is None or ws.timeout_activity_sid is None:
            return
        for worker in ws.workers.values():
            if worker.activity_sid == ws.timeout_activity_sid:
                ws.update_worker(worker.sid, activity_sid=available.sid)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
