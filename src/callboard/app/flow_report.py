"""One offline flow run as a report: the path taken, what was said and typed at each node, the variables the
flow set, how it ended (the task an `enqueue` node made and where its workflow routes it), the hours at the
run's time, and what a real call could not have said. `report` builds plain data (what `--json` prints);
`format_report` writes it as text for people.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from callboard.config.model import Workflow
from callboard.core.errors import CallboardError
from callboard.flows.conversation import CallerGone, EnqueueRequest, Message, QueueOutcome
from callboard.flows.numbers import Number
from callboard.flows.runner import DEFAULT_VARIABLES, FlowRun
from callboard.flows.schedule import Schedule
from callboard.flows.scripted import HangUp, ScriptedConversation
from callboard.flows.spoken import PromptBook
from callboard.flows.workspace_ivr import queue_attributes
from callboard.routing.workflow import parse_workflow_configuration

__all__ = ["RecordingConversation", "RunContext", "format_report", "report"]

CLOCK_VARIABLES = frozenset({"time", "day", "date", "hour"})


class RecordingConversation(ScriptedConversation):
    """A scripted caller that also keeps each message it was given, in order, with what the caller typed after
    an ask (None after a say; "hangup" when the caller hung up instead)."""

    def __init__(self, inputs: Sequence[str | HangUp | None], **kwargs: Any) -> None:
        super().__init__(inputs, **kwargs)
        self.log: list[tuple[str, Message, str | None]] = []

    async def say(self, message: Message) -> None:
        await super().say(message)
        self.log.append(("say", message, None))

    async def ask(self, message: Message, *, max_digits: int, wait: float, terminator: str = "#") -> str:
        gone = self.gone or self.hung_up
        try:
            entered = await super().ask(message, max_digits=max_digits, wait=wait, terminator=terminator)
        except CallerGone:
            if not gone:
                self.log.append(("ask", message, "hangup"))
            raise
        self.log.append(("ask", message, entered))
        return entered


@dataclass(frozen=True)
class RunContext:
    """What the run was started with, for the report."""

    workspace: str
    flow: str
    number: Number | None
    caller: str
    at: float
    time_zone: str
    variables: Mapping[str, Any]  # the starting variables
    schedule: Schedule | None = None
    workflows: Sequence[Workflow] = ()
    prompts: PromptBook = field(default_factory=PromptBook)
    contact: Mapping[str, Any] | None = None
    warnings: Sequence[str] = ()
    closure: Message | None = None  # the emergency switch's message, when it holds (the flow did not run)


def report(context: RunContext, run: FlowRun | None, conversation: RecordingConversation) -> dict[str, Any]:
    """The run as plain JSON data."""
    warnings = list(context.warnings)
    zone = ZoneInfo(context.time_zone)
    number = context.number
    data: dict[str, Any] = {
        "workspace": context.workspace,
        "flow": context.flow,
        "number": None
        if number is None
        else {
            "number": number.e164,
            "site": number.site,
            "language": number.language,
            "time_zone": number.time_zone,
            "schedule": number.schedule,
        },
        "caller": context.caller,
        "contact": dict(context.contact) if context.contact is not None else None,
        "at": _local(context.at, zone),
        "hours": _hours(context, zone),
    }
    if context.closure is not None:
        spoken = context.prompts.spoken(context.closure)
        warnings.extend(spoken.silent)
        data |= {"closed": spoken.text, "steps": [], "variables": {}, "end": {"how": "emergency_closure"}}
        data["warnings"] = warnings
        return data
    assert run is not None
    steps = _steps(run, conversation, context.prompts, warnings)
    start = {**DEFAULT_VARIABLES, **context.variables}
    changed = {
        name: value
        for name, value in run.variables.items()
        if name not in CLOCK_VARIABLES and (name not in start or start[name] != value)
    }
    data |= {
        "steps": steps,
        "variables": _plain(changed),
        "end": _end(context, run, conversation),
        "warnings": warnings,
    }
    return data


def _local(instant: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(instant, zone).isoformat(timespec="minutes")


def _hours(context: RunContext, zone: ZoneInfo) -> dict[str, Any]:
    if context.schedule is None:
        return {"schedule": None, "status": "open", "holiday": None, "until": None}
    state = context.schedule.state_at(context.at)
    until = _local(state.until, zone) if state.until is not None else None
    return {"schedule": context.schedule.name, "status": state.status.value, "holiday": state.holiday, "until": until}


def _steps(
    run: FlowRun, conversation: RecordingConversation, prompts: PromptBook, warnings: list[str]
) -> list[dict[str, Any]]:
    log, cursor = conversation.log, 0
    steps = []
    for step in run.steps:
        events: list[dict[str, Any]] = []
        for message in step.said:
            found = next((i for i in range(cursor, len(log)) if log[i][1] is message), None)
            kind, entered = ("say", None) if found is None else (log[found][0], log[found][2])
            cursor = cursor if found is None else found + 1
            spoken = prompts.spoken(message)
            warnings.extend(f"{step.node}: {problem}" for problem in spoken.silent)
            events.append({kind: spoken.text})
            if kind == "ask":
                events.append({"caller": entered})
        steps.append(
            {
                "flow": step.flow,
                "node": step.node,
                "type": step.type,
                "events": events,
                "detail": step.detail,
                "exit": step.exit,
                "next": step.target,
            }
        )
    return steps


def _end(context: RunContext, run: FlowRun, conversation: RecordingConversation) -> dict[str, Any]:
    end: dict[str, Any] = {"how": run.end.value}
    if conversation.enqueued:
        request = conversation.enqueued[-1]
        end["enqueue"] = _enqueue(context, request, run.outcome)
    if conversation.transfers:
        end["transfer"] = {"to": conversation.transfers[-1], "connected": conversation.transfer_connects}
    if conversation.voicemails:
        request_vm = conversation.voicemails[-1]
        end["voicemail"] = {"workflow": request_vm.workflow, "attributes": _plain(request_vm.attributes)}
    if conversation.callbacks:
        request_cb = conversation.callbacks[-1]
        end["callback"] = {
            "workflow": request_cb.workflow,
            "number": request_cb.number,
            "priority": request_cb.priority,
            "attributes": _plain(request_cb.attributes),
        }
    return end


def _enqueue(context: RunContext, request: EnqueueRequest, outcome: QueueOutcome | None) -> dict[str, Any]:
    attributes = (
        queue_attributes(request, context.number)
        if context.number is not None
        else {**request.attributes, "language": request.attributes.get("language", request.language)}
    )
    queue, matched = _route(context.workflows, request.workflow, attributes)
    return {
        "workflow": request.workflow,
        "queue": queue,
        "filter": matched,
        "attributes": _plain(attributes),
        "priority": request.priority,
        "timeout": request.timeout,
        "known_worker": request.known_worker,
        "outcome": outcome.value if outcome is not None else None,
    }


def _route(workflows: Sequence[Workflow], name: str, attributes: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The first queue the workflow sends such a task to, and the filter that matched (None: the default)."""
    workflow = next((w for w in workflows if w.name == name), None)
    if workflow is None:
        return None, None
    try:
        config = parse_workflow_configuration(workflow.configuration, lambda _: True)
    except CallboardError:
        return None, None
    index = config.first_match(_plain(attributes))
    if index >= 0:
        chosen = config.filters[index]
        return chosen.targets[0].queue, chosen.name
    default = config.default_filter
    return (default.queue if default is not None else None), None


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


