"""The center model: what one center file describes, as plain immutable values.

Collections are tuples in file order; names are the keys that `plan` matches on. Free-form data
(worker attributes, strategy options, workflow configurations) stays as JSON-compatible dicts, and so do
flows, schedules and numbers: `flows/` builds them, and the store keeps them as the file writes them.
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
class Announcement:
    """A prompt played to waiting callers every `every` seconds."""

    prompt: str
    every: int = 60


@dataclass(frozen=True)
class Callback:
    """The offer to be called back instead of waiting, keeping one's place in line."""

    key: str = "1"  # the DTMF key that takes the offer
    after: int = 30  # seconds of waiting before it is offered
    confirm: bool = True  # read the number back and ask to confirm it
    workflow: str | None = None  # the workflow the callback task goes through; None: the call's own
    retries: int = 2  # further attempts when the callback is not answered
    retry_every: int = 300  # seconds between attempts


@dataclass(frozen=True)
class Waiting:
    """The caller's queue experience: music, position and wait announcements, callbacks, limits."""

    music: str | None = None  # a prompt; None: the shipped music
    announce_position: bool = True
    announce_wait: bool = True
    announce_every: int = 60  # seconds between announcements; 0: on entry only
    announcements: tuple[Announcement, ...] = ()
    callback: Callback | None = None
    max_wait: int | None = None  # seconds before the enqueue node's `timeout` exit; None: no limit
    join_when_empty: bool = True  # False: refused (exit no_agents) when no agent is staffed
    leave_when_empty: bool = False  # True: waiting callers leave (exit no_agents) when the last agent logs off


@dataclass(frozen=True)
class Queue:
    """A task queue: which workers it targets, how it orders and offers its tasks, what its callers hear."""

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
    waiting: Waiting | None = None  # None: the default experience (no `waiting:` block)


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
class Prompt:
    """A prompt of the workspace's library: per language, a recording, or a text said by text-to-speech."""

    name: str
    text: dict[str, str] = field(default_factory=dict)
    voice: dict[str, str] = field(default_factory=dict)  # espeak-ng voice per language
    # Recordings per language (8 kHz mono WAV), converted from `file` or given inline as the export writes them.
    audio: dict[str, bytes] = field(default_factory=dict)
    # Where a recording was read from, relative to the center file; only the audio counts as the prompt.
    file: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Schedule:
    """Business hours in the `flows.schedule` format, kept as written."""

    name: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Number:
    """A number the center answers, in the `flows.numbers` format, its `number` in E.164."""

    number: str
    body: dict[str, Any]

    @property
    def name(self) -> str:
        return self.number


@dataclass(frozen=True)
class ContactFlow:
    """A contact flow (IVR) in the `flows.build` format, kept as written; applying publishes a version."""

    name: str
    definition: dict[str, Any]


@dataclass(frozen=True)
class Contact:
    """A CRM contact: found by the numbers (E.164) a caller calls from."""

    name: str
    numbers: tuple[str, ...] = ()
    vip: bool = False
    manager: str | None = None  # a worker of the workspace
    language: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Disposition:
    """A wrap-up code an agent picks for a finished interaction; `labels` translate `label` per language."""

    code: str
    label: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Workspace:
    """A tenant with its own activities, channels, queues, workflows and workers, and its IVR."""

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
    prompts: tuple[Prompt, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    numbers: tuple[Number, ...] = ()
    flows: tuple[ContactFlow, ...] = ()
    contacts: tuple[Contact, ...] | None = None  # None: no `contacts:` key, the stored ones are left alone
    dispositions: tuple[Disposition, ...] | None = None  # None: no `dispositions:` key, the stored ones stay


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
