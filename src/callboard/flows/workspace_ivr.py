"""A workspace's IVR built from plain data, and what a call to one of its numbers starts with.

The same steps run on a voice node (from the store) and offline (`callboard flow test`, from a center file), so
a flow tried offline sees what a real call would: `build_workspace_ivr` builds schedules, flows and numbers
against one catalog; `call_variables` gives a call's starting variables; `queue_attributes` the attributes of
the task an `enqueue` node makes; `closure_for` and `closure_message` the emergency switch. The numbers
themselves are read by `flows.numbers` (`caller_number`, `Number.home_region`). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from callboard.flows.build import build_flows
from callboard.flows.catalog import Catalog
from callboard.flows.conversation import EnqueueRequest, Message, PromptRef, Speech
from callboard.flows.model import FlowSet
from callboard.flows.numbers import Number, build_numbers, caller_number
from callboard.flows.schedule import Schedule, build_schedules

__all__ = [
    "WorkspaceIvr",
    "build_workspace_ivr",
    "call_variables",
    "calling_number",
    "closure_for",
    "closure_message",
    "queue_attributes",
]

WITHHELD = frozenset({"", "anonymous", "unknown", "restricted"})  # what trunks send for a withheld number


@dataclass(frozen=True)
class WorkspaceIvr:
    """What a workspace's flows, schedules and numbers built into, and what did not build."""

    flows: FlowSet
    numbers: Mapping[str, Number]  # by E.164
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    catalog: Catalog = field(default_factory=Catalog)  # the names they were built against


def build_workspace_ivr(
    *,
    flows: list[dict[str, Any]],
    schedules: list[dict[str, Any]],
    numbers: list[dict[str, Any]],
    prompts: Iterable[str] = (),
    workflows: Iterable[str] = (),
    queues: Iterable[str] = (),
    channels: Iterable[str] = (),
) -> WorkspaceIvr:
    """Builds the `flows:`, `schedules:` and `numbers:` lists (as the center file and the store keep them, each
    item with its `name` or `number`) against a catalog of the workspace's prompts (the system prompts are
    added), workflows, queues and channels. What has a problem is left out and the problem listed."""
    catalog = Catalog.of_workspace(
        prompts=prompts,
        workflows=workflows,
        queues=queues,
        channels=channels,
        schedules=(d["name"] for d in schedules),
        flows=(d["name"] for d in flows),
    )
    built_schedules, schedule_problems = build_schedules(schedules, catalog)
    built_flows, flow_problems = build_flows(flows, catalog)
    built_numbers, number_problems = build_numbers(numbers, catalog, built_schedules)
    problems = tuple(str(p) for p in (*schedule_problems, *flow_problems, *number_problems))
    return WorkspaceIvr(
        FlowSet(built_flows, built_schedules, version=str(len(flows))),
        {n.e164: n for n in built_numbers},
        built_schedules,
        problems,
        catalog,
    )


def calling_number(caller: str, number: Number) -> str:
    """The caller as a flow sees it: E.164 when it is a phone number (a national one read in the region of the
    number called), "" when withheld, a SIP user name as it is."""
    if caller.strip().lower() in WITHHELD:
        return ""
    return caller_number(caller, number.home_region) or caller


def call_variables(
    number: Number, *, caller: str, called: str, workspace: str, call_sid: str, now: float
) -> dict[str, Any]:
    """The variables a call to `number` from `caller` (as the trunk sent it) starts its flow with; the runner
    adds the clock's and the rest."""
    return {
        "caller": calling_number(caller, number),
        "called": called,
        "number": number.e164,
        "workspace": workspace,
        "site": number.site,
        "language": number.language,
        "time_zone": number.time_zone,
        "schedule": number.schedule,
        "closed_prompt": number.closed_prompt,
        "holiday_prompt": number.holiday_prompt,
        "call_sid": call_sid,
        # The server's local time, as the voice node has always given it.
        "started_at": datetime.fromtimestamp(now).isoformat(timespec="seconds"),
    }


def queue_attributes(request: EnqueueRequest, number: Number) -> dict[str, Any]:
    """The attributes of the task a call to `number` becomes at an `enqueue` node: the node's, the caller's
    language unless the node set one, the number and its site, the personal manager as `known_worker`, and the
    flow's path so far as `flow`."""
    attributes = {**request.attributes, "language": request.attributes.get("language", request.language)}
    attributes.update(number=number.e164, site=number.site)
    if request.known_worker:
        attributes["known_worker"] = request.known_worker
    if request.flow is not None and "flow" not in attributes:
        attributes["flow"] = dict(request.flow)  # what the caller did before the queue, for the screen pop
    return attributes


def closure_for(closures: Iterable[Mapping[str, Any]], number: Number) -> Mapping[str, Any] | None:
    """The emergency closure that holds for `number` (its own, or its site's), if any."""
    for closure in closures:
        if (closure["scope"], closure["target"]) in (("number", number.e164), ("site", number.site)):
            return closure
    return None


def closure_message(closure: Mapping[str, Any], language: str) -> Message:
    """What a caller hears instead of the flow while a closure holds: its text, its prompt, or the default."""
    text = closure.get("text")
    part = Speech(text) if text else PromptRef(closure.get("prompt") or "emergency-closed")
    return Message((part,), language)
