"""What each node type does when it runs: talk to the `Conversation`, call `FlowServices`, pick an exit."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from callboard.core.clock import Clock
from callboard.flows.conversation import (
    CallbackRequest,
    Conversation,
    EnqueueRequest,
    FlowServices,
    HttpRequest,
    Message,
    PromptRef,
    QueueOutcome,
    VoicemailRequest,
)
from callboard.flows.model import (
    CALL_OVER,
    QUEUE_EXITS,
    BranchNode,
    CallbackNode,
    CollectNode,
    CrmNode,
    EnqueueNode,
    FlowSet,
    HangupNode,
    HoursNode,
    LanguageNode,
    LookupNode,
    MenuNode,
    Node,
    PlayNode,
    ReturnNode,
    Say,
    SetNode,
    SubflowNode,
    TransferNode,
    VoicemailNode,
)
from callboard.flows.reader import EXPRESSION_SCOPE
from callboard.flows.template import ValueTemplate, lookup, text_of

__all__ = ["Ended", "Exit", "FlowEnd", "NodeActions"]

MIN_CALLBACK_DIGITS, MAX_CALLBACK_DIGITS = 3, 15  # an entered callback number (E.164 has at most 15)


class FlowEnd(enum.StrEnum):
    """How a run ended."""

    HANGUP = "hangup"  # a hangup node, or the number's closed or holiday message
    NO_EXIT = "no_exit"  # the top flow left by an exit it leaves out or a return node (the runner hung up)
    ENQUEUED = "enqueued"  # waiting in a queue ended by an outcome the node has no exit for (`run.outcome`)
    TRANSFER = "transfer"  # the caller was connected elsewhere
    CALLER_GONE = "caller_gone"  # the caller hung up (or the visitor left)
    STEP_LIMIT = "step_limit"  # too many steps: a loop that never waits for the caller (the runner hung up)
    MISSING_FLOW = "missing_flow"  # the flow (or a subflow) is not in the published set (the runner hung up)


@dataclass(frozen=True)
class Exit:
    """The exit a node took: its label, the node it leads to (None: it ends the flow) and, at the top flow,
    how the run ends when it does."""

    label: str
    target: str | None
    end: FlowEnd = FlowEnd.NO_EXIT


class Ended(Exception):
    """The node ended the call (a hangup, a transfer, the closed message, a queue after which the caller is
    done): the whole run ends, from inside any subflow."""

    def __init__(self, end: FlowEnd, label: str) -> None:
        super().__init__(end.value)
        self.end, self.label = end, label


class WalkedStep(Protocol):
    """A node run as a summary of the run reads it."""

    @property
    def flow(self) -> str: ...
    @property
    def node(self) -> str: ...
    @property
    def exit(self) -> str | None: ...


def walked(steps: Sequence[WalkedStep], variables: Mapping[str, Any]) -> dict[str, Any]:
    """What a run has done, as a call record and a task keep it: the (top) flow, the hours an hours node found,
    and each node with the exit taken (a menu's exit is the digit chosen; what was typed in a `collect` node is
    never in it: it can be a secret). Nodes of a subflow name their flow."""
    top = steps[0].flow if steps else ""
    summary: dict[str, Any] = {"name": top}
    if "hours" in variables:
        summary.update(hours=variables["hours"], holiday=variables.get("holiday"))
    summary["path"] = [
        {"node": step.node, "exit": step.exit, **({"flow": step.flow} if step.flow != top else {})} for step in steps
    ]
    return summary


class StepLog(Protocol):
    """Where a node's talk is written down (the runner's record of the current step)."""

    said: list[Message]
    inputs: list[str]
    detail: str


class NodeActions:
    """Runs nodes for one run: `step` is the record of the node running now."""

    step: StepLog

    def __init__(
        self,
        flows: FlowSet,
        conversation: Conversation,
        services: FlowServices,
        clock: Clock,
        variables: dict[str, Any],
    ) -> None:
        self.flows, self.conversation, self.services, self.clock = flows, conversation, services, clock
        self.variables = variables
        self.outcome: QueueOutcome | None = None
        self.steps: Sequence[WalkedStep] = ()  # the run's steps so far, the one running now last

    # -- talking -----------------------------------------------------------------------------------------

    @property
    def language(self) -> str:
        return text_of(self.variables.get("language")) or "en"

    async def say(self, say: Say | Message) -> None:
        message = say if isinstance(say, Message) else say.message(self.variables, self.language)
        if not message:
            return
        self.step.said.append(message)
        await self.conversation.say(message)

    async def ask(self, say: Say, *, max_digits: int, wait: float, terminator: str) -> str:
        message = say.message(self.variables, self.language)
        self.step.said.append(message)
        entered = await self.conversation.ask(message, max_digits=max_digits, wait=wait, terminator=terminator)
        self.step.inputs.append(entered)
        self.variables["digits"] = entered
        return entered

    def assign(self, values: Mapping[str, ValueTemplate]) -> None:
        # One by one, so a later value can read an earlier one.
        for name, value in values.items():
            self.variables[name] = value.render(self.variables)

    # -- the nodes ---------------------------------------------------------------------------------------

    async def run(self, node: Node, subflow: Callable[[str], Awaitable[FlowEnd]]) -> Exit:
        """Runs `node`; `subflow` runs a flow by name until it returns, with how it would end at the top."""
        match node:
            case HoursNode():
                return await self._hours(node)
            case MenuNode():
                return await self._menu(node)
            case CollectNode():
                return await self._collect(node)
            case BranchNode():
                scopes = {EXPRESSION_SCOPE: self.variables}
                case = next((case for case in node.cases if case.when.evaluate(scopes)), None)
                return Exit(case.when.source, case.next) if case is not None else Exit("default", node.default)
            case SetNode():
                self.assign(node.values)
                return Exit("next", node.next)
            case LanguageNode():
                self._language(node)
                return Exit("next", node.next)
            case LookupNode():
                return await self._lookup(node)
            case CrmNode():
                return await self._crm(node)
            case EnqueueNode():
                return await self._enqueue(node)
            case CallbackNode():
                return await self._callback(node)
            case VoicemailNode():
                return await self._voicemail(node)
            case TransferNode():
                target = node.to.text(self.variables).strip()
                self.step.detail = f"to {target}"
                if target and await self.conversation.transfer(target):
                    raise Ended(FlowEnd.TRANSFER, "transferred")
                return Exit("failed", node.failed)
            case SubflowNode():
                end = await subflow(node.flow)
                return Exit("next", node.next, end)
            case HangupNode():
                await self.say(node.say)
                await self.conversation.hangup()
                raise Ended(FlowEnd.HANGUP, "hangup")
            case PlayNode():
                await self.say(node.say)
                return Exit("next", node.next)
            case ReturnNode():
                return Exit("return", None)
        raise AssertionError(f"no action for {node!r}")  # every Node type has a case above

    async def _hours(self, node: HoursNode) -> Exit:
        name = node.schedule or self.variables.get("schedule")
        schedule = self.flows.schedules.get(name) if isinstance(name, str) else None
        status, holiday = "open", None
        if schedule is not None:  # a number without hours is always open
            state = schedule.state_at(self.clock.now())
            status = {"OPEN": "open", "HOLIDAY": "holiday"}.get(state.status.name, "closed")
            holiday = state.holiday if status == "holiday" else None
        self.variables["hours"], self.variables["holiday"] = status, holiday
        where = f"schedule {name}" if schedule is not None else "no schedule"
        self.step.detail = f"{where}: {status}" + (f" ({holiday})" if holiday else "")
        target = {"open": node.open, "closed": node.closed, "holiday": node.holiday}[status]
        if target is not None:
            return Exit(status, target)
        prompt = self.variables.get("holiday_prompt" if status == "holiday" else "closed_prompt")
        if isinstance(prompt, Say | Message):
            await self.say(prompt)
        else:
            await self.say(Message((PromptRef(text_of(prompt) or status),), self.language))
        await self.conversation.hangup()
        raise Ended(FlowEnd.HANGUP, status)

    async def _menu(self, node: MenuNode) -> Exit:
        entered = ""
        for attempt in range(1 + node.retries):
            entered = await self.ask(node.say, max_digits=1, wait=node.timeout, terminator="")
            option = node.options.get(entered)
            if option is not None:
                self.variables["menu"] = entered
                self.assign(option.values)
                return Exit(entered, option.next)
            if entered and attempt < node.retries:
                await self.say(node.invalid_say)
        if entered:
            return Exit("invalid", node.invalid_exit)
        return Exit("no_input", node.no_input)

    async def _collect(self, node: CollectNode) -> Exit:
        for attempt in range(node.attempts):
            entered = await self.ask(
                node.say, max_digits=node.max_digits, wait=node.timeout, terminator=node.terminator
            )
            valid = len(entered) >= node.min_digits and (node.pattern is None or node.pattern.fullmatch(entered))
            if valid:
                self.variables[node.variable] = entered
                return Exit("next", node.next)
            if entered and attempt < node.attempts - 1:
                await self.say(node.invalid_say)
        return Exit("failed", node.failed)

    def _language(self, node: LanguageNode) -> None:
        value = text_of(node.language.render(self.variables)).strip().lower()
        for candidate in (value, value.replace("_", "-").split("-")[0]):
            if candidate in node.known:
                self.variables["language"] = candidate
                return

    async def _lookup(self, node: LookupNode) -> Exit:
        url = node.url.text(self.variables).strip()
        body = node.body.render(self.variables) if node.body is not None else None
        request = HttpRequest(node.method, url, body if isinstance(body, Mapping) else None, node.timeout)
        fallback = Exit("fallback", node.fallback)
        if not url.startswith(("http://", "https://")):
            self.step.detail = f"{node.method} {url!r}: not an http(s) URL"
            return fallback
        try:
            result = await self.services.http(request)
        except (OSError, TimeoutError) as exc:
            self.step.detail = f"{node.method} {url} -> {type(exc).__name__}"
            return fallback
        self.step.detail = f"{node.method} {url} -> {result.status}"
        if not 200 <= result.status < 300 or (node.into and not isinstance(result.data, Mapping | list)):
            return fallback
        for variable, path in node.into.items():
            self.variables[variable] = lookup(result.data, path)
        return Exit("next", node.next)

    async def _crm(self, node: CrmNode) -> Exit:
        caller = text_of(self.variables.get("caller"))
        try:
            workspace = text_of(self.variables.get("workspace"))
            contact = await self.services.find_contact(workspace, caller) if caller else None
        except (OSError, TimeoutError):
            contact = None  # a CRM that cannot be reached knows no one
        self.variables["contact"] = dict(contact) if contact else {}
        self.step.detail = "found" if contact else "not found"
        return Exit("found", node.found) if contact else Exit("not_found", node.not_found)

    async def _enqueue(self, node: EnqueueNode) -> Exit:
        manager = lookup(self.variables, ("contact", "manager")) if node.personal_manager else None
        request = EnqueueRequest(
            workflow=node.workflow,
            attributes=self._attributes(node.attributes),
            priority=_whole(node.priority.render(self.variables)),
            timeout=node.timeout,
            known_worker=manager.strip() if isinstance(manager, str) and manager.strip() else None,
            language=self.language,
            flow=walked(self.steps[:-1], self.variables),
        )
        self.outcome = outcome = await self.conversation.enqueue(request)
        self.variables["queue_outcome"] = outcome.value
        self.step.detail = f"workflow {node.workflow}: {outcome.value}"
        target = node.exits.get(outcome)
        if target is None and outcome in CALL_OVER:
            raise Ended(FlowEnd.ENQUEUED, QUEUE_EXITS[outcome])
        return Exit(QUEUE_EXITS[outcome], target, FlowEnd.ENQUEUED)

    async def _callback(self, node: CallbackNode) -> Exit:
        caller = text_of(self.variables.get("caller"))
        number = caller or None
        if not node.confirm:
            await self.say(node.say)
        else:
            number = None
            for attempt in range(node.attempts):
                choice = await self.ask(node.say, max_digits=1, wait=node.timeout, terminator="")
                if choice == "1" and caller:
                    number = caller
                    break
                if choice in ("1", "2"):
                    entered = await self.ask(
                        node.number_say, max_digits=MAX_CALLBACK_DIGITS, wait=node.timeout, terminator="#"
                    )
                    if len(entered) >= MIN_CALLBACK_DIGITS and entered.isdigit():
                        number = entered
                        break
                if choice and attempt < node.attempts - 1:
                    await self.say(node.invalid_say)
        if number is None:
            return Exit("failed", node.failed)
        self.variables["callback_number"] = number
        request = CallbackRequest(
            workflow=node.workflow,
            number=number,
            attributes=self._attributes(node.attributes),
            priority=_whole(node.priority.render(self.variables)),
            language=self.language,
        )
        sid = await self.conversation.callback(request)
        self.step.detail = f"callback to {number}: {sid or 'not registered'}"
        return Exit("next", node.next) if sid else Exit("failed", node.failed)

    async def _voicemail(self, node: VoicemailNode) -> Exit:
        await self.say(node.say)
        request = VoicemailRequest(
            workflow=node.workflow,
            attributes=self._attributes(node.attributes),
            max_seconds=node.max_seconds,
            beep=node.beep,
            language=self.language,
        )
        sid = await self.conversation.voicemail(request)
        self.variables["voicemail"] = sid
        self.step.detail = f"voicemail: {sid or 'nothing recorded'}"
        if sid:
            return Exit("next", node.next)
        return Exit("failed", node.failed if node.failed is not None else node.next)

    def _attributes(self, attributes: ValueTemplate) -> dict[str, Any]:
        rendered = attributes.render(self.variables)
        return rendered if isinstance(rendered, dict) else {}


def _whole(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    try:
        return int(float(text_of(value)))
    except (ValueError, OverflowError):
        return 0
