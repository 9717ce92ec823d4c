"""An inbound caller in a queue: its task is made, it hears music (or the flow's waiting room) while the
engine's offers ring agents, and it ends the wait talking to the agent who answered, hanging up, leaving with
the waiting room (the maximum wait, no agents, a callback) or because the task ended without an agent.

Each offer rings the agent's phones (`offers.ring_agent`); the first to answer is accepted and bridged to the
caller. An agent's transfer moves the caller to another task (`transfers.Transfers`), and the wait begins again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from callboard.core.errors import CallboardError
from callboard.voice.calls.call_record import Outcome
from callboard.voice.calls.desk_leg import DeskLeg
from callboard.voice.calls.events import Hangup, LegEvent, TransferRequest
from callboard.voice.calls.hold import MutualHold
from callboard.voice.calls.inbound import QueueRequest, Waited, WaitExit, WaitingRoom
from callboard.voice.calls.leg import Leg, LegState
from callboard.voice.calls.offers import ring_agent
from callboard.voice.calls.ports import Enqueued, Offer
from callboard.voice.calls.talk import record_leg
from callboard.voice.calls.transfers import FINISHED
from callboard.voice.calls.webrtc_line import Ring

if TYPE_CHECKING:
    from callboard.voice.calls.b2bua import B2bua, InboundEntry

__all__ = ["Queueing", "wait_outcome"]

logger = logging.getLogger(__name__)


def wait_outcome(
    done: set[asyncio.Future[Any]],
    caller_gone: asyncio.Future[Hangup],
    room: asyncio.Future[WaitExit] | None,
) -> WaitExit | Hangup | BaseException | None:
    """What ended a wait that no agent answered, when several things ended in the same loop iteration: the
    waiting room's exit first (a caller who hangs up as the callback is confirmed is called back, not
    abandoned), then the caller's hangup, then the waiting room's failure; None: the task ended."""
    finished_room = room is not None and room in done and not room.cancelled()
    if finished_room and room is not None and room.exception() is None:
        return room.result()
    if caller_gone in done:
        return caller_gone.result()
    if finished_room and room is not None:
        return room.exception()
    return None


class Queueing:
    """The queue side of one B2BUA: waiting for an agent, ringing agents, the conversation."""

    def __init__(self, b2bua: B2bua) -> None:
        self.b2bua = b2bua

    async def queue(self, call: InboundEntry, request: QueueRequest) -> Waited:
        """Queues the caller for an agent and waits (see `InboundCall.enqueue`)."""
        b, record = self.b2bua, call.record
        attributes = {
            **b.attributes,
            **request.attributes,
            "caller": record.caller,
            "called": record.called,
            "call_sid": record.sid,
        }
        assert record.workspace_sid is not None
        try:
            enqueued: Enqueued | Waited = await b.routing.enqueue(
                record.workspace_sid, record.sid, attributes, workflow=request.workflow,
                priority=request.priority, ttl=request.timeout, known_worker=request.known_worker,
            )  # fmt: skip
        except CallboardError as exc:
            logger.warning("call %s: no task: %s", record.sid, exc)
            return Waited.FAILED
        record.enqueued_at, record.attributes = b.clock.now(), attributes
        while isinstance(enqueued, Enqueued):  # a transfer puts the caller back in a queue
            enqueued = await self.wait_for_agent(call, enqueued, request.waiting)
        return enqueued

    async def wait_for_agent(
        self, call: InboundEntry, enqueued: Enqueued, waiting: WaitingRoom | None
    ) -> Enqueued | Waited:
        """Music (or the waiting room) until an agent answers (then the conversation), the caller leaves, the
        task ends or the waiting room takes the caller out; the task the caller is transferred to, if the agent
        transfers the call."""
        b, record, leg = self.b2bua, call.record, call.leg
        loop = asyncio.get_running_loop()
        call.connected, call.task_gone = loop.create_future(), loop.create_future()
        call.enqueued = enqueued
        b.take_offers(call, enqueued)
        record.task_sid = enqueued.task_sid  # written with the next step: the task has its own record meanwhile
        room: asyncio.Future[WaitExit] | None = None
        if waiting is not None and leg.state is LegState.ANSWERED:
            room = asyncio.ensure_future(waiting.wait(leg, enqueued.workspace_sid, enqueued.task_sid))
        elif leg.state is LegState.ANSWERED and b.settings.hold_music is not None:
            leg.queue_playback(b.settings.hold_music, loop=True)
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
            moved = await self.talk(call, enqueued, agent, offer)
            return moved if moved is not None else Waited.COMPLETED
        ended = wait_outcome(done, caller_gone, room)
        if isinstance(ended, WaitExit):
            return await self.leave_queue(call, enqueued, ended)
        if isinstance(ended, Hangup):
            await self.abandoned(call, enqueued)
            return Waited.HUNG_UP
        if ended is not None:
            logger.error("call %s: the waiting room failed", record.sid, exc_info=ended)
            return await self.leave_queue(call, enqueued, WaitExit(Waited.TIMEOUT))
        self.no_agent(call, call.task_gone.result())
        return Waited.TIMEOUT

    async def leave_queue(self, call: InboundEntry, enqueued: Enqueued, exit_: WaitExit) -> Waited:
        """The waiting room takes the caller out of the queue: for a callback the task stays (and is offered as a
        callback); otherwise it is canceled and the flow goes on."""
        b, record, leg = self.b2bua, call.record, call.leg
        b.stop_rings(call)
        b.let_go_of_task(enqueued.task_sid)
        record.wait_seconds = b.clock.now() - (record.enqueued_at or b.clock.now())
        leg.stop_playback()
        ws, task = enqueued.workspace_sid, enqueued.task_sid
        if exit_.reason is Waited.CALLBACK and exit_.callback_number:
            attributes = {**exit_.callback_attributes, "callback_number": exit_.callback_number, "call_sid": None}
            try:
                await b.routing.update(ws, task, {**attributes, "callback_of": record.sid})
            except CallboardError as exc:
                logger.warning("call %s: callback not kept: %s", record.sid, exc)
                return Waited.FAILED
            record.attributes["callback_number"] = exit_.callback_number
            call.set_outcome(Outcome.CALLBACK)
            return Waited.CALLBACK
        reason = "max wait" if exit_.reason is Waited.TIMEOUT else "no agents"
        try:
            await b.routing.cancel(ws, task, reason)
        except CallboardError as exc:
            logger.info("task %s of call %s not canceled: %s", task, record.sid, exc)
        call.set_outcome(Outcome.NO_AGENT)
        return exit_.reason if exit_.reason is not Waited.CALLBACK else Waited.FAILED

    async def abandoned(self, call: InboundEntry, enqueued: Enqueued) -> None:
        b = self.b2bua
        b.stop_rings(call)
        try:
            await b.routing.cancel(enqueued.workspace_sid, enqueued.task_sid, "caller hung up")
        except CallboardError as exc:
            logger.info("task %s of call %s not canceled: %s", enqueued.task_sid, call.record.sid, exc)
        hangup = await call.leg.wait_ended()
        call.record.wait_seconds = b.clock.now() - (call.record.enqueued_at or b.clock.now())
        await b.finish(call, Outcome.ABANDONED, hangup.cause, by="caller")

    def no_agent(self, call: InboundEntry, reason: str) -> None:
        b = self.b2bua
        b.stop_rings(call)
        call.record.wait_seconds = b.clock.now() - (call.record.enqueued_at or b.clock.now())
        call.leg.stop_playback()
        logger.info("call %s: its task ended (%s)", call.record.sid, reason)
        call.set_outcome(Outcome.NO_AGENT)

    # Ringing an agent

    async def ring(self, call: InboundEntry, enqueued: Enqueued, offer: Offer) -> None:
        """Rings the offer's agent; the first phone to answer is accepted and handed to the waiting caller."""
        b, ws, res = self.b2bua, enqueued.workspace_sid, offer.reservation_sid
        assert b.ua is not None
        agent = await ring_agent(
            b.routing, b.ua, b.settings, ws, offer,
            call_sid=call.record.sid, from_=call.caller_id, lines=b.lines, desks=b.desks,
        )  # fmt: skip
        call.rings.pop(res, None)  # rung: an offer_ended from now on must not cancel this task
        if agent is None:
            return
        connected = call.connected
        if connected is None or connected.done() or call.leg.state is LegState.ENDED:
            await agent.hangup()
            return
        if not await b.routing.accept(ws, res):
            await agent.hangup()
            return
        if connected.done() or _ended(call.leg):  # the caller left while we accepted (the state is read again)
            await agent.hangup()
            await b.routing.wrap_up(ws, res)
            return
        call.agent = agent
        connected.set_result((agent, offer))

    # The conversation

    async def talk(self, call: InboundEntry, enqueued: Enqueued, agent: Leg, offer: Offer) -> Enqueued | None:
        """The caller and the agent talk until either hangs up (then wrap-up) or the agent transfers the caller:
        the task the caller waits for next, or None when the call is over."""
        b, record, caller = self.b2bua, call.record, call.leg
        now = b.clock.now()
        record.worker_sid, record.queue_sid = offer.worker_sid, offer.queue_sid
        if record.agent_answered_at is None:
            record.agent_answered_at = now
            record.wait_seconds = now - (record.enqueued_at or now)
        if caller.state is LegState.ENDED or agent.state is LegState.ENDED:
            await agent.hangup()
        else:
            caller.bridge(agent)
            await record_leg(caller, record, b.recordings_dir)
        await b.routing.save_call(record.as_record())
        hold = MutualHold(caller, agent, b.settings.hold_music, b.clock)
        transfers: asyncio.Queue[TransferRequest] = asyncio.Queue()

        def hear_caller(event: LegEvent) -> None:
            hold.on_event(event)
            if isinstance(event, TransferRequest):  # a caller's phone does not move our calls around
                caller.report_transfer(403, event.refer_id)

        def hear_agent(event: LegEvent) -> None:
            hold.on_event(event)
            if isinstance(event, TransferRequest):
                transfers.put_nowait(event)

        left = False

        def leave() -> None:
            """The agent's part of the call is over (hung up, or the caller moved on): the time the agent talked
            and the time the caller spent on hold in it, a consultation's included, go in the record."""
            nonlocal left
            if left:
                return
            left = True
            caller.unsubscribe(hear_caller)
            agent.unsubscribe(hear_agent)
            record.talk_seconds += b.clock.now() - now
            record.hold_seconds += hold.seconds()

        caller.subscribe(hear_caller)
        agent.subscribe(hear_agent)
        if isinstance(agent, DeskLeg):  # the agent's page steers the call too
            b.desks.talking(offer.worker_sid, agent, self._ring(call, enqueued, offer))
        caller_end = asyncio.ensure_future(caller.wait_ended())
        agent_end = asyncio.ensure_future(agent.wait_ended())
        try:
            while True:
                asked = asyncio.ensure_future(transfers.get())
                done, _ = await asyncio.wait({caller_end, agent_end, asked}, return_when=asyncio.FIRST_COMPLETED)
                if asked not in done:
                    asked.cancel()
                    break
                moved = await b.transfers.transfer(call, enqueued, agent, offer, asked.result(), leave=leave)
                if moved is FINISHED:
                    return None
                if isinstance(moved, Enqueued):
                    leave()
                    return moved
        finally:
            caller.unsubscribe(hear_caller)
            agent.unsubscribe(hear_agent)
        first: Hangup = (caller_end if caller_end in done else agent_end).result()
        by = "caller" if caller_end in done and first.remote else "agent" if agent_end in done else "system"
        await caller.hangup()
        await agent.hangup()
        await b.routing.wrap_up(enqueued.workspace_sid, offer.reservation_sid)
        leave()
        await b.finish(call, Outcome.COMPLETED, first.cause, by=by)
        return None

    @staticmethod
    def _ring(call: InboundEntry, enqueued: Enqueued, offer: Offer) -> Ring:
        """The call as the agent's page shows it."""
        name, record = call.caller_id.display_name, call.record
        return Ring(offer.reservation_sid, enqueued.task_sid, record.sid, record.caller, name, enqueued.workspace_sid)


def _ended(leg: Leg) -> bool:
    return leg.state is LegState.ENDED
