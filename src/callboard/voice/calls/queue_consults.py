"""An agent's consultation with a queue: a task of its own is put in the queue, and the engine's offers for it
ring the queue's agents as any call's offers do (`ring_agent`); the first to answer is accepted and becomes the
consultation's leg. That agent is then busy with the task in routing, and wraps up when their leg ends (after a
completed transfer, a cancel, or the end of a conference).

The task carries `consult_of` (the call the agent consults about), not `call_sid`, so that its offers are not
taken for the call's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from callboard.core.errors import CallboardError
from callboard.voice.calls.errors import DialError
from callboard.voice.calls.events import HangupCause
from callboard.voice.calls.leg import Leg, LegState
from callboard.voice.calls.offers import ring_agent
from callboard.voice.calls.ports import Offer
from callboard.voice.calls.webrtc_line import Ring
from callboard.voice.sip.uri import NameAddr, SipUri

if TYPE_CHECKING:
    from callboard.voice.calls.b2bua import B2bua

__all__ = ["QueueConsults"]

logger = logging.getLogger(__name__)

QUEUE_WAIT = 60.0  # seconds a consultation waits for an agent of the queue to answer


@dataclass(eq=False)
class _Waiting:
    workspace_sid: str
    ring: Ring
    answered: asyncio.Future[tuple[Leg, Offer]]
    rings: dict[str, asyncio.Task[None]] = field(default_factory=dict)


class QueueConsults:
    """The consultations waiting for an agent of a queue, by their task."""

    def __init__(self, b2bua: B2bua) -> None:
        self.b2bua = b2bua
        self.waiting: dict[str, _Waiting] = {}
        self.wait_seconds = QUEUE_WAIT

    async def call(self, workspace_sid: str, queue: str, ring: Ring) -> Leg:
        """Puts a task in `queue` for the consultation and waits for an agent of it to answer: their leg.
        `NotFoundError` when there is no such queue; `DialError(NO_ANSWER)` when nobody answers in time."""
        b = self.b2bua
        attributes = {"consult_of": ring.call_sid, "caller": ring.caller, "consult": True}
        enqueued = await b.routing.queue_task(workspace_sid, queue, attributes)
        waiting = _Waiting(workspace_sid, ring, asyncio.get_running_loop().create_future())
        self.waiting[enqueued.task_sid] = waiting
        for offer in b.take_consult_offers(enqueued.task_sid):
            self.offer(offer)
        try:
            leg, offer = await asyncio.wait_for(asyncio.shield(waiting.answered), self.wait_seconds)
        except TimeoutError:
            await self._give_up(waiting, enqueued.task_sid)
            raise DialError(HangupCause.NO_ANSWER) from None
        except asyncio.CancelledError:
            await self._give_up(waiting, enqueued.task_sid)
            raise
        finally:
            self.waiting.pop(enqueued.task_sid, None)
        b._spawn(self._wrap_up_after(leg, offer), f"consult-{offer.reservation_sid}")
        return leg

    async def _give_up(self, waiting: _Waiting, task_sid: str) -> None:
        """Nobody is wanted any more: the rings stop, an agent who answered just now is let go, the task ends."""
        for ring in waiting.rings.values():
            ring.cancel()
        routing = self.b2bua.routing
        if waiting.answered.done() and not waiting.answered.cancelled():
            leg, offer = waiting.answered.result()
            await leg.hangup()
            await routing.wrap_up(waiting.workspace_sid, offer.reservation_sid)
        with contextlib.suppress(CallboardError):
            await routing.cancel(waiting.workspace_sid, task_sid, "consultation ended")

    def offer(self, offer: Offer) -> bool:
        """An offer of a consultation's task rings its agent; False when the task is not a consultation's."""
        waiting = self.waiting.get(offer.task_sid)
        if waiting is None:
            return False
        if offer.reservation_sid not in waiting.rings and not waiting.answered.done():
            work = self._ring(waiting, offer)
            waiting.rings[offer.reservation_sid] = self.b2bua._spawn(work, f"consult-ring-{offer.reservation_sid}")
        return True

    def offer_ended(self, task_sid: str, reservation_sid: str) -> None:
        waiting = self.waiting.get(task_sid)
        ring = waiting.rings.pop(reservation_sid, None) if waiting is not None else None
        if ring is not None:
            ring.cancel()

    async def _ring(self, waiting: _Waiting, offer: Offer) -> None:
        b, ring = self.b2bua, waiting.ring
        assert b.ua is not None or offer.phone == "webrtc"
        from_ = NameAddr(SipUri(b.contact_host, ring.caller), ring.caller)
        agent = await ring_agent(
            b.routing, b.ua, b.settings, waiting.workspace_sid, offer,  # type: ignore[arg-type]
            call_sid=ring.call_sid, from_=from_, lines=b.lines,
        )  # fmt: skip
        waiting.rings.pop(offer.reservation_sid, None)
        if agent is None:
            return
        if waiting.answered.done() or not await b.routing.accept(waiting.workspace_sid, offer.reservation_sid):
            await agent.hangup()
            return
        if waiting.answered.done():
            await agent.hangup()
            await b.routing.wrap_up(waiting.workspace_sid, offer.reservation_sid)
            return
        waiting.answered.set_result((agent, offer))

    async def _wrap_up_after(self, leg: Leg, offer: Offer) -> None:
        """The consulted agent is done with the task when their leg ends."""
        if leg.state is not LegState.ENDED:
            await leg.wait_ended()
        assert offer.workspace_sid is not None
        await self.b2bua.routing.wrap_up(offer.workspace_sid, offer.reservation_sid)
