"""One contact flow run offline, as a call to one of a workspace's numbers would run it: on a virtual clock, with
a scripted caller and a scripted world, reported as plain data (`flow_report`). `callboard flow test` runs it;
tests can call `run_offline` directly.

The run has the variables a real call has (`flows.workspace_ivr.call_variables`), the number's language, time zone
and hours, the workspace's CRM contacts (or the one given), and a caller who answers each ask from `digits` (an
empty answer is silence: the timeout passes at once on the virtual clock) and hangs up when they run out.
Nothing touches the network: a `lookup` node gets the canned reply for its URL (the exact URL, then without its
query string) or takes its fallback exit, unless `live_http` sends the request. Queue outcomes and transfers
are scripted; voicemails and callbacks are taken.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from callboard.app.flow_report import RecordingConversation, RunContext, report
from callboard.app.ivr import send_http
from callboard.config.model import Workspace
from callboard.core.clock import VirtualClock
from callboard.flows.catalog import LANGUAGES
from callboard.flows.conversation import HttpRequest, HttpResult, QueueOutcome
from callboard.flows.numbers import Number, caller_number
from callboard.flows.runner import FlowRunner
from callboard.flows.scripted import HangUp
from callboard.flows.spoken import PromptBook
from callboard.flows.workspace_ivr import (
    WorkspaceIvr,
    build_workspace_ivr,
    call_variables,
    calling_number,
    closure_for,
    closure_message,
)

__all__ = ["OFFLINE_CALL_SID", "OfflineCall", "OfflineError", "OfflineServices", "instant_at", "run_offline"]

OFFLINE_CALL_SID = "CA-offline"


class OfflineError(Exception):
    """What was asked for cannot run (no such flow, number or time): one line, and the exit code to leave with
    (2: the request is malformed; 1: it names something the workspace does not have)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class OfflineCall:
    """The call to try: which flow (default: the number's), to which number (default: the first that runs the
    flow), from whom, when (an instant, or text as `instant_at` reads it; default: now) and what happens."""

    flow: str | None = None
    number: str | None = None
    caller: str = ""
    at: float | str | None = None
    digits: Sequence[str | HangUp | None] = ()
    language: str | None = None
    contact: Mapping[str, Any] | None = None  # the caller as a CRM contact (name, vip, manager, ...)
    lookups: Mapping[str, Any] = field(default_factory=dict)  # URL -> the JSON reply
    live_http: bool = False
    queue_outcomes: Sequence[QueueOutcome] = ()
    transfer_fails: bool = False