# -- text ----------------------------------------------------------------------------------------------------


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def format_report(data: Mapping[str, Any]) -> str:
    lines = [_heading(data), _caller_line(data), _hours_line(data)]
    if "closed" in data:
        lines += ["", "Emergency switch: the number is closed; the flow does not run.", f'  says: "{data["closed"]}"']
    else:
        lines += ["", "Path:"]
        for index, step in enumerate(data["steps"], 1):
            where = f", flow {step['flow']}" if step["flow"] != data["flow"] else ""
            detail = f": {step['detail']}" if step["detail"] else ""
            lines.append(f"  {index}. {step['node']} ({step['type']}{where}){detail}")
            for event in step["events"]:
                lines.append("       " + _event(event))
            if step["exit"] is not None:
                lines.append(f"     exit {step['exit']} -> {step['next'] or '(end)'}")
        if data["variables"]:
            lines += ["", "Variables set:"]
            lines += [f"  {name} = {_json(value)}" for name, value in data["variables"].items()]
    lines += ["", *_end_lines(data["end"])]
    if data["warnings"]:
        lines += ["", "Warnings:"]
        lines += [f"  {warning}" for warning in data["warnings"]]
    return "\n".join(lines)


def _heading(data: Mapping[str, Any]) -> str:
    number = data["number"]
    where = f"Flow {data['flow']} of workspace {data['workspace']}"
    if number is None:
        return where + ", no number (language en, UTC, no schedule)"
    return where + f", called {number['number']} (site {number['site']}, {number['language']}, {number['time_zone']})"


