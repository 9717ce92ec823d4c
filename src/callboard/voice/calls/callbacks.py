"""Callbacks: a caller who left the queue keeps their place as a task; when an agent is reserved for it, the
agent's phone rings first, and once the agent answers (and the offer is accepted) the customer is dialed through
the trunk and the two are bridged and recorded. A customer who does not answer is tried again later, as the
task's attributes say (`RoutingPort.callback_failed`).

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
from callboard.voice.calls.errors import DialError, LegEndedError
from callboard.voice.calls.events import HangupCause
from callboard.voice.calls.leg import Leg, LegState, first_to_end
from callboard.voice.calls.ringing import RING_GRACE, ring_all
from callboard.voice.sip.caller_id import CallerId
from callboard.voice.sip.uri import NameAddr, SipUri

if TYPE_CHECKING:
    from callboard.voice.calls.b2bua import B2bua, Offer

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
            direction="callback",
            caller=offer.callback_number,
            called=offer.callback_number,
            from_uri="",
            to_uri="",
            started_at=b.clock.now(),
            workspace_sid=offer.workspace_sid,
            task_sid=offer.task_sid,
            worker_sid=offer.worker_sid,
            queue_sid=offer.queue_sid,
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
        contacts = await b.routing.contacts(ws, offer.worker_sid)
        if not contacts:
            await self._reject(ws, res, unreachable=True)
            return
        try:
            agent = await ring_all(
                b.ua,
                [(contact.uri, contact.destination) for contact in contacts],
                b.settings,
                ring_seconds=offer.ring_seconds + RING_GRACE,
                from_=NameAddr(SipUri(b.contact_host, number), f"Callback {number}"),
                headers=[("X-Callboard-Call", record.sid), ("X-Callboard-Task", offer.task_sid)],
            )
        except DialError as exc:
            if exc.cause is not HangupCause.NO_ANSWER:
                await self._reject(ws, res, unreachable=exc.cause not in (HangupCause.BUSY, HangupCause.REJECTED))
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
            await b.routing.wrap_up(ws, res)
            await b.routing.callback_failed(ws, offer.task_sid)
            await self._finish(record, Outcome.FAILED, HangupCause.NO_ANSWER, by="called")
            return
        if agent.state is LegState.ENDED or customer.state is LegState.ENDED:
            await agent.hangup()
            await customer.hangup()
            await b.routing.wrap_up(ws, res)
            await self._finish(record, Outcome.COMPLETED, HangupCause.NORMAL, by="agent")
            return
        agent.bridge(customer)
        await self._record(record, agent)
        talk_start = b.clock.now()
        ended, first = await first_to_end(agent, customer)
        await agent.hangup()
        await customer.hangup()
        await b.routing.wrap_up(ws, res)
        record.talk_seconds = b.clock.now() - talk_start
        await self._finish(record, Outcome.COMPLETED, first.cause, by="agent" if ended is agent else "called")

    async def _dial(self, entry: CallbackCall) -> Leg | None:
        b, number = self.b2bua, entry.offer.callback_number
        assert b.ua is not None and number is not None
        if b.trunk is None:
            logger.warning("callback %s: no trunk to call %s through", entry.record.sid, number)
            return None
        trunk = b.trunk
        try:
            return await Leg.dial(
                b.ua, trunk.target(number), b.settings, destination=trunk.destination,
                ring_timeout=trunk.ring_seconds, caller_id=trunk.caller_id or CallerId(number),
                credentials=trunk.credentials.new_session() if trunk.credentials else None,
            )  # fmt: skip
        except (CallboardError, OSError) as exc:
            logger.info("callback %s: %s did not answer: %s", entry.record.sid, number, exc)
            return None

    async def _record(self, record: CallRecord, agent: Leg) -> None:
        folder = self.b2bua.recordings_dir
        if folder is None:
            return
        path = folder / f"{record.sid}.wav"
        try:
            await agent.record(path)
            record.recording_path = str(path)
        except (OSError, LegEndedError) as exc:
            logger.warning("callback %s is not recorded: %s", record.sid, exc)

    async def _reject(self, workspace_sid: str, reservation_sid: str, *, unreachable: bool) -> None:
        try:
            await self.b2bua.routing.reject(workspace_sid, reservation_sid, unreachable=unreachable)
        except CallboardError as exc:
            logger.info("reservation %s not rejected: %s", reservation_sid, exc)

    async def _finish(self, record: CallRecord, outcome: Outcome, cause: HangupCause, *, by: str) -> None:
        record.end(self.b2bua.clock.now(), outcome, cause.value, by)
        await self.b2bua.routing.save_call(record.as_record())
