"""The routing model: activities, channels, workers, queues, tasks and reservations (TaskRouter's shapes)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from callboard.core.errors import InvalidStateError
from callboard.core.expressions import Expression


class TaskStatus(enum.StrEnum):
    PENDING = "pending"
    RESERVED = "reserved"
    ASSIGNED = "assigned"
    WRAPPING = "wrapping"
    COMPLETED = "completed"
    CANCELED = "canceled"


class ReservationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    TIMEOUT = "timeout"
    CANCELED = "canceled"
    RESCINDED = "rescinded"
    WRAPPING = "wrapping"
    COMPLETED = "completed"


class Strategy(enum.StrEnum):
    LONGEST_IDLE = "longest_idle"
    ROUND_ROBIN = "round_robin"
    FEWEST_TASKS = "fewest_tasks"
    LEAST_TALK_TIME = "least_talk_time"
    RING_ALL = "ring_all"
    LINEAR = "linear"
    RANDOM = "random"
    WEIGHTED_RANDOM = "weighted_random"
    BEST_SKILL_MATCH = "best_skill_match"


class TaskOrder(enum.StrEnum):
    FIFO = "fifo"
    LIFO = "lifo"


_TASK_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.PENDING: frozenset({TaskStatus.RESERVED, TaskStatus.CANCELED}),
    TaskStatus.RESERVED: frozenset({TaskStatus.PENDING, TaskStatus.ASSIGNED, TaskStatus.CANCELED}),
    TaskStatus.ASSIGNED: frozenset({TaskStatus.WRAPPING, TaskStatus.COMPLETED}),
    TaskStatus.WRAPPING: frozenset({TaskStatus.COMPLETED}),
    TaskStatus.COMPLETED: frozenset(),
    TaskStatus.CANCELED: frozenset(),
}

_RESERVATION_TRANSITIONS: dict[ReservationStatus, frozenset[ReservationStatus]] = {
    ReservationStatus.PENDING: frozenset(
        {
            ReservationStatus.ACCEPTED,
            ReservationStatus.REJECTED,
            ReservationStatus.TIMEOUT,
            ReservationStatus.CANCELED,
            ReservationStatus.RESCINDED,
        }
    ),
    ReservationStatus.ACCEPTED: frozenset({ReservationStatus.WRAPPING, ReservationStatus.COMPLETED}),
    ReservationStatus.WRAPPING: frozenset({ReservationStatus.COMPLETED}),
    ReservationStatus.REJECTED: frozenset(),
    ReservationStatus.TIMEOUT: frozenset(),
    ReservationStatus.CANCELED: frozenset(),
    ReservationStatus.RESCINDED: frozenset(),
    ReservationStatus.COMPLETED: frozenset(),
}

LIVE_RESERVATION = frozenset({ReservationStatus.PENDING, ReservationStatus.ACCEPTED, ReservationStatus.WRAPPING})
WAITING_TASK = frozenset({TaskStatus.PENDING, TaskStatus.RESERVED})


@dataclass(eq=False, slots=True)
class Activity:
    """An agent state; `available` says whether workers in it receive offers."""

    sid: str
    friendly_name: str
    available: bool
    date_created: float
    date_updated: float


@dataclass(eq=False, slots=True)
class TaskChannel:
    """A kind of work (voice, chat, email) with the capacity a worker gets on it by default."""

    sid: str
    unique_name: str
    friendly_name: str
    default_capacity: int
    date_created: float
    date_updated: float


@dataclass(eq=False, slots=True)
class WorkerChannel:
    """One worker's capacity on one channel; `used` counts pending, accepted and wrapping reservations."""

    channel: str
    capacity: int
    available: bool = True
    used: int = 0

    def has_room(self) -> bool:
        return self.available and self.used < self.capacity