def _caller_line(data: Mapping[str, Any]) -> str:
    if not data["caller"]:
        return "Caller: withheld"
    contact = data["contact"]
    if contact is None:
        return f"Caller {data['caller']}: not a contact"
    traits = ["VIP"] if contact.get("vip") else []
    traits += [f"manager {contact['manager']}"] if contact.get("manager") else []
    return f"Caller {data['caller']}: contact {contact.get('name')}" + (f" ({', '.join(traits)})" if traits else "")


def _hours_line(data: Mapping[str, Any]) -> str:
    at = datetime.fromisoformat(data["at"])
    zone = data["number"]["time_zone"] if data["number"] else "UTC"
    when = f"At {at:%Y-%m-%d %H:%M} {at:%a}, {zone} ({data['at'][16:]})"
    hours = data["hours"]
    if hours["schedule"] is None:
        return when + ": open (no schedule)"
    state = hours["status"] + (f" ({hours['holiday']})" if hours["holiday"] else "")
    until = f" until {datetime.fromisoformat(hours['until']):%Y-%m-%d %H:%M}" if hours["until"] else ""
    return when + f": {state}{until}, schedule {hours['schedule']}"


def _event(event: Mapping[str, Any]) -> str:
    ((kind, value),) = event.items()
    if kind == "caller":
        return "caller: " + {"": "(no input)", "hangup": "(hangs up)"}.get(value, str(value))
    return f'{"asks" if kind == "ask" else "says"}: "{value}"'


def _end_lines(end: Mapping[str, Any]) -> list[str]:
    lines = [f"End: {end['how']}"]
    queue = end.get("enqueue")
    if queue is not None:
        routed = f" -> queue {queue['queue']}" if queue["queue"] else ""
        routed += f" (filter {queue['filter']})" if queue["filter"] else (" (default filter)" if queue["queue"] else "")
        lines.append(f"  enqueue: workflow {queue['workflow']}{routed}, outcome {queue['outcome']}")
        lines.append(f"  attributes: {_json(queue['attributes'])}")
        extra = f"  priority {queue['priority']}"
        if queue["timeout"] is not None:
            extra += f", timeout {queue['timeout']} s"
        if queue["known_worker"]:
            extra += f", offered first to {queue['known_worker']} (personal manager)"
        lines.append(extra)
    if "transfer" in end:
        transfer = end["transfer"]
        lines.append(f"  transfer: to {transfer['to']} ({'connected' if transfer['connected'] else 'failed'})")
    if "voicemail" in end:
        lines.append(f"  voicemail: workflow {end['voicemail']['workflow']}, {_json(end['voicemail']['attributes'])}")
    if "callback" in end:
        callback = end["callback"]
        lines.append(
            f"  callback: {callback['number']} through workflow {callback['workflow']}, priority {callback['priority']}"
        )
    return lines
