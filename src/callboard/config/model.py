"""The center model: what one center file describes, as plain immutable values.

Collections are tuples in file order; names are the keys that `plan` matches on. Free-form data
(worker attributes, strategy options, workflow configurations) stays as JSON-compatible dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from callboard.routing.model import Strategy, TaskOrder

# The routing engine's own names, so the file and the engine cannot drift apart.
STRATEGIES = tuple(strategy.value for strategy in Strategy)
ORDERS = tuple(order.value for order in TaskOrder)
ROLES = ("admin", "supervisor", "agent")


@dataclass(frozen=True)
class Activity:
    """An agent state; workers in an `available` activity can be offered tasks."""

    name: str
    available: bool = False


@dataclass(frozen=True)
class Channel:
    """A task channel (voice, chat, email...) and the capacity each worker gets on it by default."""

    name: str
    capacity: int = 1


@dataclass(frozen=True)
class Queue:
    """A task queue: which workers it targets, and how it orders and offers its tasks."""

    name: str
    target_workers: str = "1==1"
    strategy: str = "longest_idle"
    strategy_options: dict[str, Any] = field(default_factory=dict)
    order: str = "fifo"
    max_reserved_workers: int = 1
    reservation_activity: str | None = None
    assignment_activity: str | None = None
    wrapup_seconds: int | None = None  # None: the workspace's wrapup_seconds
    post_work_activity: str | None = None  # None: leave the worker's activity as it is
    service_level_threshold: int | None = None  # None: the workspace's threshold


@dataclass(frozen=True)
class Workflow:
    """A workflow: TaskRouter's configuration (filters and targets) and the reservation timeout."""

    name: str
    configuration: dict[str, Any]
    task_reservation_timeout: int = 120


@dataclass(frozen=True)
class Worker:
    """An agent: attributes for routing, and a capacity on every channel of the workspace."""

    name: str
    activity: str | None = None  # None: the workspace's default_activity when created, left alone after
    attributes: dict[str, Any] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)  # every channel, omitted ones at their default


@dataclass(frozen=True)
class Workspace:
    """A tenant with its own activities, channels, queues, workflows and workers."""

    name: str
    default_activity: str
    timeout_activity: str
    service_level_threshold: int = 20
    wrapup_seconds: int = 0
    activities: tuple[Activity, ...] = ()
    channels: tuple[Channel, ...] = ()
    queues: tuple[Queue, ...] = ()
    workflows: tuple[Workflow, ...] = ()
    workers: tuple[Worker, ...] = ()


@dataclass(frozen=True)
class SipCredentials:
    """What a SIP phone's digest login (RFC 7616) is checked against: H(username:realm:password) per algorithm."""

    realm: str
    ha1_md5: str
    ha1_sha256: str


@dataclass(frozen=True)
class User:
    """A login: its role, and for agents the workspace and worker they are.

    `sip_credentials` go with `password_hash` (an export writes both); with a clear `password` they are
    derived from it when applied.
    """

    username: str
    role: str
    password: str | None = None  # exactly one of password / password_hash is set
    password_hash: str | None = None
    workspace: str | None = None
    worker: str | None = None
    sip_credentials: SipCredentials | None = None


@dataclass(frozen=True)
class Center:
    """Everything one center file describes."""

    version: int = 1
    workspaces: tuple[Workspace, ...] = ()
    users: tuple[User, ...] = ()

    def workspace(self, name: str) -> Workspace | None:
        return next((w for w in self.workspaces if w.name == name), None)
