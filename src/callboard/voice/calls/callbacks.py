"""Callbacks: a caller who left the queue keeps their place as a task; when an agent is reserved for it, the
agent's phone rings first, and once the agent answers (and the offer is accepted) the customer is dialed through
the trunk and the two are bridged and recorded. A customer who does not answer is tried again later, as the
task's attributes say (`RoutingPort.callback_failed`, told before the agent wraps up the task).

The task, not the call, carries everything (`callback_number`, retries): an offer for a task no call of this node
knows, with a callback number, is a callback, which also holds after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from callboard.core import ids
from callboard.core.errors import CallboardError
from callboard.voice.calls.call_record import CallRecord, Outcome
from callboard.voice.calls.errors import LegEndedError
from callboard.voice.calls.events import HangupCause
from callboard.voice.calls.leg import Leg, LegState
from callboard.voice.calls.offers import ring_agent
from callboard.voice.calls.ports import Offer
from callboard.voice.calls.talk import end_record, record_leg, talk_until_hangup
from callboard.voice.calls.trunk import dial_out
from callboard.voice.sip.uri import NameAddr, SipUri

if TYPE_CHECKING:
    from callboard.voice.calls.b2bua import B2bua

__all__ = ["CallbackCall", "Callbacks"]

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class CallbackCall:
    """One callback in progress: the offer it answers and its call record."""

    offer: Offer
    record: CallRecord
    ringing: bool = True


class Callbacks:
    """The callbacks one B2BUA places, keyed by reservation sid."""

    def __init__(self, b2bua: B2bua) -> None:
        self.b2bua = b2bua
        self.calls: dict[str, CallbackCall] = {}
        self._rings: dict[str, asyncio.Task[None]] = {}

    def offer(self, offer: Offer) -> None:
        if offer.reservation_sid in self.calls or offer.workspace_sid is None or offer.callback_number is None:
            return
        b = self.b2bua
        record = CallRecord(
            sid=ids.new_sid(ids.CALL),
            direction="outbound",  # the center calls the customer; `attributes.callback` says why
            caller=offer.callback_number,
            called=offer.callback_number,
            from_uri="",
            to_uri="",
            started_at=b.clock.now(),
            workspace_sid=offer.workspace_sid,
            task_sid=offer.task_sid,
            worker_sid=offer.worker_sid,
            queue_sid=offer.queue_sid,
            attributes={"callback": offer.callback_number},
        )
        entry = CallbackCall(offer, record)
        self.calls[offer.reservation_sid] = entry
        self._rings[offer.reservation_sid] = b._spawn(self._serve(entry), f"callback-{record.sid}")

    def offer_ended(self, reservation_sid: str) -> None:
        """The reservation ended while the agent's phone rang: stop ringing."""
        entry = self.calls.get(reservation_sid)
        ring = self._rings.get(reservation_sid)
        if entry is not None and entry.ringing and ring is not None:
            ring.cancel()

    async def _serve(self, entry: CallbackCall) -> None:
        res = entry.offer.reservation_sid
        try:
            await self._place(entry)
        except asyncio.CancelledError:
            pass  # the offer ended while ringing: the engine re-offers the task
        except Exception:
            logger.exception("callback %s failed", entry.record.sid)
        finally:
            self.calls.pop(res, None)
            self._rings.pop(res, None)

    async def _place(self, entry: CallbackCall) -> None:
        b, offer, record = self.b2bua, entry.offer, entry.record
        ws, res, number = offer.workspace_sid, offer.reservation_sid, offer.callback_number
        assert ws is not None and number is not None and b.ua is not None
        from_ = NameAddr(SipUri(b.contact_host, number), f"Callback {number}")
        agent = await ring_agent(
            b.routing, b.ua, b.settings, ws, offer, call_sid=record.sid, from_=from_, lines=b.lines
        )
        if agent is None:
            return
        entry.ringing = False
        if not await b.routing.accept(ws, res):
            await agent.hangup()
            return
        record.agent_answered_at = record.answered_at = b.clock.now()
        await b.routing.save_call(record.as_record())
        customer = await self._dial(entry)
        if customer is None:
            with contextlib.suppress(LegEndedError):
                if b.callback_failed_prompt is not None and agent.state is LegState.ANSWERED:
                    await agent.play(b.callback_failed_prompt)
            await agent.hangup()
            await b.routing.callback_failed(ws, offer.task_sid)  # while the task is the agent's: see the port
            await b.routing.wrap_up(ws, res)
            await end_record(b.routing, b.clock, record, Outcome.FAILED, HangupCause.NO_ANSWER, by="called")
            return
        if agent.state is LegState.ENDED or customer.state is LegState.ENDED:
            await agent.hangup()
            await customer.hangup()
            await b.routing.wrap_up(ws, res)
            await end_record(b.routing, b.clock, record, Outcome.COMPLETED, HangupCause.NORMAL, by="agent")
            return
        agent.bridge(customer)
        await record_leg(agent, record, b.recordings_dir)
        ended, first = await talk_until_hangup(agent, customer, record, b.clock, b.clock.now())
        await b.routing.wrap_up(ws, res)
        by = "agent" if ended is agent else "called"
        await end_record(b.routing, b.clock, record, Outcome.COMPLETED, first.cause, by=by)

    async def _dial(self, entry: CallbackCall) -> Leg | None:
        b, number = self.b2bua, entry.offer.callback_number
        assert b.ua is not None and number is not None
        if b.trunk is None:
            logger.warning("callback %s: no trunk to call %s through", entry.record.sid, number)
            return None
        try:
            return await dial_out(b.ua, b.settings, b.trunk, number, caller=number)
        except (CallboardError, OSError, ValueError) as exc:
            logger.info("callback %s: %s did not answer: %s", entry.record.sid, number, exc)
            return None
