"""The IVR side of a running center: each workspace's published flows, schedules, numbers, waiting options and
emergency closures, read from the store into an immutable snapshot, and the `CallFlow` that runs a call to one
of its numbers through the flow engine.

A snapshot is rebuilt after a change (`ivr_changed`, called by the API and by `apply`); a call keeps the snapshot
it started with, so publishing a flow never changes a call in progress. When no workspace has a number at all,
calls go to the built-in department menu of the first workspace with a voice channel (a fresh install answers).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from callboard.app.center import Center
from callboard.core.clock import Clock
from callboard.flows.actions import walked
from callboard.flows.conversation import HttpRequest, HttpResult
from callboard.flows.model import FlowSet
from callboard.flows.numbers import Number, caller_number
from callboard.flows.runner import FlowRun, FlowRunner
from callboard.flows.workspace_ivr import build_workspace_ivr, call_variables, closure_for, closure_message
from callboard.voice.calls.call_record import Outcome
from callboard.voice.calls.inbound import CallFlow, InboundCall

if TYPE_CHECKING:
    from callboard.app.ivr_voice import CallerVoice

__all__ = ["CenterServices", "FlowCalls", "IvrConfig", "IvrSnapshot", "send_http"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IvrSnapshot:
    """One workspace's IVR configuration as published at one moment."""

    workspace_sid: str
    flows: FlowSet
    numbers: Mapping[str, Number]  # by E.164
    waiting: Mapping[str, Mapping[str, Any]]  # queue name -> its waiting options
    closures: tuple[Mapping[str, Any], ...] = ()
    prompts: frozenset[str] = frozenset()
    problems: tuple[str, ...] = ()  # what did not build (stored data a newer version no longer accepts)

    def closure(self, number: Number) -> Mapping[str, Any] | None:
        """The emergency closure that holds for `number` now (its own, or its site's), if any."""
        return closure_for(self.closures, number)


@dataclass
class IvrConfig:
    """Snapshots per workspace, rebuilt on demand after a change, and the index of numbers to workspaces."""

    center: Center
    _snapshots: dict[str, IvrSnapshot] = field(default_factory=dict)
    _numbers: dict[str, str] | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def ivr_changed(self, workspace_sid: str) -> None:
        """The API or `apply` changed a workspace's flows, numbers, schedules, prompts or closures."""
        self._snapshots.pop(workspace_sid, None)
        self._numbers = None

    async def number(self, called: str) -> tuple[IvrSnapshot, Number] | None:
        """The workspace snapshot and number a call to `called` reaches, or None."""
        e164 = caller_number(called, None)
        index = await self._index()
        workspace_sid = index.get(e164) if e164 is not None else None
        if workspace_sid is None:
            return None
        snapshot = await self.snapshot(workspace_sid)
        number = snapshot.numbers.get(e164) if e164 is not None else None
        return (snapshot, number) if number is not None else None

    async def has_numbers(self) -> bool:
        return bool(await self._index())

    async def snapshot(self, workspace_sid: str) -> IvrSnapshot:
        snapshot = self._snapshots.get(workspace_sid)
        if snapshot is None:
            async with self._lock:
                snapshot = self._snapshots.get(workspace_sid)
                if snapshot is None:
                    snapshot = self._snapshots[workspace_sid] = await self._build(workspace_sid)
        return snapshot

    async def _index(self) -> dict[str, str]:
        if self._numbers is None:
            index: dict[str, str] = {}
            for workspace_sid in self.center.workspaces():
                for document in await self.center.store.list_documents(workspace_sid, "number"):
                    index[document["name"]] = workspace_sid
            self._numbers = index
        return self._numbers

    async def _build(self, workspace_sid: str) -> IvrSnapshot:
        store, engine = self.center.store, self.center.workspace(workspace_sid)
        ivr = build_workspace_ivr(
            flows=[dict(f["definition"], name=f["name"]) for f in await store.list_flows(workspace_sid)],
            schedules=[dict(d["body"], name=d["name"]) for d in await store.list_documents(workspace_sid, "schedule")],
            numbers=[dict(d["body"], number=d["name"]) for d in await store.list_documents(workspace_sid, "number")],
            prompts=[p["name"] for p in await store.list_prompts(workspace_sid)],
            workflows=[w.friendly_name for w in engine.workflows.values()],
            queues=[q.friendly_name for q in engine.queues.values()],
            channels=engine.channels,
        )
        for problem in ivr.problems:
            log.error("workspace %s: stored IVR configuration: %s", workspace_sid, problem)
        waiting = {d["name"]: d["body"] for d in await store.list_documents(workspace_sid, "queue_waiting")}
        return IvrSnapshot(
            workspace_sid,
            ivr.flows,
            ivr.numbers,
            waiting,
            tuple(await store.list_closures(workspace_sid)),
            ivr.catalog.prompts,
            ivr.problems,
        )