async def run_offline(
    space: Workspace,
    call: OfflineCall,
    *,
    workspace_id: str | None = None,
    closures: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Runs `call` in `space` and returns the report (`flow_report.report`). `workspace_id` is what the flow's
    `workspace` variable holds (a store's sid; default the name); `closures` the emergency switch's."""
    if call.language is not None and call.language not in LANGUAGES:
        raise OfflineError(f"language {call.language!r} is not one of {', '.join(sorted(LANGUAGES))}")
    ivr = _build(space)
    chosen, flow = _number(space, ivr, call.number, call.flow)
    if flow not in ivr.flows.flows:
        known = ", ".join(sorted(ivr.flows.flows)) or "none"
        raise OfflineError(f"no flow is named {flow!r} in workspace {space.name} (flows: {known})", 1)
    others = [n.e164 for n in ivr.numbers.values() if n.flow == flow and n != chosen] if call.number is None else []
    if chosen is not None and call.language is not None:
        chosen = dataclasses.replace(chosen, language=call.language)
    zone = chosen.time_zone if chosen is not None else "UTC"
    instant = instant_at(call.at, zone) if isinstance(call.at, str) else (call.at or time.time())

    if chosen is not None:
        caller = calling_number(call.caller, chosen)
    else:
        caller = caller_number(call.caller, None) or call.caller
    contacts = _contacts(space)
    if call.contact is not None:
        if not caller:
            raise OfflineError("a contact needs a caller: the contact's number (--caller)")
        defaults = {"name": "caller", "vip": False, "manager": None, "language": None, "attributes": {}}
        contacts[caller] = {**defaults, **call.contact, "numbers": [caller]}
    workspace = workspace_id or space.name
    if chosen is not None:
        variables = call_variables(
            chosen, caller=call.caller, called=chosen.e164, workspace=workspace, call_sid=OFFLINE_CALL_SID, now=instant
        )
    else:
        variables = {"caller": caller, "workspace": workspace, "language": call.language or "en"}
        variables["call_sid"] = OFFLINE_CALL_SID
    clock = VirtualClock(instant)
    conversation = RecordingConversation(
        call.digits, outcomes=call.queue_outcomes, transfer_connects=not call.transfer_fails, clock=clock
    )
    services = OfflineServices(contacts, call.lookups, call.live_http)
    closure = closure_for(closures, chosen) if chosen is not None else None
    closed = closure_message(closure, chosen.language) if closure is not None and chosen is not None else None
    run = None
    if closed is None:
        run = await FlowRunner(ivr.flows, clock, services).run(flow, conversation, variables)
    context = RunContext(
        workspace=space.name,
        flow=flow,
        number=chosen,
        caller=caller,
        at=instant,
        time_zone=zone,
        variables=variables,
        schedule=ivr.schedules.get(chosen.schedule) if chosen is not None and chosen.schedule else None,
        workflows=space.workflows,
        prompts=_prompts(space),
        contact=contacts.get(caller) if caller else None,
        warnings=[*ivr.problems, *services.notes, *_others_note(chosen, others)],
        closure=closed,
    )
    return report(context, run, conversation)


class OfflineServices:
    """`FlowServices` for an offline run: contacts from a table, lookups from canned replies (exact URL, then
    without its query string); a URL without one fails (the node's fallback) unless `live` sends it."""

    def __init__(self, contacts: Mapping[str, Mapping[str, Any]], replies: Mapping[str, Any], live: bool) -> None:
        self.contacts, self.replies, self.live = contacts, replies, live
        self.notes: list[str] = []

    async def http(self, request: HttpRequest) -> HttpResult:
        for url in (request.url, request.url.split("?", 1)[0]):
            if url in self.replies:
                return HttpResult(200, self.replies[url])
        if not self.live:
            self.notes.append(f"lookup {request.method} {request.url}: no --lookup reply given, so it failed")
            raise OSError(f"no --lookup reply for {request.url}")
        async with httpx.AsyncClient() as client:
            return await send_http(client, request)

    async def find_contact(self, workspace: str, number: str) -> Mapping[str, Any] | None:
        e164 = caller_number(number, None)
        return self.contacts.get(e164) if e164 is not None else None


def instant_at(text: str, default_zone: str) -> float:
    """`text` as an instant: a local date and time in `default_zone`, or with an offset or a zone name."""
    text, zone = text.strip(), ZoneInfo(default_zone)
    head, _, tail = text.rpartition(" ")
    if head and tail[:1] in "+-":
        text = head + tail
    elif head and any(c.isalpha() for c in tail):
        try:
            zone = ZoneInfo(tail)
        except (ZoneInfoNotFoundError, ValueError):
            raise OfflineError(f"--at: unknown time zone {tail!r} (like Europe/Madrid)") from None
        text = head
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise OfflineError(
            f'--at {text!r} is not "YYYY-MM-DD HH:MM" (optionally +01:00 or a zone like Europe/Madrid)'
        ) from None
    return (local if local.tzinfo is not None else local.replace(tzinfo=zone)).timestamp()


def _build(space: Workspace) -> WorkspaceIvr:
    return build_workspace_ivr(
        flows=[dict(f.definition, name=f.name) for f in space.flows],
        schedules=[dict(s.body, name=s.name) for s in space.schedules],
        numbers=[dict(n.body, number=n.number) for n in space.numbers],
        prompts=[p.name for p in space.prompts],
        workflows=[w.name for w in space.workflows],
        queues=[q.name for q in space.queues],
        channels=[c.name for c in space.channels],
    )


def _number(space: Workspace, ivr: WorkspaceIvr, given: str | None, flow: str | None) -> tuple[Number | None, str]:
    """The number called and the flow to run."""
    if given is not None:
        regions = [None, *dict.fromkeys(n.home_region for n in ivr.numbers.values())]
        found = next(
            (ivr.numbers[e] for r in regions if (e := caller_number(given, r)) is not None and e in ivr.numbers), None
        )
        if found is None:
            known = ", ".join(ivr.numbers) or "none"
            raise OfflineError(f"workspace {space.name} has no number {given!r} (numbers: {known})", 1)
        return found, flow or found.flow
    if flow is None:
        raise OfflineError("name the FLOW to run, or the number called (--number) to run its flow")
    running = [n for n in ivr.numbers.values() if n.flow == flow]
    return (running[0] if running else None), flow


def _others_note(chosen: Number | None, others: Sequence[str]) -> list[str]:
    if chosen is None or not others:
        return []
    return [f"ran as a call to {chosen.e164}; {', '.join(others)} also run this flow (choose with --number)"]


def _contacts(space: Workspace) -> dict[str, Mapping[str, Any]]:
    """The workspace's CRM contacts by number, as the store gives them to a flow."""
    found: dict[str, Mapping[str, Any]] = {}
    for c in space.contacts or ():
        contact = {
            "name": c.name,
            "numbers": list(c.numbers),
            "vip": c.vip,
            "manager": c.manager,
            "language": c.language,
            "attributes": dict(c.attributes),
        }
        for number in c.numbers:
            found[number] = contact
    return found


def _prompts(space: Workspace) -> PromptBook:
    texts = {(p.name, language): text for p in space.prompts for language, text in p.text.items()}
    recorded = frozenset((p.name, language) for p in space.prompts for language in (*p.audio, *p.file))
    return PromptBook(texts, recorded)