@dataclass(eq=False, slots=True)
class Worker:
    """An agent: JSON attributes, an activity, capacity per channel, and the counters strategies read."""

    sid: str
    # First after the object header: the strategies that read candidates (all but longest idle, which reads
    # the idle arrays of `Membership`) read these two of each, and at full size the worker is out of the CPU
    # caches, so sharing the header's cache line saves a miss a candidate.
    last_idle: float
    seq: int
    friendly_name: str
    attributes: dict[str, Any]
    activity_sid: str
    channels: dict[str, WorkerChannel]
    date_created: float
    date_updated: float
    date_status_changed: float
    tasks_assigned: int = 0
    talk_seconds: float = 0.0
    index_entries: frozenset[Any] = frozenset()
    # The worker's place in `Membership`'s idle arrays, given when it joins the engine.
    slot: int = -1
    # Kept by the engine, not stored: the channels it has room on now (`Membership.set_ready`), and the sids
    # of its live reservations. On the worker rather than in tables keyed by sid, so that a reservation made
    # or ended reads them with the worker, not through two cold hash-table slots each.
    ready: frozenset[str] = frozenset()
    reservations: set[str] = field(default_factory=set)


@dataclass(eq=False, slots=True)
class TaskQueue:
    """Workers matching `target_workers` are its members; waiting tasks are offered to them by `strategy`."""

    sid: str
    friendly_name: str
    target_workers: Expression
    strategy: Strategy
    strategy_options: dict[str, Any]
    task_order: TaskOrder
    max_reserved_workers: int
    reservation_activity_sid: str | None
    assignment_activity_sid: str | None
    wrapup_seconds: float | None
    post_work_activity_sid: str | None
    service_level_threshold: float | None
    date_created: float
    date_updated: float
    members: set[str] = field(default_factory=set)
    round_robin_last: int = -1


@dataclass(eq=False, slots=True)
class Task:
    """One item of work: a call, a chat, an email. Its age counts from `date_created`, kept across re-queues."""

    sid: str
    workflow_sid: str
    channel: str
    attributes: dict[str, Any]
    priority: int
    timeout: float
    date_created: float
    date_updated: float
    seq: int
    status: TaskStatus = TaskStatus.PENDING
    reason: str | None = None
    queue_sid: str | None = None
    filter_index: int | None = None  # None: not yet routed; -1: the default filter
    target_index: int = 0
    date_entered_workflow: float = 0.0
    date_entered_queue: float | None = None
    target_deadline: float | None = None
    known_worker_sid: str | None = None
    target_expression: Expression | None = None
    target_order_by: tuple[tuple[str, bool], ...] = ()
    excluded_workers: set[str] = field(default_factory=set)
    reservations: set[str] = field(default_factory=set)
    worker_sid: str | None = None
    date_assigned: float | None = None
    date_wrapping: float | None = None
    date_completed: float | None = None
    transferred_from: str | None = None
    expires_at: float | None = None  # the TTL deadline when it is not date_created + timeout (a transfer)
    # Whether the TTL deadline is in the engine's timer heap. It is pushed only once it could fire first:
    # while the task's step has a deadline before it, the step deadline arms it when it comes due.
    ttl_armed: bool = False
    # The place (`Timers.reserve`) of a step deadline held back while the task's first offers ring: a task
    # offered as it is created is mostly accepted before its step ends, and then never needs one.
    held_step: int | None = None

    @property
    def is_waiting(self) -> bool:
        return self.status in WAITING_TASK

    def set_status(self, new: TaskStatus, now: float) -> TaskStatus:
        old = self.status
        if new not in _TASK_TRANSITIONS[old]:
            raise InvalidStateError(
                f"task {self.sid} is {old}; it cannot become {new}",
                error_id="task_invalid_state",
                sid=self.sid,
                status=str(old),
            )
        # No debug line: the engine's events record every transition, and five log calls a routing cycle,
        # even disabled, cost about a microsecond.
        self.status = new
        self.date_updated = now
        return old


@dataclass(eq=False, slots=True)
class Reservation:
    """An offer of one task to one worker."""

    sid: str
    task_sid: str
    worker_sid: str
    queue_sid: str | None
    channel: str
    date_created: float
    date_updated: float
    timeout_at: float
    status: ReservationStatus = ReservationStatus.PENDING
    date_accepted: float | None = None
    date_wrapping: float | None = None
    wrapup_deadline: float | None = None

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_RESERVATION

    def set_status(self, new: ReservationStatus, now: float) -> ReservationStatus:
        old = self.status
        if new not in _RESERVATION_TRANSITIONS[old]:
            raise InvalidStateError(
                f"reservation {self.sid} is {old}; it cannot become {new}",
                error_id="reservation_invalid_state",
                sid=self.sid,
                status=str(old),
            )
        self.status = new
        self.date_updated = now
        return old
