"""The contact center's B2BUA: a caller's leg through the menu and the queue to an agent's phone.

An inbound call is answered, hears the menu and picks a department with one digit; it becomes a task in the
routing engine and hears music on hold. Each offer (reservation) the engine makes for the task rings the
agent's registered contacts in parallel; the first contact to answer accepts the offer and is bridged to the
caller, the others are cancelled. The engine owns the timeouts: a ring lasts as long as the reservation, and
when the engine times the reservation out or rescinds it the ringing stops (`offer_ended`). Either side
hanging up ends the conversation and puts the reservation in wrap-up. The call record follows each step.

This module keeps the calls and hears the engine's events; the wait in a queue and the conversation are in
`queueing`, transfers and the flow's `send_elsewhere` in `transfers`, callbacks in `callbacks` and the calls
agents place in `agent_calls`. `voice` does not import `routing` (DESIGN.md): `RoutingPort` (`ports`) is what
these need of the routing side; `app/` adapts the center to it and forwards the engine's events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callboard.core import ids
from callboard.core.clock import Clock
from callboard.core.errors import NotFoundError
from callboard.voice.calls.agent_calls import AgentCalls
from callboard.voice.calls.agent_phones import AgentPhones
from callboard.voice.calls.call_record import CallRecord, Outcome
from callboard.voice.calls.callbacks import Callbacks
from callboard.voice.calls.desk_phones import DeskPhones
from callboard.voice.calls.errors import DialError
from callboard.voice.calls.events import HangupCause
from callboard.voice.calls.inbound import CallFlow, InboundCall, QueueRequest, Waited
from callboard.voice.calls.leg import Leg, LegState
from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.monitoring import LiveCall, Monitoring
from callboard.voice.calls.offers import WEBRTC
from callboard.voice.calls.page_dial import PageDials
from callboard.voice.calls.ports import AgentContact, Enqueued, Offer, RoutingPort
from callboard.voice.calls.queue_consults import QueueConsults
from callboard.voice.calls.queueing import Queueing
from callboard.voice.calls.ringing import ring_all
from callboard.voice.calls.talk import end_record
from callboard.voice.calls.transfers import LEG_ENDED, Transfers
from callboard.voice.calls.trunk import TrunkRoute, dial_out, is_number
from callboard.voice.calls.webrtc_line import Ring
from callboard.voice.calls.webrtc_lines import WebRtcLines
from callboard.voice.media.playback import Prompt
from callboard.voice.sip.call_events import CallEvent
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import InviteSession
from callboard.voice.sip.uri import NameAddr, SipUri
from callboard.voice.sip.user_agent import UserAgent

UNCLAIMED_KEPT = 100  # offers of unknown tasks kept for a consultation that may claim them

__all__ = ["AgentContact", "B2bua", "Enqueued", "InboundEntry", "Offer", "RoutingPort", "TrunkRoute"]

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class InboundEntry:
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

    def set_outcome(self, outcome: Outcome) -> None:
        """How the flow's part of the call went, unless the flow says otherwise."""
        if self.inbound is not None:
            self.inbound.outcome = outcome


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
        self.callback_failed_prompt: Prompt | None = None  # told to the agent when a callback's customer is away
        self.agent_calls = AgentCalls(self)
        self.callbacks = Callbacks(self)
        self.queueing = Queueing(self)
        self.transfers = Transfers(self)
        self.lines = WebRtcLines(settings)  # agents' browser lines (the API opens them)
        # supervisors' lines, by user, and the calls they monitor; the API reaches it through the agents' lines
        self.monitoring = self.lines.monitoring = Monitoring(WebRtcLines(settings), self.live_call)
        self.lines.dial_colleague = self.dial_colleague
        self.desks = DeskPhones()  # agents' desk-phone calls as their pages steer them
        self.desks.monitoring, self.desks.dial_colleague = self.monitoring, self.dial_colleague
        self.phones = AgentPhones(self.lines, self.desks)  # the API's phone port: each agent's current call
        self.page_dials = PageDials(self)  # calls agents place from the page
        self.queue_consults = QueueConsults(self)  # the page's consultations with a queue
        self._unclaimed: dict[str, Offer] = {}  # offers of tasks no call knows (yet): a consultation's may come first
        self.lines.place_call = self.page_dials.dial
        self.ua: UserAgent | None = ua_factory(self) if ua_factory is not None else None
        self._calls: dict[str, InboundEntry] = {}
        self._by_task: dict[str, InboundEntry] = {}
        # reservation sid -> the call holding that offer until it knows its task
        self._early: dict[str, InboundEntry] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def calls(self) -> int:
        """Calls in progress."""
        return len(self._calls) + len(self.agent_calls.calls) + len(self.callbacks.calls) + len(self.page_dials.calls)

    @staticmethod
    def is_number(text: str) -> bool:
        """A dialable number (what goes out through the trunk): digits with an optional leading +."""
        return is_number(text)

    def live_call_sids(self) -> set[str]:
        return set(self._calls)

    async def close(self) -> None:
        """Hangs up every call (the node is stopping) and waits for them to finish."""
        for call in list(self._calls.values()):
            for leg in (call.leg, call.agent):
                if leg is not None and leg.state is not LegState.ENDED:
                    await leg.hangup()
        for dialed in list(self.page_dials.calls.values()):
            for leg in (dialed.agent, dialed.target):
                if leg is not None and leg.state is not LegState.ENDED:
                    await leg.hangup()
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.monitoring.close()
        await self.lines.close()

    def live_call(self, call_sid: str) -> LiveCall | None:
        """A call in progress with the leg of its customer (the caller; whom an agent called), for monitoring."""
        inbound = self._calls.get(call_sid)
        if inbound is not None:
            return LiveCall(call_sid, inbound.leg, inbound.record.workspace_sid)
        dialed = self.page_dials.calls.get(call_sid)
        if dialed is not None and dialed.target is not None:
            return LiveCall(call_sid, dialed.target, dialed.record.workspace_sid)
        for placed in self.agent_calls.calls.values():
            if placed.record.sid == call_sid and placed.target is not None and not placed.taken_over:
                return LiveCall(call_sid, placed.target, placed.record.workspace_sid)
        return None

    async def dial_colleague(self, ring: Ring, target: str) -> Leg:
        """For the page's consultation about the call `ring`: rings the agent named `target` (their browser line or
        their phones), calls the number out through the trunk, or waits for an agent of the queue named `target`;
        the answered leg. The colleague sees the caller's number."""
        if ring.workspace_sid is None:
            raise NotFoundError("the line's call has no workspace", error_id="consult_target_not_found")
        worker = await self.routing.worker_named(ring.workspace_sid, target)
        if worker is not None:
            return await self.ring_colleague(ring.workspace_sid, worker, target, ring.call_sid, caller=ring.caller)
        if self.trunk is not None and is_number(target):
            return await self.dial_number(target, caller=ring.caller)
        try:
            return await self.queue_consults.call(ring.workspace_sid, target, ring)
        except NotFoundError:
            message = f"no agent, queue or number {target!r}"
            raise NotFoundError(message, error_id="consult_target_not_found", target=target) from None

    async def ring_colleague(
        self, workspace_sid: str, worker: tuple[str, str], name: str, call_sid: str, *, caller: str
    ) -> Leg:
        """Rings an agent (worker sid and how it is reached) on their page or their phones, showing `caller`;
        the answered leg, or `DialError`."""
        from_ = NameAddr(SipUri(self.contact_host, caller), caller)
        if worker[1] == WEBRTC:
            line = self.lines.get(worker[0])
            if line is None:
                raise DialError(HangupCause.TRANSPORT_ERROR)
            ring = Ring("", "", call_sid, caller, caller, workspace_sid)
            return await line.ring(ring, self.agent_ring_seconds)
        contacts = await self.routing.contacts(workspace_sid, worker[0])
        if not contacts or self.ua is None:
            raise DialError(HangupCause.TRANSPORT_ERROR)
        return await ring_all(
            self.ua, [(c.uri, c.destination) for c in contacts], self.settings,
            ring_seconds=self.agent_ring_seconds, from_=from_, headers=[("X-Callboard-Call", call_sid)],
        )  # fmt: skip

    async def dial_number(self, number: str, *, caller: str) -> Leg:
        """Calls a number out through the trunk; the answered leg."""
        if self.ua is None:
            raise DialError(HangupCause.TRANSPORT_ERROR)
        return await dial_out(self.ua, self.settings, self.trunk, number, caller=caller)

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
        entry = InboundEntry(leg, record, caller_id)
        self._calls[record.sid] = entry
        self._spawn(self._serve(entry), f"call-{record.sid}")

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        logger.debug("event %s for %r, which no leg owns", event, call)

    # The routing engine's events, forwarded by the app

    def offer(self, offer: Offer) -> None:
        """The engine reserved a worker for a call's task: ring the worker's phones. An offer for a task the
        call has not heard of yet (the engine offers as it creates the task, and the event may be read before
        `enqueue` returns) waits with the call until it has."""
        if self.queue_consults.offer(offer):
            return
        call = self._by_task.get(offer.task_sid)
        if call is None and offer.call_sid is not None:
            call = self._calls.get(offer.call_sid)
        if call is None and offer.callback_number is not None:
            self.callbacks.offer(offer)
            return
        if call is None:
            self._unclaimed[offer.task_sid] = offer
            while len(self._unclaimed) > UNCLAIMED_KEPT:
                del self._unclaimed[next(iter(self._unclaimed))]
            return
        if offer.reservation_sid in call.rings:
            return
        if call.enqueued is None or call.enqueued.task_sid != offer.task_sid:
            call.early_offers[offer.reservation_sid] = offer
            self._early[offer.reservation_sid] = call
            return
        ring = self._spawn(self.queueing.ring(call, call.enqueued, offer), f"ring-{offer.reservation_sid}")
        call.rings[offer.reservation_sid] = ring

    def offer_ended(self, task_sid: str, reservation_sid: str) -> None:
        """The reservation timed out, was rescinded or canceled: stop ringing for it."""
        self.callbacks.offer_ended(reservation_sid)
        self.queue_consults.offer_ended(task_sid, reservation_sid)
        unclaimed = self._unclaimed.get(task_sid)
        if unclaimed is not None and unclaimed.reservation_sid == reservation_sid:
            del self._unclaimed[task_sid]
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

    def take_consult_offers(self, task_sid: str) -> list[Offer]:
        """The offers of a consultation's task that came before the consultation knew its task."""
        offer = self._unclaimed.pop(task_sid, None)
        return [offer] if offer is not None else []

    def take_offers(self, call: InboundEntry, enqueued: Enqueued) -> None:
        """The call waits for `enqueued` now: its offers ring, also those that came before the call knew it."""
        self._by_task[enqueued.task_sid] = call
        early, call.early_offers = call.early_offers, {}
        for offer in early.values():
            del self._early[offer.reservation_sid]
            self.offer(offer)

    def let_go_of_task(self, task_sid: str) -> None:
        """The call no longer waits for this task (it left the queue, or was transferred to another task)."""
        self._by_task.pop(task_sid, None)

    # What a flow asks of the B2BUA (through InboundCall)

    def enqueued(self, call_sid: str) -> Enqueued | None:
        call = self._calls.get(call_sid)
        return call.enqueued if call is not None else None

    async def queue(self, call_sid: str, request: QueueRequest) -> Waited:
        """Queues the caller for an agent and waits (see `InboundCall.enqueue`)."""
        return await self.queueing.queue(self._calls[call_sid], request)

    async def send_elsewhere(self, call_sid: str, target: str) -> bool:
        """Connects the caller to an outside number through the trunk (or a SIP URI) until either hangs up."""
        return await self.transfers.send_elsewhere(self._calls[call_sid], target)

    # One call

    async def _serve(self, call: InboundEntry) -> None:
        record = call.record
        try:
            record.workspace_sid = await self.routing.workspace_for(record.called)
            if record.workspace_sid is None:
                logger.warning("call %s to %s: no workspace takes calls", record.sid, record.called)
                await call.leg.hangup(HangupCause.NOT_FOUND)
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
            call.set_outcome(Outcome.FAILED)
        finally:
            try:
                await self._close(call)
            finally:
                self._forget(call)

    async def _close(self, call: InboundEntry) -> None:
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
        await self.finish(call, outcome, hangup.cause, by="caller" if hangup.remote else "system")

    async def finish(self, call: InboundEntry, outcome: Outcome, cause: HangupCause, *, by: str) -> None:
        """The call is over: its record is ended and stored, and the flow's end does not end it again."""
        call.finished = True
        await end_record(self.routing, self.clock, call.record, outcome, cause, by=by)

    def _forget(self, call: InboundEntry) -> None:
        self.stop_rings(call)
        self._calls.pop(call.record.sid, None)
        if call.enqueued is not None:
            self._by_task.pop(call.enqueued.task_sid, None)
        for reservation_sid in call.early_offers:
            self._early.pop(reservation_sid, None)

    def stop_rings(self, call: InboundEntry) -> None:
        for ring in call.rings.values():
            ring.cancel()
        call.rings.clear()

    def _spawn(self, work: Any, name: str) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
