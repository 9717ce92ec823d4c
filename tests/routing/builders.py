"""A small contact center for routing tests: four activities, voice and chat, named queues, one workflow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callboard.core.clock import VirtualClock
from callboard.core.events import Event
from callboard.routing.model import Reservation, ReservationStatus, Task, TaskQueue, Worker
from callboard.routing.workflow import Workflow
from callboard.routing.workspace import Workspace

ACTIVITIES = {"Offline": False, "Available": True, "Break": False, "Missed": False}


def workflow_config(
    targets: list[dict[str, Any]] | None = None,
    *,
    default: str | None = None,
    expression: str = "1==1",
) -> dict[str, Any]:
    """A TaskRouter `configuration` with one filter over `targets` (queue names) and a default filter."""
    routing: dict[str, Any] = {"filters": []}
    if targets:
        routing["filters"].append({"filter_friendly_name": "main", "expression": expression, "targets": targets})
    if default is not None:
        routing["default_filter"] = {"queue": default}
    return {"task_routing": routing}


@dataclass
class Center:
    """A workspace on a virtual clock with short helpers for the things tests do over and over."""

    clock: VirtualClock
    ws: Workspace
    activities: dict[str, str]
    queues: dict[str, TaskQueue]
    workflow: Workflow
    start: float

    # Building

    def add_worker(
        self, name: str, *, activity: str = "Available", voice: int = 1, chat: int = 3, **attributes: Any
    ) -> Worker:
        return self.ws.add_worker(
            name,
            attributes=attributes,
            activity_sid=self.activities[activity],
            capacities={"voice": voice, "chat": chat},
        )

    def create_task(
        self, *, channel: str = "voice", priority: int = 0, timeout: float = 86_400.0, **attributes: Any
    ) -> Task:
        return self.ws.create_task(
            self.workflow.sid, attributes=attributes, channel=channel, priority=priority, timeout=timeout
        )

    # Time and events

    def advance(self, seconds: float) -> int:
        """Move the clock and fire what came due."""
        self.clock.advance(seconds)
        return self.ws.tick()

    def advance_to(self, seconds_since_start: float) -> int:
        self.clock.set(self.start + seconds_since_start)
        return self.ws.tick()

    def events(self) -> list[Event]:
        return self.ws.drain_events()

    def event_names(self) -> list[str]:
        return [e.name for e in self.ws.drain_events()]

    # Looking

    def set_activity(self, worker: Worker, name: str) -> None:
        self.ws.update_worker(worker.sid, activity_sid=self.activities[name])

    def activity_of(self, worker: Worker) -> str:
        return self.ws.activities[worker.activity_sid].friendly_name

    def reservations(self, worker: Worker, status: ReservationStatus | None = None) -> list[Reservation]:
        found = [self.ws.reservations[sid] for sid in worker.reservations]
        found = [r for r in found if status is None or r.status is status]
        return sorted(found, key=lambda r: (r.date_created, self.ws.tasks[r.task_sid].seq))

    def offers(self, worker: Worker) -> list[Reservation]:
        return self.reservations(worker, ReservationStatus.PENDING)

    def offer(self, worker: Worker) -> Reservation:
        """The one pending reservation the worker has."""
        offers = self.offers(worker)
        assert len(offers) == 1, f"{worker.friendly_name} has {len(offers)} offers"
        return offers[0]

    def offered_tasks(self, worker: Worker) -> list[str]:
        return [r.task_sid for r in self.offers(worker)]

    def assign(self, worker: Worker) -> Reservation:
        """Accept the worker's one offer."""
        return self.ws.accept_reservation(self.offer(worker).sid)

    def queue_of(self, task: Task) -> str:
        assert task.queue_sid is not None
        return self.ws.queues[task.queue_sid].friendly_name


def build(
    queues: dict[str, str | dict[str, Any]] | None = None,
    *,
    targets: list[dict[str, Any]] | None = None,
    default: str | None = "",
    configuration: Any = None,
    reservation_timeout: float = 120.0,
    wrapup_seconds: float = 0.0,
    seed: int = 0,
) -> Center:
    """A center with activities Offline/Available/Break/Missed, channels voice(1)/chat(3), and a workflow.

    `queues` maps a queue name to its `target_workers` or to `add_queue` keyword arguments (default: one
    queue "support" for everyone). `targets` are workflow targets naming queues by name; `default` is the
    default filter's queue (by default the first queue; None for no default filter). `configuration`
    replaces the whole workflow configuration.
    """
    clock = VirtualClock()
    ws = Workspace(clock, wrapup_seconds=wrapup_seconds, seed=seed)
    activities = {name: ws.add_activity(name, available).sid for name, available in ACTIVITIES.items()}
    ws.configure(timeout_activity_sid=activities["Missed"])
    ws.add_channel("voice", capacity=1)
    ws.add_channel("chat", capacity=3)
    made: dict[str, TaskQueue] = {}
    for name, spec in (queues or {"support": "1==1"}).items():
        options = {"target_workers": spec} if isinstance(spec, str) else dict(spec)
        made[name] = ws.add_queue(name, **options)
    if configuration is None:
        if default == "":
            default = next(iter(made))
        configuration = workflow_config(targets, default=default)
    workflow = ws.add_workflow("main", configuration, task_reservation_timeout=reservation_timeout)
    ws.drain_events()
    return Center(clock, ws, activities, made, workflow, clock.now())


def names(events: list[Event]) -> list[str]:
    return [e.name for e in events]


def of(events: list[Event], name: str) -> list[Event]:
    return [e for e in events if e.name == name]
