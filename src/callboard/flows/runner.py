"""Runs a flow for one caller over a `Conversation`, on an injected clock, doing no I/O of its own.

Variables a run starts with (the caller of `run` passes them; missing ones get the default shown):

- `caller` (E.164 of who calls, "" when withheld), `called` (the number dialled as received), `number`
  (E.164 of the number called), `workspace`, `site` (all "");
- `language` ("en"), `time_zone` (an IANA zone of the number, "UTC"), `schedule` (the number's schedule
  name, None: always open), `closed_prompt` ("closed"), `holiday_prompt` ("holiday") (a prompt name, or a
  built `Say`).

The runner adds and keeps current:

- `time` ("HH:MM"), `day` ("mon".."sun"), `date` ("YYYY-MM-DD"), `hour` (int): local in `time_zone`,
  refreshed before every step;
- `hours` ("open", "closed" or "holiday") and `holiday` (its name or None), once an hours node ran;
- `digits` (the last input, "" for none), `menu` (the last menu digit chosen), `contact` (the CRM contact,
  {} until found), `queue_outcome` (how the last enqueue ended), `callback_number`, `voicemail` (the sid).

Branch expressions read the variables as their default scope `call`: `contact.vip == true` and
`call.contact.vip == true` are the same. (`task`, `worker` and `workers` are reserved scope names of the
expression language: a variable so named is read as `call.task`.)

An exit left out ends the flow, and so does a `return` node: the top flow hangs up (end `no_exit`, or `enqueued`
after a queue), a subflow returns to the flow that ran it, which goes on at the subflow node's `next` (a subflow
node without `next` ends its own flow in turn, as the subflow ended). What ends the call ends the whole run from
any depth: a hangup, a transfer, the caller hanging up (`caller_gone`), and a queue after which the caller is done
(completed, hung_up, callback: `model.CALL_OVER`) when the enqueue node has no exit for it (end `enqueued`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callboard.core.clock import Clock
from callboard.flows.actions import Ended, FlowEnd, NodeActions
from callboard.flows.conversation import CallerGone, Conversation, FlowServices, Message, QueueOutcome
from callboard.flows.model import Flow, FlowSet
from callboard.flows.reader import EXPRESSION_SCOPE

__all__ = ["DEFAULT_VARIABLES", "EXPRESSION_SCOPE", "FlowEnd", "FlowRun", "FlowRunner", "Step", "clock_variables"]

DEFAULT_VARIABLES: Mapping[str, Any] = {
    "caller": "",
    "called": "",
    "number": "",
    "workspace": "",
    "site": "",
    "language": "en",
    "time_zone": "UTC",
    "schedule": None,
    "closed_prompt": "closed",
    "holiday_prompt": "holiday",
    "digits": "",
    "menu": "",
    "contact": {},
}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Step:
    """One node run: what it said (asking included), the inputs it got, and the exit it took."""

    flow: str
    node: str
    type: str
    said: tuple[Message, ...] = ()
    inputs: tuple[str, ...] = ()
    exit: str | None = None  # "next", "open", "1", "no_input", "completed"...; None when the run ended here
    target: str | None = None  # the node the exit leads to; None when it ends the flow
    detail: str = ""  # what happened besides talking: "GET https://... -> 200", "found"


@dataclass(frozen=True)
class FlowRun:
    flow: str
    steps: tuple[Step, ...]
    variables: Mapping[str, Any]
    end: FlowEnd
    outcome: QueueOutcome | None = None  # how the last enqueue ended, if one ran
    version: str = ""  # of the FlowSet the run used

    @property
    def path(self) -> tuple[str, ...]:
        """The nodes visited, in order."""
        return tuple(step.node for step in self.steps)


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def clock_variables(instant: float, time_zone: Any) -> dict[str, Any]:
    """`time`, `day`, `date` and `hour` at `instant` in `time_zone` (UTC when it is not a known zone)."""
    local = datetime.fromtimestamp(instant, _zone(time_zone) if isinstance(time_zone, str) else UTC)
    day, date = _DAYS[local.weekday()], local.date().isoformat()
    return {"time": local.strftime("%H:%M"), "day": day, "date": date, "hour": local.hour}


@dataclass
class _StepRecord:
    flow: str
    node: str
    type: str
    said: list[Message] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    exit: str | None = None
    target: str | None = None
    detail: str = ""

    def frozen(self) -> Step:
        said, inputs = tuple(self.said), tuple(self.inputs)
        return Step(self.flow, self.node, self.type, said, inputs, self.exit, self.target, self.detail)


class _StepLimit(Exception):
    pass


class FlowRunner:
    """Runs flows from the published `FlowSet`; `publish` swaps in a new version for runs that start later."""

    def __init__(self, flows: FlowSet, clock: Clock, services: FlowServices, *, max_steps: int = 500) -> None:
        self._flows = flows
        self.clock = clock
        self.services = services
        self.max_steps = max_steps

    @property
    def flows(self) -> FlowSet:
        return self._flows

    def publish(self, flows: FlowSet) -> None:
        self._flows = flows

    async def run(self, flow: str, conversation: Conversation, variables: Mapping[str, Any]) -> FlowRun:
        """Runs `flow` to its end; never raises for what the caller or the outside world does."""
        start = {**DEFAULT_VARIABLES, "contact": {}, **variables}  # a fresh `contact` per run, never shared
        execution = _Execution(self, self._flows, conversation, start)
        return await execution.run(flow)


class _Execution:
    """One run: its snapshot of the flows, its variables and the steps so far."""

    def __init__(
        self, runner: FlowRunner, flows: FlowSet, conversation: Conversation, variables: dict[str, Any]
    ) -> None:
        self.runner, self.flows, self.variables = runner, flows, variables
        self.steps: list[_StepRecord] = []
        self.nodes = NodeActions(flows, conversation, runner.services, runner.clock, variables)
        self.nodes.steps = self.steps
        self.conversation = conversation

    async def run(self, name: str) -> FlowRun:
        end: FlowEnd
        flow = self.flows.flows.get(name)
        try:
            end = FlowEnd.MISSING_FLOW if flow is None else await self._flow(flow)
        except Ended as ended:
            end = ended.end
        except _StepLimit:
            end = FlowEnd.STEP_LIMIT
        except CallerGone:
            end = FlowEnd.CALLER_GONE
        hang_up = end in (FlowEnd.NO_EXIT, FlowEnd.STEP_LIMIT, FlowEnd.MISSING_FLOW) or (
            end is FlowEnd.ENQUEUED and self.nodes.outcome is not QueueOutcome.HUNG_UP
        )
        if hang_up:
            with contextlib.suppress(CallerGone):
                await self.conversation.hangup()
        steps = tuple(step.frozen() for step in self.steps)
        return FlowRun(name, steps, dict(self.variables), end, self.nodes.outcome, self.flows.version)

    async def _flow(self, flow: Flow) -> FlowEnd:
        """Runs `flow` until an exit it leaves out (what that means at the top); ending the call raises `Ended`."""
        name = flow.start
        while True:
            if len(self.steps) >= self.runner.max_steps:
                raise _StepLimit
            node = flow.nodes[name]
            self.variables.update(clock_variables(self.runner.clock.now(), self.variables.get("time_zone")))
            record = _StepRecord(flow.name, name, node.kind)
            self.steps.append(record)
            self.nodes.step = record
            try:
                taken = await self.nodes.run(node, self._subflow)
            except Ended as ended:
                record.exit = ended.label
                raise
            except CallerGone:
                record.exit = "caller_gone"
                raise
            record.exit, record.target = taken.label, taken.target
            if taken.target is None:
                return taken.end
            name = taken.target

    async def _subflow(self, name: str) -> FlowEnd:
        flow = self.flows.flows.get(name)
        if flow is None:
            raise Ended(FlowEnd.MISSING_FLOW, "missing_flow")
        return await self._flow(flow)
