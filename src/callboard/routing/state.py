"""The resources of one workspace (activities, channels, workers, queues, workflows) and their indexes."""

from __future__ import annotations

import itertools
import logging
import random
from typing import Any

from sortedcontainers import SortedList

from callboard.core import events as ev
from callboard.core import ids
from callboard.core.clock import Clock
from callboard.core.errors import ConflictError, NotFoundError, ValidationError
from callboard.core.events import Event
from callboard.core.expressions import compile_expression
from callboard.routing.membership import Membership
from callboard.routing.model import (
    Activity,
    Reservation,
    ReservationStatus,
    Strategy,
    Task,
    TaskChannel,
    TaskOrder,
    TaskQueue,
    TaskStatus,
    Worker,
    WorkerChannel,
)
from callboard.routing.timers import Timers
from callboard.routing.workflow import Target, Workflow, WorkflowConfig, parse_workflow_configuration

log = logging.getLogger(__name__)

_NONE: frozenset[str] = frozenset()

TTL_EXCEEDED = "Task TTL Exceeded"
DEFAULT_TASK_TIMEOUT = 86_400.0
MAX_RESERVED_LIMIT = 50


class WorkspaceState:
    """A workspace's resources and their bookkeeping; `Workspace` adds tasks, offers and time."""

    def __init__(
        self,
        clock: Clock,
        *,
        sid: str | None = None,
        friendly_name: str = "default",
        service_level_threshold: float = 20.0,
        wrapup_seconds: float = 0.0,
        seed: int | None = None,
    ) -> None:
        self.clock = clock
        self.sid = sid or ids.new_sid(ids.WORKSPACE)
        self.friendly_name = friendly_name
        self.service_level_threshold = service_level_threshold
        self.wrapup_seconds = wrapup_seconds
        self.default_activity_sid: str | None = None
        self.timeout_activity_sid: str | None = None
        self.activities: dict[str, Activity] = {}
        self.channels: dict[str, TaskChannel] = {}
        self.workers: dict[str, Worker] = {}
        self.queues: dict[str, TaskQueue] = {}
        self.workflows: dict[str, Workflow] = {}
        self.tasks: dict[str, Task] = {}
        self.reservations: dict[str, Reservation] = {}
        self._worker_names: dict[str, str] = {}  # friendly_name -> sid, so adding a worker is not a scan
        self._queue_names: dict[str, str] = {}
        self.membership = Membership()
        self._waiting: dict[str, dict[str, SortedList]] = {}
        self._known_waiting: dict[str, SortedList] = {}
        self._wait_keys: dict[str, tuple[Any, ...]] = {}
        self._timers = Timers()
        self._rng = random.Random(seed)
        self._seq = itertools.count()
        self._worker_seq = itertools.count()
        self._dirty_workers: dict[str, None] = {}
        self._dirty_tasks: dict[str, None] = {}
        self._offer_first: Task | None = None  # a new task that create_task offers before listing it
        self._fresh_step: set[str] = set()
        self._expired_step: set[str] = set()
        self._events: list[Event] = []
        self.touched: dict[str, object] = {}
        self.deleted: list[tuple[str, str]] = []

    # Events and changes

    def _emit(self, name: str, resource_type: str, resource_sid: str, **data: Any) -> None:
        self._events.append(Event(name, self.sid, resource_type, resource_sid, self.clock.now(), data))

    def _emit_data(self, name: str, resource_type: str, resource_sid: str, data: dict[str, Any], now: float) -> None:
        """`_emit` with the data dict already built (`_task_data`), so it is not copied through keywords, and
        the operation's `now` (the clock does not move within one operation)."""
        self._events.append(Event(name, self.sid, resource_type, resource_sid, now, data))

    def drain_events(self) -> list[Event]:
        out, self._events = self._events, []
        return out

    def drain_changes(self) -> tuple[dict[str, object], list[tuple[str, str]]]:
        """Objects changed and (kind, sid) deleted since the last call, for the store."""
        touched, deleted = self.touched, self.deleted
        self.touched, self.deleted = {}, []
        return touched, deleted

    def _touch(self, obj: Activity | TaskChannel | Worker | TaskQueue | Workflow | Task | Reservation) -> None:
        self.touched[obj.sid] = obj

    # Lookups

    def _get(self, table: dict[str, Any], sid: str, kind: str) -> Any:
        try:
            return table[sid]
        except KeyError:
            raise NotFoundError(f"no {kind} {sid}", error_id=f"{kind.replace(' ', '_')}_not_found", sid=sid) from None

    def activity(self, sid: str) -> Activity:
        return self._get(self.activities, sid, "activity")  # type: ignore[no-any-return]

    def worker(self, sid: str) -> Worker:
        return self._get(self.workers, sid, "worker")  # type: ignore[no-any-return]

    def queue(self, sid: str) -> TaskQueue:
        return self._get(self.queues, sid, "task queue")  # type: ignore[no-any-return]

    def workflow(self, sid: str) -> Workflow:
        return self._get(self.workflows, sid, "workflow")  # type: ignore[no-any-return]

    def task(self, sid: str) -> Task:
        return self._get(self.tasks, sid, "task")  # type: ignore[no-any-return]

    def reservation(self, sid: str) -> Reservation:
        return self._get(self.reservations, sid, "reservation")  # type: ignore[no-any-return]

    def channel(self, unique_name: str) -> TaskChannel:
        return self._get(self.channels, unique_name, "task channel")  # type: ignore[no-any-return]

    def worker_by_name(self, friendly_name: str) -> Worker | None:
        sid = self._worker_names.get(friendly_name)
        return None if sid is None else self.workers[sid]

    def queue_by_name(self, name_or_sid: str) -> TaskQueue | None:
        if name_or_sid in self.queues:
            return self.queues[name_or_sid]
        sid = self._queue_names.get(name_or_sid)
        return None if sid is None else self.queues[sid]

    def _name_worker(self, worker: Worker, old_name: str | None = None) -> None:
        if old_name is not None and self._worker_names.get(old_name) == worker.sid:
            del self._worker_names[old_name]
            # Stored workers are adopted without the name check: another may hold the same name.
            other = next((w for w in self.workers.values() if w.friendly_name == old_name), None)
            if other is not None and other is not worker:
                self._worker_names[old_name] = other.sid
        if worker.sid in self.workers:
            self._worker_names.setdefault(worker.friendly_name, worker.sid)

    def is_available(self, worker: Worker) -> bool:
        return self.activities[worker.activity_sid].available

    # Activities and channels

    def add_activity(self, friendly_name: str, available: bool, *, sid: str | None = None) -> Activity:
        if any(a.friendly_name == friendly_name for a in self.activities.values()):
            raise ConflictError(f"activity {friendly_name!r} exists", error_id="activity_exists")
        now = self.clock.now()
        activity = Activity(sid or ids.new_sid(ids.ACTIVITY), friendly_name, available, now, now)
        self.activities[activity.sid] = activity
        if self.default_activity_sid is None:
            self.default_activity_sid = activity.sid
        if self.timeout_activity_sid is None and not available:
            self.timeout_activity_sid = activity.sid
        self._touch(activity)
        self._emit(ev.ACTIVITY_CREATED, "activity", activity.sid, friendly_name=friendly_name, available=available)
        return activity

    def update_activity(self, sid: str, *, friendly_name: str | None = None, available: bool | None = None) -> Activity:
        activity = self.activity(sid)
        if friendly_name is not None and friendly_name != activity.friendly_name:
            if any(a.friendly_name == friendly_name for a in self.activities.values()):
                raise ConflictError(f"activity {friendly_name!r} exists", error_id="activity_exists")
            activity.friendly_name = friendly_name
        if available is not None and available != activity.available:
            activity.available = available
            for worker in self.workers.values():
                if worker.activity_sid == sid:
                    if not available:
                        self._end_pending_offers(worker)
                    self._refresh_ready(worker)
        activity.date_updated = self.clock.now()
        self._touch(activity)
        self._emit(
            ev.ACTIVITY_UPDATED, "activity", sid, friendly_name=activity.friendly_name, available=activity.available
        )
        self._dispatch()
        return activity

    def delete_activity(self, sid: str) -> None:
        self.activity(sid)
        if sid in (self.default_activity_sid, self.timeout_activity_sid):
            raise ConflictError("the workspace's default or timeout activity cannot be deleted", error_id="in_use")
        if any(w.activity_sid == sid for w in self.workers.values()):
            raise ConflictError("workers are in this activity", error_id="in_use", sid=sid)
        used = [q.sid for q in self.queues.values() if sid in self._queue_activities(q)]
        if used:
            raise ConflictError("task queues use this activity", error_id="in_use", queues=used)
        del self.activities[sid]
        self.deleted.append(("activity", sid))
        self._emit(ev.ACTIVITY_DELETED, "activity", sid)

    @staticmethod
    def _queue_activities(queue: TaskQueue) -> set[str | None]:
        return {queue.reservation_activity_sid, queue.assignment_activity_sid, queue.post_work_activity_sid}

    def configure(
        self,
        *,
        default_activity_sid: str | None = None,
        timeout_activity_sid: str | None = None,
        service_level_threshold: float | None = None,
        wrapup_seconds: float | None = None,
        friendly_name: str | None = None,
    ) -> None:
        if default_activity_sid is not None:
            self.default_activity_sid = self.activity(default_activity_sid).sid
        if timeout_activity_sid is not None:
            self.timeout_activity_sid = self.activity(timeout_activity_sid).sid
        if service_level_threshold is not None:
            self.service_level_threshold = service_level_threshold
        if wrapup_seconds is not None:
            self.wrapup_seconds = wrapup_seconds
        if friendly_name is not None:
            self.friendly_name = friendly_name
        self._emit(ev.WORKSPACE_UPDATED, "workspace", self.sid)

    def add_channel(
        self, unique_name: str, *, friendly_name: str | None = None, capacity: int = 1, sid: str | None = None
    ) -> TaskChannel:
        if unique_name in self.channels:
            raise ConflictError(f"task channel {unique_name!r} exists", error_id="task_channel_exists")
        if capacity < 0:
            raise ValidationError("capacity must be >= 0", field="capacity")
        now = self.clock.now()
        channel = TaskChannel(
            sid or ids.new_sid(ids.TASK_CHANNEL),
            unique_name,
            friendly_name or unique_name,
            capacity,
            now,
            now,
        )
        self.channels[unique_name] = channel
        for worker in self.workers.values():
            worker.channels.setdefault(unique_name, WorkerChannel(unique_name, capacity))
            self._refresh_ready(worker)
        self._touch(channel)
        self._emit(ev.TASK_CHANNEL_CREATED, "task-channel", channel.sid, unique_name=unique_name)
        self._dispatch()
        return channel

    def update_channel(
        self, unique_name: str, *, friendly_name: str | None = None, default_capacity: int | None = None
    ) -> TaskChannel:
        """Change a channel's name or default capacity; workers keep the capacities they have."""
        channel = self.channel(unique_name)
        if default_capacity is not None:
            if default_capacity < 0:
                raise ValidationError("capacity must be >= 0", field="capacity")
            channel.default_capacity = default_capacity
        if friendly_name is not None:
            channel.friendly_name = friendly_name
        channel.date_updated = self.clock.now()
        self._touch(channel)
        self._emit(ev.TASK_CHANNEL_UPDATED, "task-channel", channel.sid, unique_name=unique_name)
        return channel

    def delete_channel(self, unique_name: str) -> None:
        channel = self.channel(unique_name)
        if any(t.channel == unique_name for t in self.tasks.values()):
            raise ConflictError("tasks use this channel", error_id="in_use", channel=unique_name)
        del self.channels[unique_name]
        for worker in self.workers.values():
            worker.channels.pop(unique_name, None)
            self._refresh_ready(worker)
        self.deleted.append(("channel", channel.sid))
        self._emit(ev.TASK_CHANNEL_DELETED, "task-channel", channel.sid, unique_name=unique_name)

    # Workers

    def add_worker(
        self,
        friendly_name: str,
        *,
        attributes: dict[str, Any] | None = None,
        activity_sid: str | None = None,
        capacities: dict[str, int] | None = None,
        sid: str | None = None,
    ) -> Worker:
        if self.worker_by_name(friendly_name) is not None:
            raise ConflictError(f"worker {friendly_name!r} exists", error_id="worker_exists")
        activity_sid = activity_sid or self.default_activity_sid
        if activity_sid is None:
            raise ValidationError("the workspace has no activities yet", error_id="no_activity")
        self.activity(activity_sid)
        now = self.clock.now()
        channels = {name: WorkerChannel(name, c.default_capacity) for name, c in self.channels.items()}
        for name, capacity in (capacities or {}).items():
            self.channel(name)
            channels[name] = WorkerChannel(name, capacity)
        worker = Worker(
            sid=sid or ids.new_sid(ids.WORKER),
            friendly_name=friendly_name,
            attributes=dict(attributes or {}),
            activity_sid=activity_sid,
            channels=channels,
            date_created=now,
            date_updated=now,
            date_status_changed=now,
            seq=next(self._worker_seq),
            last_idle=now,
        )
        self.workers[worker.sid] = worker
        self._name_worker(worker)
        self.membership.add_worker(worker)
        self._refresh_ready(worker)
        self._touch(worker)
        self._emit(ev.WORKER_CREATED, "worker", worker.sid, friendly_name=friendly_name, activity_sid=activity_sid)
        self._dispatch()
        return worker

    def update_worker(
        self,
        sid: str,
        *,
        activity_sid: str | None = None,
        attributes: dict[str, Any] | None = None,
        friendly_name: str | None = None,
    ) -> Worker:
        worker = self.worker(sid)
        if friendly_name is not None and friendly_name != worker.friendly_name:
            if self.worker_by_name(friendly_name) is not None:
                raise ConflictError(f"worker {friendly_name!r} exists", error_id="worker_exists")
            old_name, worker.friendly_name = worker.friendly_name, friendly_name
            self._name_worker(worker, old_name)
        if attributes is not None:
            worker.attributes = dict(attributes)
            self.membership.update_attributes(worker)
            self._emit(ev.WORKER_ATTRIBUTES_UPDATE, "worker", sid, attributes=worker.attributes)
            self._dirty_workers[sid] = None
        if activity_sid is not None:
            self._set_activity(worker, activity_sid)
        worker.date_updated = self.clock.now()
        self._touch(worker)
        self._dispatch()
        return worker

    def set_worker_channel(
        self, sid: str, channel: str, *, capacity: int | None = None, available: bool | None = None
    ) -> WorkerChannel:
        worker = self.worker(sid)
        self.channel(channel)
        wc = worker.channels[channel]
        if capacity is not None:
            if capacity < 0:
                raise ValidationError("capacity must be >= 0", field="capacity")
            wc.capacity = capacity
            self._emit(ev.WORKER_CAPACITY_UPDATE, "worker", sid, channel=channel, capacity=capacity)
        if available is not None:
            wc.available = available
            self._emit(ev.WORKER_CHANNEL_AVAILABILITY_UPDATE, "worker", sid, channel=channel, available=available)
        self._refresh_ready(worker)
        self._touch(worker)
        self._dispatch()
        return wc

    def delete_worker(self, sid: str) -> None:
        worker = self.worker(sid)
        if worker.reservations:
            raise ConflictError("the worker has live reservations", error_id="in_use", sid=sid)
        self.membership.remove_worker(sid)
        del self.workers[sid]
        self._name_worker(worker, worker.friendly_name)
        self.deleted.append(("worker", sid))
        self._emit(ev.WORKER_DELETED, "worker", sid, friendly_name=worker.friendly_name)

    def _set_activity(self, worker: Worker, activity_sid: str, *, end_offers: bool = True) -> None:
        new = self.activity(activity_sid)
        old = self.activities[worker.activity_sid]
        if new is old:
            return
        now = self.clock.now()
        log.debug("worker %s: %s -> %s", worker.friendly_name, old.friendly_name, new.friendly_name)
        worker.activity_sid = new.sid
        self._emit(
            ev.WORKER_ACTIVITY_UPDATE,
            "worker",
            worker.sid,
            activity_sid=new.sid,
            activity_name=new.friendly_name,
            available=new.available,
            previous_activity_sid=old.sid,
            previous_available=old.available,
            time_in_previous_activity=now - worker.date_status_changed,
        )
        worker.date_status_changed = now
        worker.date_updated = now
        if new.available and not old.available:
            worker.last_idle = now
        if end_offers and not new.available:
            self._end_pending_offers(worker)
        self._refresh_ready(worker)
        self._touch(worker)

    def _end_pending_offers(self, worker: Worker) -> None:
        """A worker who goes unavailable mid-offer loses the offer; the task goes back to its queue."""
        for res_sid in list(worker.reservations):
            res = self.reservations[res_sid]
            if res.status is ReservationStatus.PENDING:
                self._end_offer(res, ReservationStatus.CANCELED, reason="worker unavailable")

    def _refresh_ready(self, worker: Worker) -> None:
        """Tell `membership` the channels the worker has room on now; this runs on every reserve and release."""
        if self.activities[worker.activity_sid].available:
            # WorkerChannel.has_room, inlined.
            ready = frozenset([name for name, ch in worker.channels.items() if ch.available and ch.used < ch.capacity])
        else:
            ready = _NONE
        if self.membership.set_ready(worker, ready):
            self._dirty_workers[worker.sid] = None  # room on a new channel: it may take a waiting task

    # Queues and workflows

    def add_queue(
        self,
        friendly_name: str,
        *,
        target_workers: str = "1==1",
        strategy: str = "longest_idle",
        strategy_options: dict[str, Any] | None = None,
        task_order: str = "fifo",
        max_reserved_workers: int = 1,
        reservation_activity_sid: str | None = None,
        assignment_activity_sid: str | None = None,
        wrapup_seconds: float | None = None,
        post_work_activity_sid: str | None = None,
        service_level_threshold: float | None = None,
        sid: str | None = None,
    ) -> TaskQueue:
        if self.queue_by_name(friendly_name) is not None:
            raise ConflictError(f"task queue {friendly_name!r} exists", error_id="task_queue_exists")
        now = self.clock.now()
        queue = TaskQueue(
            sid=sid or ids.new_sid(ids.TASK_QUEUE),
            friendly_name=friendly_name,
            target_workers=compile_expression(target_workers, "worker"),
            strategy=Strategy.LONGEST_IDLE,
            strategy_options={},
            task_order=TaskOrder.FIFO,
            max_reserved_workers=1,
            reservation_activity_sid=None,
            assignment_activity_sid=None,
            wrapup_seconds=None,
            post_work_activity_sid=None,
            service_level_threshold=None,
            date_created=now,
            date_updated=now,
        )
        self._apply_queue_settings(
            queue,
            strategy=strategy,
            strategy_options=strategy_options or {},
            task_order=task_order,
            max_reserved_workers=max_reserved_workers,
            reservation_activity_sid=reservation_activity_sid,
            assignment_activity_sid=assignment_activity_sid,
            wrapup_seconds=wrapup_seconds,
            post_work_activity_sid=post_work_activity_sid,
            service_level_threshold=service_level_threshold,
        )
        self.queues[queue.sid] = queue
        self._queue_names[queue.friendly_name] = queue.sid
        self._waiting[queue.sid] = {}
        self.membership.add_queue(queue)
        self._touch(queue)
        self._emit(ev.TASK_QUEUE_CREATED, "task-queue", queue.sid, friendly_name=friendly_name)
        return queue

    def _apply_queue_settings(self, queue: TaskQueue, **settings: Any) -> None:
        for key in ("reservation_activity_sid", "assignment_activity_sid", "post_work_activity_sid"):
            if settings.get(key) is not None:
                self.activity(settings[key])
        try:
            queue.strategy = Strategy(settings["strategy"])
            queue.task_order = TaskOrder(settings["task_order"])
        except ValueError as exc:
            raise ValidationError(str(exc), error_id="invalid_queue_setting") from None
        if not 1 <= settings["max_reserved_workers"] <= MAX_RESERVED_LIMIT:
            raise ValidationError(f"max_reserved_workers must be 1..{MAX_RESERVED_LIMIT}", field="max_reserved_workers")
        for key, value in settings.items():
            if key not in ("strategy", "task_order"):
                setattr(queue, key, value)

    def update_queue(self, sid: str, **changes: Any) -> TaskQueue:
        queue = self.queue(sid)
        if "friendly_name" in changes and changes["friendly_name"] != queue.friendly_name:
            if self.queue_by_name(changes["friendly_name"]) is not None:
                raise ConflictError("a task queue has that name", error_id="task_queue_exists")
            del self._queue_names[queue.friendly_name]
            queue.friendly_name = changes.pop("friendly_name")
            self._queue_names[queue.friendly_name] = sid
        changes.pop("friendly_name", None)
        target = changes.pop("target_workers", None)
        current = {
            "strategy": str(queue.strategy),
            "strategy_options": queue.strategy_options,
            "task_order": str(queue.task_order),
            "max_reserved_workers": queue.max_reserved_workers,
            "reservation_activity_sid": queue.reservation_activity_sid,
            "assignment_activity_sid": queue.assignment_activity_sid,
            "wrapup_seconds": queue.wrapup_seconds,
            "post_work_activity_sid": queue.post_work_activity_sid,
            "service_level_threshold": queue.service_level_threshold,
        }
        unknown = set(changes) - set(current)
        if unknown:
            raise ValidationError(f"unknown task queue fields: {sorted(unknown)}", error_id="unknown_field")
        order_changed = "task_order" in changes and changes["task_order"] != current["task_order"]
        self._apply_queue_settings(queue, **{**current, **changes})
        if target is not None:
            expression = compile_expression(target, "worker")
            self.membership.remove_queue(sid)
            queue.target_workers = expression
            self.membership.add_queue(queue)
            self._dirty_workers.update(dict.fromkeys(queue.members))
        if order_changed:
            for task_sid in [s for s, t in self.tasks.items() if t.queue_sid == sid and t.is_waiting]:
                self._unlist(self.tasks[task_sid])
                self._list(self.tasks[task_sid])
        queue.date_updated = self.clock.now()
        self._touch(queue)
        self._emit(ev.TASK_QUEUE_UPDATED, "task-queue", sid, friendly_name=queue.friendly_name)
        self._dispatch()
        return queue

    def delete_queue(self, sid: str) -> None:
        queue = self.queue(sid)
        if any(t.queue_sid == sid for t in self.tasks.values()):
            raise ConflictError("tasks are in this queue", error_id="in_use", sid=sid)
        users = [w.sid for w in self.workflows.values() if sid in w.config.queues()]
        if users:
            raise ConflictError("workflows route to this queue", error_id="in_use", workflows=users)
        self.membership.remove_queue(sid)
        del self.queues[sid]
        del self._queue_names[queue.friendly_name]
        del self._waiting[sid]
        self.deleted.append(("queue", sid))
        self._emit(ev.TASK_QUEUE_DELETED, "task-queue", sid)

    def parse_workflow(self, configuration: Any) -> WorkflowConfig:
        config = parse_workflow_configuration(configuration, lambda q: self.queue_by_name(q) is not None)
        return self._resolve_queues(config)

    def _resolve_queues(self, config: WorkflowConfig) -> WorkflowConfig:
        def fix(t: Target) -> Target:
            queue = self.queue_by_name(t.queue)
            assert queue is not None
            return Target(
                queue.sid,
                t.expression,
                t.priority,
                t.timeout,
                t.order_by,
                t.skip_if,
                t.known_worker_sid,
                t.known_worker_friendly_name,
            )

        filters = tuple(type(f)(f.name, f.expression, tuple(fix(t) for t in f.targets)) for f in config.filters)
        default = None if config.default_filter is None else fix(config.default_filter)
        return WorkflowConfig(filters, default)

    def add_workflow(
        self,
        friendly_name: str,
        configuration: Any,
        *,
        task_reservation_timeout: float = 120.0,
        sid: str | None = None,
    ) -> Workflow:
        if any(w.friendly_name == friendly_name for w in self.workflows.values()):
            raise ConflictError(f"workflow {friendly_name!r} exists", error_id="workflow_exists")
        _check_reservation_timeout(task_reservation_timeout)
        config = self.parse_workflow(configuration)
        now = self.clock.now()
        workflow = Workflow(
            sid or ids.new_sid(ids.WORKFLOW),
            friendly_name,
            configuration,
            config,
            task_reservation_timeout,
            now,
            now,
        )
        self.workflows[workflow.sid] = workflow
        self._touch(workflow)
        self._emit(ev.WORKFLOW_CREATED, "workflow", workflow.sid, friendly_name=friendly_name)
        return workflow

    def update_workflow(
        self,
        sid: str,
        *,
        friendly_name: str | None = None,
        configuration: Any = None,
        task_reservation_timeout: float | None = None,
        re_evaluate_tasks: bool = False,
    ) -> Workflow:
        workflow = self.workflow(sid)
        if configuration is not None:
            workflow.config = self.parse_workflow(configuration)
            workflow.configuration = configuration
        if task_reservation_timeout is not None:
            _check_reservation_timeout(task_reservation_timeout)
            workflow.task_reservation_timeout = task_reservation_timeout
        if friendly_name is not None:
            workflow.friendly_name = friendly_name
        workflow.date_updated = self.clock.now()
        self._touch(workflow)
        self._emit(ev.WORKFLOW_UPDATED, "workflow", sid, friendly_name=workflow.friendly_name)
        if re_evaluate_tasks:
            for task in [t for t in self.tasks.values() if t.workflow_sid == sid and t.status is TaskStatus.PENDING]:
                self._route(task)
        self._dispatch()
        return workflow

    def delete_workflow(self, sid: str) -> None:
        self.workflow(sid)
        if any(t.workflow_sid == sid for t in self.tasks.values()):
            raise ConflictError("tasks use this workflow", error_id="in_use", sid=sid)
        del self.workflows[sid]
        self.deleted.append(("workflow", sid))
        self._emit(ev.WORKFLOW_DELETED, "workflow", sid)

    # Provided by Offers and Workspace

    def _dispatch(self) -> None:
        raise NotImplementedError

    def _end_offer(
        self, res: Reservation, status: ReservationStatus, *, reason: str | None = None, requeue: bool = True
    ) -> None:
        raise NotImplementedError

    def _route(self, task: Task) -> None:
        raise NotImplementedError

    def _list(self, task: Task) -> None:
        raise NotImplementedError

    def _unlist(self, task: Task) -> None:
        raise NotImplementedError


def _check_reservation_timeout(seconds: float) -> None:
    if not 1 <= seconds <= 86_400:
        raise ValidationError("task_reservation_timeout must be 1..86400 seconds", field="task_reservation_timeout")
