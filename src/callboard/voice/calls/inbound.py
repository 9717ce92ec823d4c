"""What runs an inbound call between the answer and its end: a flow (`CallFlow`), given an `InboundCall`.

The B2BUA answers, then hands the call to its `CallFlow` (in `app/`, the contact-flow engine; in tests, a fixed
menu). The flow plays prompts and collects digits on `call.leg` and asks the B2BUA, through `InboundCall`, to
queue the caller for an agent, to take a message or to send the caller elsewhere. While the caller waits in a
queue, a `WaitingRoom` (music, position and wait announcements, the callback key, the maximum wait) runs beside
the ringing of agents; how the wait ended (`Waited`) is the flow's to act on.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from callboard.voice.calls.call_record import CallRecord, Outcome
from callboard.voice.calls.leg import Leg

if TYPE_CHECKING:
    from callboard.voice.calls.b2bua import B2bua, Enqueued

__all__ = ["CallFlow", "InboundCall", "QueueRequest", "WaitExit", "Waited", "WaitingRoom"]


class Waited(enum.Enum):
    """How a caller's time in a queue ended."""

    COMPLETED = "completed"  # an agent talked to the caller and the call is over
    HUNG_UP = "hung_up"  # the caller hung up while waiting (the task is canceled: abandoned)
    TIMEOUT = "timeout"  # the queue's maximum wait passed, or the task ended without an agent
    NO_AGENTS = "no_agents"  # nobody is staffed for the queue (join/leave when empty)
    CALLBACK = "callback"  # the caller left to be called back; the task keeps their place
    FAILED = "failed"  # the task could not be created


@dataclass(frozen=True)
class WaitExit:
    """Why a waiting room ends the caller's wait, and for a callback the number to call."""

    reason: Waited
    callback_number: str | None = None
    callback_attributes: Mapping[str, Any] = field(default_factory=dict)  # retries and such, kept on the task


class WaitingRoom(Protocol):
    """The caller's experience while waiting for an agent (implemented in `app/`)."""

    async def wait(self, leg: Leg, workspace_sid: str, task_sid: str) -> WaitExit:
        """Plays to the caller while they wait; cancelled when an agent answers or the caller leaves. Returns
        only to take the caller out of the queue (the maximum wait, no agents, a callback)."""
        ...


@dataclass(frozen=True)
class QueueRequest:
    """A task for the caller: attributes, the workflow by name (None: the workspace's first), its priority and
    time to live, a worker to offer it to first (by friendly name), and the waiting room."""

    attributes: Mapping[str, Any]
    workflow: str | None = None
    priority: int = 0
    timeout: int | None = None
    known_worker: str | None = None
    waiting: WaitingRoom | None = None


class CallFlow(Protocol):
    """Runs one answered inbound call until it is over or handed to an agent and back."""

    async def run(self, call: InboundCall) -> None: ...


class InboundCall:
    """An answered inbound call as a flow sees it: its leg, who called which number, and the B2BUA's services."""

    def __init__(self, b2bua: B2bua, record: CallRecord, leg: Leg) -> None:
        self._b2bua = b2bua
        self.record = record
        self.leg = leg
        self.outcome: Outcome | None = None  # set when the flow knows best how the call went

    @property
    def sid(self) -> str:
        return self.record.sid

    @property
    def caller(self) -> str:
        return self.record.caller

    @property
    def called(self) -> str:
        return self.record.called

    @property
    def workspace_sid(self) -> str:
        assert self.record.workspace_sid is not None
        return self.record.workspace_sid

    @property
    def enqueued(self) -> Enqueued | None:
        return self._b2bua.enqueued(self.sid)

    async def enqueue(self, request: QueueRequest) -> Waited:
        """Queues the caller and waits: music, agents ringing, the conversation, transfers. Returns when the
        caller is no longer in a queue; after COMPLETED and HUNG_UP the call is over."""
        return await self._b2bua.queue(self.sid, request)

    async def transfer(self, target: str) -> bool:
        """Connects the caller to an outside number (through the trunk) or SIP URI; True when they talked."""
        return await self._b2bua.send_elsewhere(self.sid, target)

    async def save(self) -> None:
        """Stores the record as it is now: a flow adds to it after the call ended in a queue and was stored."""
        await self._b2bua.routing.save_call(self.record.as_record())

    async def take_message(self, max_seconds: float) -> bytes:
        """What the caller says until '#', `max_seconds` or the hang-up (8 kHz mono linear PCM)."""
        return await self.leg.take_message(max_seconds)
