"""What a flow says and asks, and what it needs of the channel it runs on and of the world around it.

A flow never touches audio or sockets: it hands a `Message` (utterances in one language) to a
`Conversation`, which voice renders as audio (prompt files, text-to-speech, composed numbers) and chat
renders as text. Queues, voicemail, callbacks and transfers are the channel's business too; the flow
only chooses the exit by the outcome. `FlowServices` is the rest of the world (HTTP lookups, the CRM,
emergency closures), implemented in `app/`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "CallbackRequest",
    "CallerGone",
    "Conversation",
    "EnqueueRequest",
    "FlowServices",
    "HttpRequest",
    "HttpResult",
    "Message",
    "PromptRef",
    "QueueOutcome",
    "SayNumber",
    "Speech",
    "Utterance",
    "VoicemailRequest",
]


@dataclass(frozen=True, slots=True)
class PromptRef:
    """A prompt of the library by name (`welcome`, `closed`); the channel picks the language's version."""

    name: str


@dataclass(frozen=True, slots=True)
class Speech:
    """Free text: text-to-speech on voice, the text itself on chat."""

    text: str


@dataclass(frozen=True, slots=True)
class SayNumber:
    """A number said in the message's language, optionally with a unit whose form follows the number's
    grammar (`minutes`: "1 minute", "2 minutes"; Russian "1 минута", "2 минуты", "5 минут")."""

    value: int
    unit: str | None = None  # None, "minutes", "seconds", "position"


Utterance = PromptRef | Speech | SayNumber


@dataclass(frozen=True, slots=True)
class Message:
    """What to say, in order, in one language (an ISO 639-1 code: en, es, ru)."""

    parts: tuple[Utterance, ...]
    language: str

    def __bool__(self) -> bool:
        return bool(self.parts)


class QueueOutcome(enum.Enum):
    """How waiting in a queue ended; an `enqueue` node has an exit for each."""

    COMPLETED = "completed"  # an agent took the call (or chat) and it is over
    HUNG_UP = "hung_up"  # the caller left while waiting (an abandoned task)
    TIMEOUT = "timeout"  # the queue's max wait passed (the task is canceled)
    NO_AGENTS = "no_agents"  # leave-when-empty / join-when-empty refused the caller
    CALLBACK = "callback"  # the caller asked to be called back and left, keeping their place
    FAILED = "failed"  # the task could not be created (unknown workflow, the engine refused)


@dataclass(frozen=True)
class EnqueueRequest:
    """A task for the routing engine, and how the caller waits for it."""

    workflow: str
    attributes: Mapping[str, Any]
    priority: int = 0
    timeout: int | None = None  # the task's TTL in seconds; None: the engine's default
    known_worker: str | None = None  # a worker's friendly name to offer the task to first (personal manager)
    language: str = "en"  # for announcements while waiting
    flow: Mapping[str, Any] | None = None  # the run so far (`walked`): the agent's screen pop shows it


@dataclass(frozen=True)
class VoicemailRequest:
    """Record a message and turn it into a task (with the recording attached) for `workflow`."""

    workflow: str
    attributes: Mapping[str, Any]
    max_seconds: int = 120
    beep: bool = True
    language: str = "en"


@dataclass(frozen=True)
class CallbackRequest:
    """Call the caller back at `number` when an agent is free, keeping the caller's place (a task)."""

    workflow: str
    number: str
    attributes: Mapping[str, Any]
    priority: int = 0
    language: str = "en"


class Conversation(Protocol):
    """The channel side of one running flow: one caller on one call (or one chat visitor)."""

    async def say(self, message: Message) -> None:
        """Says the whole message; returns when it is said (or at once on a channel that does not wait)."""
        ...

    async def ask(self, message: Message, *, max_digits: int, wait: float, terminator: str = "#") -> str:
        """Says `message` and collects up to `max_digits` digits (voice: DTMF, the prompt stops at the first
        digit; chat: the visitor's reply). Ends after `wait` seconds without input, at the terminator
        (not included) or at `max_digits`. '' when nothing came. Raises `CallerGone` when the caller left."""
        ...

    async def enqueue(self, request: EnqueueRequest) -> QueueOutcome: ...

    async def voicemail(self, request: VoicemailRequest) -> str | None:
        """Records a message and makes it a task; the task's sid, or None when nothing was recorded."""
        ...

    async def callback(self, request: CallbackRequest) -> str | None:
        """Registers the callback as a task; its sid, or None when it could not be registered."""
        ...

    async def transfer(self, target: str) -> bool:
        """Sends the caller to an outside number or a SIP URI; True once they are connected (the flow ends)."""
        ...

    async def hangup(self) -> None: ...


class CallerGone(Exception):
    """The caller hung up (or the chat visitor left) while the flow was running."""


@dataclass(frozen=True)
class HttpRequest:
    method: str  # GET or POST
    url: str
    body: Mapping[str, Any] | None = None
    timeout: float = 3.0


@dataclass(frozen=True)
class HttpResult:
    status: int
    data: Any = None  # the decoded JSON body, or None
    headers: Mapping[str, str] = field(default_factory=dict)


class FlowServices(Protocol):
    """The world outside the flow: implemented in `app/`, scripted in tests and in `callboard flow test`."""

    async def http(self, request: HttpRequest) -> HttpResult:
        """Raises `OSError` or `TimeoutError` when the server cannot be reached in time."""
        ...

    async def find_contact(self, workspace: str, number: str) -> Mapping[str, Any] | None:
        """The CRM contact whose number this is: at least `name`, `vip` (bool), `manager` (a worker's
        friendly name or None), `language` (or None); None when the number is unknown."""
        ...
