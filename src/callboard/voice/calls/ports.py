"""What the B2BUA needs of the routing side and the store (`RoutingPort`, implemented in `app/`), and the values
that cross it: a call's task (`Enqueued`), an offer of that task to a worker (`Offer`), an agent's phone
(`AgentContact`).

`voice` does not import `routing` (DESIGN.md): `app/` adapts the center to this port and forwards the engine's
events (`offer`, `offer_ended`, `task_ended`) to the B2BUA.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from callboard.voice.sip.transport_port import Destination
from callboard.voice.sip.uri import Uri

__all__ = ["AgentContact", "Enqueued", "Offer", "RoutingPort"]


@dataclass(frozen=True, slots=True)
class AgentContact:
    """Where an agent's phone answers: a registered contact, and where to send to reach it (behind NAT)."""

    uri: Uri
    destination: Destination | None = None


@dataclass(frozen=True, slots=True)
class Enqueued:
    """The task a call became."""

    workspace_sid: str
    task_sid: str


@dataclass(frozen=True, slots=True)
class Offer:
    """A reservation of the call's task for one worker, for `ring_seconds` more."""

    task_sid: str
    reservation_sid: str
    worker_sid: str
    queue_sid: str | None
    ring_seconds: float
    call_sid: str | None = None  # the task's call_sid attribute: an offer may come before enqueue returns
    workspace_sid: str | None = None
    callback_number: str | None = None  # the task is a callback: ring the agent, then call this number
    phone: str = "sip"  # how the worker is reached: "sip" (their registered phones) or "webrtc" (their browser)


class RoutingPort(Protocol):
    """What the B2BUA needs of the routing side and the store (implemented in `app/`)."""

    async def agent(self, username: str) -> tuple[str, str] | None:
        """The workspace and worker of the user `username` (an agent placing a call), or None."""
        ...

    async def worker_named(self, workspace_sid: str, name: str) -> tuple[str, str] | None:
        """The worker sid of the agent named `name` (user name or worker name) and how it is reached (its
        `phone` attribute: "sip" or "webrtc"), or None."""
        ...

    async def contacts_named(self, workspace_sid: str, name: str) -> list[AgentContact]:
        """The registered phones of the agent named `name` (user name or worker name); [] for none."""
        ...

    async def workspace_for(self, called: str) -> str | None:
        """The workspace whose number was dialed; None when no workspace takes calls."""
        ...

    async def enqueue(
        self,
        workspace_sid: str,
        call_sid: str,
        attributes: dict[str, Any],
        *,
        workflow: str | None = None,
        priority: int = 0,
        ttl: int | None = None,
        known_worker: str | None = None,
    ) -> Enqueued:
        """A voice task for the call, routed by `workflow` (None: the workspace's first); `known_worker` (a
        worker's friendly name) is offered the task first. Raises `CallboardError` when it cannot be made."""
        ...

    async def outbound_task(self, workspace_sid: str, worker_sid: str, attributes: dict[str, Any]) -> tuple[str, str]:
        """A voice task for a call the agent places, assigned to them at once: its sid and the accepted
        reservation's. Raises `ConflictError` (`agent_not_available`) when the engine cannot give it to them."""
        ...

    async def queue_task(self, workspace_sid: str, queue: str, attributes: dict[str, Any]) -> Enqueued:
        """A voice task waiting in the queue named `queue` (an agent's consultation with that queue). Raises
        `NotFoundError` when the workspace has no such queue."""
        ...

    async def update(self, workspace_sid: str, task_sid: str, attributes: dict[str, Any]) -> None:
        """Merges `attributes` into the task's (a caller who asked for a callback keeps their place)."""
        ...

    async def callback_failed(self, workspace_sid: str, task_sid: str) -> None:
        """The customer of a callback did not answer: try again later as the task's attributes say. Called
        while the agent still holds the task (before `wrap_up`), so that the retry is kept with the task."""
        ...

    async def cancel(self, workspace_sid: str, task_sid: str, reason: str) -> None: ...

    async def accept(self, workspace_sid: str, reservation_sid: str) -> bool:
        """Accepts the offer; False when it ended meanwhile (timed out, rescinded, canceled)."""
        ...

    async def reject(self, workspace_sid: str, reservation_sid: str, *, unreachable: bool) -> None:
        """The agent declined (busy), or could not be rung at all (`unreachable`: no phone registered)."""
        ...

    async def wrap_up(self, workspace_sid: str, reservation_sid: str) -> None: ...

    async def transfer(self, workspace_sid: str, task_sid: str, target: str) -> Enqueued:
        """Moves the call's task to the queue or worker named `target` (the agent is done: wrap-up); the task
        the call continues as. Raises `CallboardError` (NotFoundError) for a target that names neither."""
        ...

    async def contacts(self, workspace_sid: str, worker_sid: str) -> list[AgentContact]: ...

    async def save_call(self, record: dict[str, Any]) -> None: ...
