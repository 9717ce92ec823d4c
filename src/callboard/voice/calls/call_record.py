"""The record of one call, as the store keeps it and the API shows it: who, when, where it waited, who took it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["CallRecord", "Outcome"]


class Outcome(StrEnum):
    COMPLETED = "completed"  # the caller talked to an agent
    ABANDONED = "abandoned"  # the caller hung up before an agent answered (in the menu or in the queue)
    NO_AGENT = "no_agent"  # the task ended without an agent (its timeout, or canceled by a supervisor)
    FAILED = "failed"  # no usable media, no choice made in the menu, or an error of ours
    REJECTED = "rejected"  # refused before answering (overload, unknown number)
    IVR = "ivr"  # ended in the flow without a queue (closed, a message, a hang-up node)
    CALLBACK = "callback"  # the caller left the queue to be called back (the callback has its own record)


@dataclass(slots=True)
class CallRecord:
    """Times are epoch seconds; the durations are seconds: wait (queued to agent answer or hang-up), talk
    (agent answer to hang-up) and hold."""

    sid: str
    direction: str
    caller: str
    called: str
    from_uri: str
    to_uri: str
    started_at: float
    workspace_sid: str | None = None
    task_sid: str | None = None
    queue_sid: str | None = None
    worker_sid: str | None = None
    agent_contact: str | None = None
    answered_at: float | None = None
    enqueued_at: float | None = None
    agent_answered_at: float | None = None
    ended_at: float | None = None
    wait_seconds: float = 0.0
    talk_seconds: float = 0.0
    hold_seconds: float = 0.0
    outcome: Outcome | None = None
    hangup_cause: str | None = None
    hangup_by: str | None = None
    recording_path: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    def end(self, now: float, outcome: Outcome, cause: str, by: str) -> None:
        """The call is over: when, how, and who hung up first (caller, agent, called, system)."""
        self.ended_at = now
        self.outcome, self.hangup_cause, self.hangup_by = outcome, cause, by

    def as_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["outcome"] = None if self.outcome is None else self.outcome.value
        return record
