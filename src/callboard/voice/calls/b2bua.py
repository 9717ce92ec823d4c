"""The contact center's B2BUA: a caller's leg through the menu and the queue to an agent's phone.

An inbound call is answered, hears the menu and picks a department with one digit; it becomes a task in the
routing engine and hears music on hold. Each offer (reservation) the engine makes for the task rings the
agent's registered contacts in parallel; the first contact to answer accepts the offer and is bridged to the
caller, the others are cancelled. The engine owns the timeouts: a ring lasts as long as the reservation, and
when the engine times the reservation out or rescinds it the ringing stops (`offer_ended`). Either side
hanging up ends the conversation and puts the reservation in wrap-up. The call record follows each step.

`voice` does not import `routing` (DESIGN.md): `RoutingPort` is what this module needs of the routing side;
`app/` adapts the center to it and forwards the engine's events (`offer`, `offer_ended`, `task_ended`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from callboard.core import ids
from callboard.core.clock import Clock
from callboard.core.errors import CallboardError
from callboard.voice.calls.agent_calls import AgentCalls
from callboard.voice.calls.call_record import CallRecord, Outcome
from callboard.voice.calls.callbacks import Callbacks
from callboard.voice.calls.errors import DialError, LegEndedError
from callboard.voice.calls.events import (
    Hangup,
    HangupCause,
    LegEvent,
    TransferRequest,
)
from callboard.voice.calls.hold import MutualHold
from callboard.voice.calls.inbound import CallFlow, InboundCall, QueueRequest, Waited, WaitExit, WaitingRoom
from callboard.voice.calls.leg import Leg, LegState, first_to_end
from callboard.voice.calls.media import IncompatibleMediaError, MediaSettings
from callboard.voice.calls.ringing import RING_GRACE, ring_all
from callboard.voice.media.playback import Prompt
from callboard.voice.media.recorder import RecorderState
from callboard.voice.sip.call_events import CallEvent
from callboard.voice.sip.caller_id import CallerId
from callboard.voice.sip.digest import DigestClient
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import InviteSession
from callboard.voice.sip.transport_port import Destination
from callboard.voice.sip.uri import NameAddr, SipUri, Uri
from callboard.voice.sip.user_agent import UserAgent

__all__ = ["AgentContact", "B2bua", "Enqueued", "Offer", "RoutingPort"]

logger = logging.getLogger(__name__)

LEG_ENDED = (LegEndedError, IncompatibleMediaError)
TRANSFEROR_GRACE = 5.0  # seconds a transferring phone has to hang up by itself
NUMBER = re.compile(r"\+?[0-9]{2,32}")  # what a transfer target must look like to go out through the trunk
FAILED_TRANSFER = {HangupCause.BUSY: 486, HangupCause.REJECTED: 603, HangupCause.NO_ANSWER: 480}


class _Finished:
    """The call ended during a transfer (an outside number took it to its end)."""


FINISHED = _Finished()


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


@dataclass(frozen=True)
class TrunkRoute:
    """How calls leave through the trunk: its URI (numbers become its user part), where to send, the digest
    credentials it challenges for, and the caller ID to present (default: the caller's own number)."""

    uri: SipUri
    destination: Destination | None = None
    credentials: DigestClient | None = None
    caller_id: CallerId | None = None
    ring_seconds: float = 45.0

    def target(self, number: str) -> SipUri:
        return SipUri(self.uri.host, number, port=self.uri.port, scheme=self.uri.scheme)


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


class RoutingPort(Protocol):
    """What the B2BUA needs of the routing side and the store (implemented in `app/`)."""

    async def agent(self, username: str) -> tuple[str, str] | None:
        """The workspace and worker of the user `username` (an agent placing a call), or None."""
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

    async def update(self, workspace_sid: str, task_sid: str, attributes: dict[str, Any]) -> None:
        """Merges `attributes` into the task's (a caller who asked for a callback keeps their place)."""
        ...

    async def callback_failed(self, workspace_sid: str, task_sid: str) -> None:
        """The customer of a callback did not answer: try again later as the task's attributes say."""
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


@dataclass(eq=False)
class _Call:
    """One inbound call in the B2BUA: its leg, its record, its task and the offers ringing for it."""

    leg: Leg
    record: CallRecord
    caller_id: NameAddr
    enqueued: Enqueued | None = None
    rings: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    connected: asyncio.Future[tuple[Leg, Offer]] | None = None
    task_gone: asyncio.Future[str] | None = None
    agent: Leg | None = None
    early_offers: dict[str, Offer] = field(default_factory=dict)
    inbound: InboundCall | None = None
    finished: bool = False


class B2bua:
    """Runs every inbound call of a node (`UserAgentUser`) and hears the routing engine's offers for them."""

    def __init__(
        self,
        ua_factory: Callable[[B2bua], UserAgent] | None,
        routing: RoutingPort,
        settings: MediaSettings,
        flow: CallFlow,
        clock: Clock,
        *,
        attributes: Mapping[str, Any] | None = None,
        recordings_dir: Path | None = None,
        contact_host: str = "callboard.invalid",
        answer_delay: float = 0.0,
        trunk: TrunkRoute | None = None,
    ) -> None:
        self.routing = routing
        self.settings = settings
        self.flow = flow
        self.clock = clock
        self.attributes = dict(attributes or {})
        self.recordings_dir = recordings_dir
        self.contact_host = contact_host
        self.answer_delay = answer_delay  # seconds of ringing before the answer (0: answer at once)
        self.trunk = trunk
        self.agent_ring_seconds = 30.0  # how long an agent's call to a colleague rings
        self.callback_failed_prompt: Prompt | None = (
            None  # told to the agent when a callback's customer does not answer
        )
        self.agent_calls = AgentCalls(self)
        self.callbacks = Callbacks(self)
        self.ua: UserAgent | None = ua_factory(self) if ua_factory is not None else None
        self._calls: dict[str, _Call] = {}
        self._by_task: dict[str, _Call] = {}
        self._early: dict[str, _Call] = {}  # reservation sid -> the call holding that offer until it knows its task
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def calls(self) -> int:
        """Calls in progress."""
        return len(self._calls) + len(self.agent_calls.calls) + len(self.callbacks.calls)

    @staticmethod
    def is_number(text: str) -> bool:
        """A dialable number (what goes out through the trunk): digits with an optional leading +."""
        return NUMBER.fullmatch(text) is not None

    def live_call_sids(self) -> set[str]:
        return set(self._calls)

    async def close(self) -> None:
        """Hangs up every call (the node is stopping) and waits for them to finish."""
        for call in list(self._calls.values()):
            for leg in (call.leg, call.agent):
                if leg is not None and leg.state is not LegState.ENDED:
                    await leg.hangup()
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # UserAgentUser

    def on_incoming_call(self, call: IncomingCall) -> None:
        if call.authenticated_user is not None:  # one of our agents, calling from their phone
            self.agent_calls.start(call, call.authenticated_user)
            return
        leg = Leg.incoming(call, self.settings)
        caller = call.invite.headers.from_ or NameAddr(SipUri(self.contact_host, "anonymous"))
        user = caller.uri.user if isinstance(caller.uri, SipUri) else None
        called = call.invite.uri.user if isinstance(call.invite.uri, SipUri) else None
        record = CallRecord(
            sid=ids.new_sid(ids.CALL),
            direction="inbound",
            caller=user or str(caller.uri),
            called=called or str(call.invite.uri),
            from_uri=str(caller.uri),
            to_uri=str(call.invite.uri),
            started_at=self.clock.now(),
        )
        caller_id = NameAddr(SipUri(self.contact_host, user or "anonymous"), caller.display_name or user)
        entry = _Call(leg, record, caller_id)
        self._calls[record.sid] = entry
        self._spawn(self._serve(entry), f"call-{record.sid}")

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        logger.debug("event %s for %r, which no leg owns", event, call)

    # The routing engine's events, forwarded by the app

    def offer(self, offer: Offer) -> None:
        """The engine reserved a worker for a call's task: ring the worker's phones. An offer for a task the
        call has not heard of yet (the engine offers as it creates the task, and the event may be read before
        `enqueue` returns) waits with the call until it has."""
        call = self._by_task.get(offer.task_sid)
        if call is None and offer.call_sid is not None:
            call = self._calls.get(offer.call_sid)
        if call is None and offer.callback_number is not None:
            self.callbacks.offer(offer)
            return
        if call is None or offer.reservation_sid in call.rings:
            return
        if call.enqueued is None or call.enqueued.task_sid != offer.task_sid:
            call.early_offers[offer.reservation_sid] = offer
            self._early[offer.reservation_sid] = call
            return
        ring = self._spawn(self._ring(call, call.enqueued, offer), f"ring-{offer.reservation_sid}")
        call.rings[offer.reservation_sid] = ring

    def offer_ended(self, task_sid: str, reservation_sid: str) -> None:
        """The reservation timed out, was rescinded or canceled: stop ringing for it."""
        self.callbacks.offer_ended(reservation_sid)
        call = self._by_task.get(task_sid)
        ring = call.rings.pop(reservation_sid, None) if call is not None else None
        if ring is not None:
            ring.cancel()
        waiting = self._early.pop(reservation_sid, None)
        if waiting is not None:
            waiting.early_offers.pop(reservation_sid, None)

    def task_ended(self, task_sid: str, reason: str) -> None:
        """The task was canceled or completed outside the call (TTL, a supervisor): the caller is told."""
        call = self._by_task.get(task_sid)
        if call is not None and call.task_gone is not None and not call.task_gone.done():
            call.task_gone.set_result(reason)

    # One call

    async def _serve(self, call: _Call) -> None:
        record = call.record
        try:
            record.workspace_sid = await self.routing.workspace_for(record.called)
            if record.workspace_sid is None:
                logger.warning("call %s to %s: no workspace takes calls", record.sid, record.called)
                await call.leg.hangup(HangupCause.REJECTED)
                return
            if self.answer_delay > 0:
                call.leg.ring()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(call.leg.wait_ended()), self.answer_delay)
            await call.leg.answer()  # before the first write: the store must not hold up the answer
            record.answered_at = self.clock.now()
            await self.routing.save_call(record.as_record())
            call.inbound = InboundCall(self, record, call.leg)
            await self.flow.run(call.inbound)
        except LEG_ENDED:
            pass
        except Exception:
            logger.exception("call %s failed", record.sid)
            if call.inbound is not None:
                call.inbound.outcome = Outcome.FAILED
        finally:
            try:
                await self._close(call)
            finally:
                self._forget(call)

    async def _close(self, call: _Call) -> None:
        """The flow is over: the caller is hung up (if still there) and the record finished, once."""
        if call.finished or call.record.workspace_sid is None:
            return
        hangup = await call.leg.hangup()
        chosen = call.inbound.outcome if call.inbound is not None else None
        if hangup.cause is HangupCause.INCOMPATIBLE_MEDIA:
            outcome = Outcome.FAILED
        elif chosen is not None:
            outcome = chosen
        else:
            outcome = Outcome.ABANDONED if hangup.remote else Outcome.IVR
        await self._finish(call, outcome, hangup.cause, by="caller" if hangup.remote else "system")

    # What a flow asks of the B2BUA (through InboundCall)

    def enqueued(self, call_sid: str) -> Enqueued | None:
        call = self._calls.get(call_sid)
        return call.enqueued if call is not None else None

    async def queue(self, call_sid: str, request: QueueRequest) -> Waited:
        """Queues the caller for an agent and waits (see `InboundCall.enqueue`)."""
        call = self._calls[call_sid]
        record = call.record
        attributes = {
            **self.attributes,
            **request.attributes,
            "caller": record.caller,
            "called": record.called,
            "call_sid": record.sid,
        }
        assert record.workspace_sid is not None
        try:
            enqueued: Enqueued | Waited = await self.routing.enqueue(
                record.workspace_sid, record.sid, attributes, workflow=request.workflow,
                priority=request.priority, ttl=request.timeout, known_worker=request.known_worker,
            )  # fmt: skip
        except CallboardError as exc:
            logger.warning("call %s: no task: %s", record.sid, exc)
            return Waited.FAILED
        record.enqueued_at, record.attributes = self.clock.now(), attributes
        while isinstance(enqueued, Enqueued):  # a transfer puts the caller back in a queue
            enqueued = await self._wait_for_agent(call, enqueued, request.waiting)
        return enqueued

    async def send_elsewhere(self, call_sid: str, target: str) -> bool:
        """Connects the caller to an outside number through the trunk (or a SIP URI) until either hangs up."""
        call = self._calls[call_sid]
        record, caller = call.record, call.leg
        assert self.ua is not None
        uri: Uri
        if self.is_number(target) and self.trunk is not None:
            trunk = self.trunk
            uri, destination, credentials = trunk.target(target), trunk.destination, trunk.credentials
        else:
            try:
                uri, destination, credentials = SipUri.parse(target), None, None
            except ValueError:
                logger.info("call %s: cannot send the caller to %r", record.sid, target)
                return False
        try:
            other = await Leg.dial(
                self.ua, uri, self.settings, destination=destination, caller_id=CallerId(record.caller),
                ring_timeout=self.trunk.ring_seconds if self.trunk else 45.0,
                credentials=credentials.new_session() if credentials else None,
            )  # fmt: skip
        except (CallboardError, OSError) as exc:
            logger.info("call %s: sending the caller to %s failed: %s", record.sid, target, exc)
            return False
        record.attributes.setdefault("transfers", []).append({"to": target, "external": True, "at": self.clock.now()})
        if caller.state is not LegState.ANSWERED:
            await other.hangup()
            return False
        caller.stop_playback()
        caller.bridge(other)
        await self._record(call)
        ended, first = await first_to_end(caller, other)
        await caller.hangup()
        await other.hangup()
        by = "caller" if ended is caller else "called"
        await self._finish(call, Outcome.COMPLETED, first.cause, by=by)
        return True

    async def _wait_for_agent(self, call: _Call, enqueued: Enqueued, waiting: WaitingRoom | None) -> Enqueued | Waited:
        """Music (or the waiting room) until an agent answers (then the conversation), the caller leaves, the
        task ends or the waiting room takes the caller out; the task the caller is transferred to, if the agent
        transfers the call."""
        record, leg = call.record, call.leg
        loop = asyncio.get_running_loop()
        call.connected, call.task_gone = loop.create_future(), loop.create_future()
        call.enqueued = enqueued
        self._by_task[enqueued.task_sid] = call
        record.task_sid = enqueued.task_sid  # written with the next step: the task has its own record meanwhile
        early, call.early_offers = call.early_offers, {}
        for offer in early.values():
            del self._early[offer.reservation_sid]
            self.offer(offer)
        room: asyncio.Future[WaitExit] | None = None
        if waiting is not None and leg.state is LegState.ANSWERED:
            room = asyncio.ensure_future(waiting.wait(leg, enqueued.workspace_sid, enqueued.task_sid))
        elif leg.state is LegState.ANSWERED and self.settings.hold_music is not None:
            leg.queue_playback(self.settings.hold_music, loop=True)
        caller_gone = asyncio.ensure_future(leg.wait_ended())
        try:
            waits: set[asyncio.Future[Any]] = {caller_gone, call.connected, call.task_gone}
            if room is not None:
                waits.add(room)
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for future in (caller_gone, room):
                if future is not None and not future.done():
                    future.cancel()
        if call.connected.done() and not call.connected.cancelled():
            if room is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await room  # the waiting room stops its prompts before the caller meets the agent
                leg.stop_playback()
            agent, offer = call.connected.result()
            moved = await self._talk(call, enqueued, agent, offer)
            return moved if moved is not None else Waited.COMPLETED
        if caller_gone in done:
            await self._abandoned(call, enqueued)
            return Waited.HUNG_UP
        if room is not None and room in done and not room.cancelled() and room.exception() is None:
            return await self._leave_queue(call, enqueued, room.result())
        if room is not None and room in done and not room.cancelled() and room.exception() is not None:
            logger.error("call %s: the waiting room failed", record.sid, exc_info=room.exception())
            return await self._leave_queue(call, enqueued, WaitExit(Waited.TIMEOUT))
        self._no_agent(call, call.task_gone.result())
        return Waited.TIMEOUT

    async def _leave_queue(self, call: _Call, enqueued: Enqueued, exit_: WaitExit) -> Waited:
        """The waiting room takes the caller out of the queue: for a callback the task stays (and is offered as a
        callback); otherwise it is canceled and the flow goes on."""
        record, leg = call.record, call.leg
        self._stop_rings(call)
        self._by_task.pop(enqueued.task_sid, None)
        record.wait_seconds = self.clock.now() - (record.enqueued_at or self.clock.now())
        leg.stop_playback()
        ws, task = enqueued.workspace_sid, enqueued.task_sid
        if exit_.reason is Waited.CALLBACK and exit_.callback_number:
            attributes = {**exit_.callback_attributes, "callback_number": exit_.callback_number, "call_sid": None}
            try:
                await self.routing.update(ws, task, {**attributes, "callback_of": record.sid})
            except CallboardError as exc:
                logger.warning("call %s: callback not kept: %s", record.sid, exc)
                return Waited.FAILED
            record.attributes["callback_number"] = exit_.callback_number
            self._set_outcome(call, Outcome.CALLBACK)
            return Waited.CALLBACK
        reason = "max wait" if exit_.reason is Waited.TIMEOUT else "no agents"
        try:
            await self.routing.cancel(ws, task, reason)
        except CallboardError as exc:
            logger.info("task %s of call %s not canceled: %s", task, record.sid, exc)
        self._set_outcome(call, Outcome.NO_AGENT)
        return exit_.reason if exit_.reason is not Waited.CALLBACK else Waited.FAILED

    @staticmethod
    def _set_outcome(call: _Call, outcome: Outcome) -> None:
        if call.inbound is not None:
            call.inbound.outcome = outcome

    async def _talk(self, call: _Call, enqueued: Enqueued, agent: Leg, offer: Offer) -> Enqueued | None:
        record, caller = call.record, call.leg
        now = self.clock.now()
        record.worker_sid, record.queue_sid = offer.worker_sid, offer.queue_sid
        if record.agent_answered_at is None:
            record.agent_answered_at = now
            record.wait_seconds = now - (record.enqueued_at or now)
        if caller.state is LegState.ENDED or agent.state is LegState.ENDED:
            await agent.hangup()
        else:
            caller.bridge(agent)
            await self._record(call)
        await self.routing.save_call(record.as_record())
        hold = MutualHold(caller, agent, self.settings.hold_music, self.clock)
        transfers: asyncio.Queue[TransferRequest] = asyncio.Queue()

        def hear_caller(event: LegEvent) -> None:
            hold.on_event(event)
            if isinstance(event, TransferRequest):  # a caller's phone does not move our calls around
                caller.report_transfer(403, event.refer_id)

        def hear_agent(event: LegEvent) -> None:
            hold.on_event(event)
            if isinstance(event, TransferRequest):
                transfers.put_nowait(event)

        caller.subscribe(hear_caller)
        agent.subscribe(hear_agent)
        caller_end = asyncio.ensure_future(caller.wait_ended())
        agent_end = asyncio.ensure_future(agent.wait_ended())
        try:
            while True:
                asked = asyncio.ensure_future(transfers.get())
                done, _ = await asyncio.wait({caller_end, agent_end, asked}, return_when=asyncio.FIRST_COMPLETED)
                if asked not in done:
                    asked.cancel()
                    break
                moved = await self._transfer(call, enqueued, agent, offer, asked.result())
                if moved is FINISHED:
                    return None
                if isinstance(moved, Enqueued):
                    record.talk_seconds += self.clock.now() - now
                    record.hold_seconds += hold.seconds()
                    return moved
        finally:
            caller.unsubscribe(hear_caller)
            agent.unsubscribe(hear_agent)
        first: Hangup = (caller_end if caller_end in done else agent_end).result()
        by = "caller" if caller_end in done and first.remote else "agent" if agent_end in done else "system"
        await caller.hangup()
        await agent.hangup()
        await self.routing.wrap_up(enqueued.workspace_sid, offer.reservation_sid)
        record.talk_seconds += self.clock.now() - now
        record.hold_seconds += hold.seconds()
        await self._finish(call, Outcome.COMPLETED, first.cause, by=by)
        return None

    async def _record(self, call: _Call) -> None:
        """Records the conversation, or resumes its recording after a transfer."""
        record, caller = call.record, call.leg
        if caller.recorder is not None:
            if caller.recorder.state is RecorderState.PAUSED:
                caller.recorder.resume()
            return
        if self.recordings_dir is None or record.recording_path is not None:
            return
        path = self.recordings_dir / f"{record.sid}.wav"
        try:
            await caller.record(path)
            record.recording_path = str(path)
        except (OSError, LegEndedError) as exc:
            logger.warning("call %s is not recorded: %s", record.sid, exc)

    async def _transfer(
        self, call: _Call, enqueued: Enqueued, agent: Leg, offer: Offer, asked: TransferRequest
    ) -> Enqueued | _Finished | None:
        """The agent's phone transfers the caller. Blind (a REFER) to a queue or an agent, by name: the task moves
        there in the routing engine, the agent goes to wrap-up and is hung up, the caller waits for the next
        agent; to a number: out through the trunk. Attended: see `_transfer_attended`. None (the agent keeps the
        caller) when the target is unknown."""
        if asked.attended:
            return await self._transfer_attended(call, enqueued, agent, offer, asked)
        if asked.user is None:
            agent.report_transfer(404, asked.refer_id)
            return None
        try:
            moved = await self.routing.transfer(enqueued.workspace_sid, enqueued.task_sid, asked.user)
        except CallboardError as exc:
            if self.trunk is not None and self.is_number(asked.user):
                return await self._transfer_out(call, enqueued, agent, offer, asked, asked.user)
            logger.info("call %s: transfer to %s refused: %s", call.record.sid, asked.user, exc)
            agent.report_transfer(404, asked.refer_id)
            return None
        agent.report_transfer(200, asked.refer_id)
        transfers = call.record.attributes.setdefault("transfers", [])
        transfers.append({"from_worker_sid": offer.worker_sid, "to": asked.user, "at": self.clock.now()})
        caller = call.leg
        if caller.state is LegState.BRIDGED:
            caller.split()
        if caller.recorder is not None and caller.recorder.state is RecorderState.RECORDING:
            caller.recorder.pause()
        self._by_task.pop(enqueued.task_sid, None)
        # Offers of the new task that come before `_wait_for_agent` takes it wait with the call (`offer`).
        await _let_go(agent)
        return moved

    async def _transfer_out(
        self, call: _Call, enqueued: Enqueued, agent: Leg, offer: Offer, asked: TransferRequest, number: str
    ) -> _Finished | None:
        """A transfer to an outside number: the trunk is called while the agent still holds the caller; once the
        number answers, the caller is connected to it and the agent wraps up. None when it does not answer."""
        assert self.trunk is not None and self.ua is not None
        trunk, record = self.trunk, call.record
        try:
            outside = await Leg.dial(
                self.ua, trunk.target(number), self.settings, destination=trunk.destination,
                ring_timeout=trunk.ring_seconds, caller_id=trunk.caller_id or CallerId(record.caller),
                credentials=trunk.credentials.new_session() if trunk.credentials else None,
            )  # fmt: skip
        except (CallboardError, OSError) as exc:
            status = FAILED_TRANSFER.get(exc.cause, 503) if isinstance(exc, DialError) else 503
            logger.info("call %s: the transfer to %s failed: %s", record.sid, number, exc)
            agent.report_transfer(status, asked.refer_id)
            return None
        agent.report_transfer(200, asked.refer_id)
        moved = {"from_worker_sid": offer.worker_sid, "to": number, "external": True}
        return await self._hand_over(call, enqueued, agent, offer, outside, moved)

    async def _transfer_attended(
        self, call: _Call, enqueued: Enqueued, agent: Leg, offer: Offer, asked: TransferRequest
    ) -> _Finished | None:
        """The agent talked to a colleague first (their own call through us) and now transfers the caller to
        them, replacing that call: the caller is connected to the colleague's leg, the agent wraps up."""
        session = agent.replaced_call(asked.refer_id)
        consult = next((c for c in self.agent_calls.calls.values() if session and c.phone.call is session), None)
        colleague = self.agent_calls.take_over(consult) if consult is not None else None
        if consult is None or colleague is None:
            agent.report_transfer(481, asked.refer_id)  # no such call of ours to replace
            return None
        agent.report_transfer(200, asked.refer_id)
        moved = {"from_worker_sid": offer.worker_sid, "to": consult.record.called, "attended": True}
        with contextlib.suppress(*LEG_ENDED):
            await consult.phone.hangup()
        return await self._hand_over(call, enqueued, agent, offer, colleague, moved)

    async def _hand_over(
        self, call: _Call, enqueued: Enqueued, agent: Leg, offer: Offer, other: Leg, moved: dict[str, Any]
    ) -> _Finished:
        """The agent is done (wrap-up, hung up); the caller talks to `other` until either hangs up."""
        record, caller = call.record, call.leg
        now = self.clock.now()
        record.attributes.setdefault("transfers", []).append({**moved, "at": now})
        if caller.state is LegState.BRIDGED:
            caller.split()
        connected = caller.state is LegState.ANSWERED and other.state is LegState.ANSWERED
        if connected:
            caller.bridge(other)
            await self._record(call)
        await _let_go(agent)
        await self.routing.wrap_up(enqueued.workspace_sid, offer.reservation_sid)
        if not connected:
            await other.hangup()
            hangup = await caller.hangup()
            await self._finish(call, Outcome.COMPLETED, hangup.cause, by="caller")
            return FINISHED
        ended, first = await first_to_end(caller, other)  # both may have ended during the grace
        await caller.hangup()
        await other.hangup()
        record.talk_seconds += self.clock.now() - now
        await self._finish(call, Outcome.COMPLETED, first.cause, by="caller" if ended is caller else "called")
        return FINISHED

    async def _abandoned(self, call: _Call, enqueued: Enqueued) -> None:
        self._stop_rings(call)
        try:
            await self.routing.cancel(enqueued.workspace_sid, enqueued.task_sid, "caller hung up")
        except CallboardError as exc:
            logger.info("task %s of call %s not canceled: %s", enqueued.task_sid, call.record.sid, exc)
        hangup = await call.leg.wait_ended()
        call.record.wait_seconds = self.clock.now() - (call.record.enqueued_at or self.clock.now())
        await self._finish(call, Outcome.ABANDONED, hangup.cause, by="caller")

    def _no_agent(self, call: _Call, reason: str) -> None:
        self._stop_rings(call)
        call.record.wait_seconds = self.clock.now() - (call.record.enqueued_at or self.clock.now())
        call.leg.stop_playback()
        logger.info("call %s: its task ended (%s)", call.record.sid, reason)
        self._set_outcome(call, Outcome.NO_AGENT)

    async def _finish(self, call: _Call, outcome: Outcome, cause: HangupCause, *, by: str) -> None:
        call.record.end(self.clock.now(), outcome, cause.value, by)
        call.finished = True
        await self.routing.save_call(call.record.as_record())

    def _forget(self, call: _Call) -> None:
        self._stop_rings(call)
        self._calls.pop(call.record.sid, None)
        if call.enqueued is not None:
            self._by_task.pop(call.enqueued.task_sid, None)
        for reservation_sid in call.early_offers:
            self._early.pop(reservation_sid, None)

    def _stop_rings(self, call: _Call) -> None:
        for ring in call.rings.values():
            ring.cancel()
        call.rings.clear()

    # Ringing an agent

    async def _ring(self, call: _Call, enqueued: Enqueued, offer: Offer) -> None:
        ws, res = enqueued.workspace_sid, offer.reservation_sid
        contacts = await self.routing.contacts(ws, offer.worker_sid)
        if not contacts:
            logger.info("call %s: worker %s has no phone registered", call.record.sid, offer.worker_sid)
            await self._reject(call, ws, res, unreachable=True)
            return
        try:
            agent = await self._first_answer(call, contacts, offer)
        except DialError as exc:
            if exc.cause in (HangupCause.BUSY, HangupCause.REJECTED):
                await self._reject(call, ws, res, unreachable=False)
            elif exc.cause is not HangupCause.NO_ANSWER:
                await self._reject(call, ws, res, unreachable=True)
            return  # no answer: the engine times the reservation out
        except (CallboardError, OSError) as exc:  # no RTP port, the transport failed...
            logger.info("call %s: ringing worker %s failed: %s", call.record.sid, offer.worker_sid, exc)
            await self._reject(call, ws, res, unreachable=True)
            return
        call.rings.pop(res, None)  # answered: an offer_ended from now on must not cancel this task
        connected = call.connected
        if connected is None or connected.done() or call.leg.state is LegState.ENDED:
            await agent.hangup()
            return
        if not await self.routing.accept(ws, res):
            await agent.hangup()
            return
        if connected.done() or _ended(call.leg):  # the caller left while we accepted
            await agent.hangup()
            await self.routing.wrap_up(ws, res)
            return
        call.agent = agent
        connected.set_result((agent, offer))

    async def _reject(self, call: _Call, workspace_sid: str, reservation_sid: str, *, unreachable: bool) -> None:
        call.rings.pop(reservation_sid, None)
        try:
            await self.routing.reject(workspace_sid, reservation_sid, unreachable=unreachable)
        except CallboardError as exc:  # the offer ended meanwhile
            logger.info("reservation %s not rejected: %s", reservation_sid, exc)

    async def _first_answer(self, call: _Call, contacts: list[AgentContact], offer: Offer) -> Leg:
        assert self.ua is not None
        return await ring_all(
            self.ua,
            [(contact.uri, contact.destination) for contact in contacts],
            self.settings,
            ring_seconds=offer.ring_seconds + RING_GRACE,
            from_=call.caller_id,
            headers=[("X-Callboard-Call", call.record.sid), ("X-Callboard-Task", offer.task_sid)],
        )

    def _spawn(self, work: Any, name: str) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


async def _let_go(transferor: Leg) -> None:
    """The transferring phone hangs up once told the transfer succeeded (RFC 5589 §6.1); if it does not, we do."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(transferor.wait_ended()), TRANSFEROR_GRACE)
    await transferor.hangup()


def _ended(leg: Leg) -> bool:
    return leg.state is LegState.ENDED