class CenterServices:
    """`FlowServices` over the store (CRM contacts) and HTTP (lookups)."""

    def __init__(self, center: Center, client: httpx.AsyncClient | None = None) -> None:
        self.center = center
        self.client = client or httpx.AsyncClient()

    async def http(self, request: HttpRequest) -> HttpResult:
        return await send_http(self.client, request)

    async def find_contact(self, workspace: str, number: str) -> Mapping[str, Any] | None:
        e164 = caller_number(number, None)
        if e164 is None:
            return None
        contact: Mapping[str, Any] | None = await self.center.store.find_contact(workspace, e164)
        return contact

    async def close(self) -> None:
        await self.client.aclose()


class FlowCalls:
    """The B2BUA's `CallFlow` for a center: the number called picks the workspace, its flow, language and hours;
    an emergency closure answers with its message instead. `fallback` runs calls when no number is configured."""

    def __init__(
        self, config: IvrConfig, voice: CallerVoice, services: CenterServices, clock: Clock, fallback: CallFlow
    ) -> None:
        self.config = config
        self.voice = voice
        self.services = services
        self.clock = clock
        self.fallback = fallback

    async def run(self, call: InboundCall) -> None:
        found = await self.config.number(call.called)
        if found is None:
            await self.fallback.run(call)
            return
        snapshot, number = found
        closure = snapshot.closure(number)
        if closure is not None:
            await self.voice.say(call, snapshot, closure_message(closure, number.language))
            call.outcome = Outcome.IVR
            return
        conversation = self.voice.conversation(call, snapshot, number)
        runner = FlowRunner(snapshot.flows, self.clock, self.services)
        run = await runner.run(number.flow, conversation, self.variables(call, snapshot, number))
        log.info("call %s: flow %s ended (%s) after %d steps", call.sid, number.flow, run.end, len(run.steps))
        record = call.record
        kept = record.attributes.get("flow")
        # After a queue the record's attributes are (a copy of) the task's, whose `flow` is the path up to the
        # queue; the whole run replaces it. A finished summary (one with its `end`) is kept as it is.
        if not (isinstance(kept, dict) and "end" in kept):
            record.attributes = {**record.attributes, "flow": _flow_summary(run)}
            if record.ended_at is not None:  # the call ended with an agent, and its record was stored then
                await call.save()

    def variables(self, call: InboundCall, snapshot: IvrSnapshot, number: Number) -> dict[str, Any]:
        """The variables the call starts its flow with, as `callboard flow test` gives them too."""
        return call_variables(
            number,
            caller=call.caller,
            called=call.called,
            workspace=snapshot.workspace_sid,
            call_sid=call.sid,
            now=self.clock.now(),
        )


async def send_http(client: httpx.AsyncClient, request: HttpRequest) -> HttpResult:
    """A flow's `lookup` request sent: a timeout is `TimeoutError`, any other failure `OSError` (the node's
    fallback exit), a reply that is not JSON has no data."""
    try:
        response = await client.request(request.method, request.url, json=request.body, timeout=request.timeout)
    except httpx.TimeoutException as exc:
        raise TimeoutError(str(exc)) from exc
    except httpx.HTTPError as exc:
        raise OSError(str(exc)) from exc
    try:
        data = response.json()
    except ValueError:
        data = None
    return HttpResult(response.status_code, data, dict(response.headers))


def _flow_summary(run: FlowRun) -> dict[str, Any]:
    """What the call record keeps of a flow run, for reports of where callers went and left: how it ended (and
    how its last queue ended) besides what `walked` keeps."""
    summary: dict[str, Any] = {"name": run.flow, "end": str(run.end)}
    if run.outcome is not None:  # how the last queue ended: completed, hung_up, callback, timed_out...
        summary["outcome"] = run.outcome.value
    return {**summary, **{k: v for k, v in walked(run.steps, run.variables).items() if k != "name"}}
