"""The caller leaves the agent, or the flow, for someone else. An agent's blind transfer (a REFER) names a queue
or an agent, and the task moves there in the routing engine, or a number, called out through the trunk; an
attended transfer (REFER with Replaces) hands the caller to the colleague the agent called first. A flow sends
the caller to an outside number or SIP URI (`send_elsewhere`). In each case the agent wraps up, and the call
record lists the transfer under `attributes.transfers`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from callboard.core.errors import CallboardError
from callboard.voice.calls.call_record import Outcome
from callboard.voice.calls.errors import DialError, LegEndedError
from callboard.voice.calls.events import HangupCause, TransferRequest
from callboard.voice.calls.leg import Leg, LegState
from callboard.voice.calls.media import IncompatibleMediaError
from callboard.voice.calls.ports import Enqueued, Offer
from callboard.voice.calls.talk import record_leg, talk_until_hangup
from callboard.voice.calls.trunk import dial_out, is_number
from callboard.voice.media.recorder import RecorderState

if TYPE_CHECKING:
    from callboard.voice.calls.b2bua import B2bua, InboundEntry

__all__ = ["FINISHED", "Transfers"]

logger = logging.getLogger(__name__)

LEG_ENDED = (LegEndedError, IncompatibleMediaError)
TRANSFEROR_GRACE = 5.0  # seconds a transferring phone has to hang up by itself
FAILED_TRANSFER = {HangupCause.BUSY: 486, HangupCause.REJECTED: 603, HangupCause.NO_ANSWER: 480}


class _Finished:
    """The call ended during a transfer (an outside number took it to its end)."""


FINISHED = _Finished()


class Transfers:
    """Transfers of one B2BUA's inbound calls."""

    def __init__(self, b2bua: B2bua) -> None:
        self.b2bua = b2bua

    async def transfer(
        self,
        call: InboundEntry,
        enqueued: Enqueued,
        agent: Leg,
        offer: Offer,
        asked: TransferRequest,
        *,
        leave: Callable[[], None],
    ) -> Enqueued | _Finished | None:
        """The agent's phone transfers the caller. Blind (a REFER) to a queue or an agent, by name: the task moves
        there in the routing engine, the agent goes to wrap-up and is hung up, the caller waits for the next
        agent; to a number: out through the trunk. Attended: see `_attended`. None (the agent keeps the caller)
        when the target is unknown. `leave` puts the agent's part of the call (talk, hold) in the record: called
        here when the caller is handed to someone else (FINISHED), before the record is stored."""
        b = self.b2bua
        if asked.attended:
            return await self._attended(call, enqueued, agent, offer, asked, leave)
        if asked.user is None:
            agent.report_transfer(404, asked.refer_id)
            return None
        try:
            moved = await b.routing.transfer(enqueued.workspace_sid, enqueued.task_sid, asked.user)
        except CallboardError as exc:
            if b.trunk is not None and is_number(asked.user):
                return await self._out(call, enqueued, agent, offer, asked, asked.user, leave)
            logger.info("call %s: transfer to %s refused: %s", call.record.sid, asked.user, exc)
            agent.report_transfer(404, asked.refer_id)
            return None
        agent.report_transfer(200, asked.refer_id)
        transfers = call.record.attributes.setdefault("transfers", [])
        transfers.append({"from_worker_sid": offer.worker_sid, "to": asked.user, "at": b.clock.now()})
        caller = call.leg
        if caller.state is LegState.BRIDGED:
            caller.split()
        if caller.recorder is not None and caller.recorder.state is RecorderState.RECORDING:
            caller.recorder.pause()
        b.let_go_of_task(enqueued.task_sid)
        # Offers of the new task that come before the wait for an agent takes it wait with the call (`offer`).
        await _let_go(agent)
        return moved

    async def _out(
        self,
        call: InboundEntry,
        enqueued: Enqueued,
        agent: Leg,
        offer: Offer,
        asked: TransferRequest,
        number: str,
        leave: Callable[[], None],
    ) -> _Finished | None:
        """A transfer to an outside number: the trunk is called while the agent still holds the caller; once the
        number answers, the caller is connected to it and the agent wraps up. None when it does not answer."""
        b = self.b2bua
        assert b.ua is not None
        try:
            outside = await dial_out(b.ua, b.settings, b.trunk, number, caller=call.record.caller)
        except (CallboardError, OSError, ValueError) as exc:
            status = FAILED_TRANSFER.get(exc.cause, 503) if isinstance(exc, DialError) else 503
            logger.info("call %s: the transfer to %s failed: %s", call.record.sid, number, exc)
            agent.report_transfer(status, asked.refer_id)
            return None
        agent.report_transfer(200, asked.refer_id)
        moved = {"from_worker_sid": offer.worker_sid, "to": number, "external": True}
        return await self._hand_over(call, enqueued, agent, offer, outside, moved, leave)

    async def _attended(
        self,
        call: InboundEntry,
        enqueued: Enqueued,
        agent: Leg,
        offer: Offer,
        asked: TransferRequest,
        leave: Callable[[], None],
    ) -> _Finished | None:
        """The agent talked to a colleague first (their own call through us) and now transfers the caller to
        them, replacing that call: the caller is connected to the colleague's leg, the agent wraps up."""
        consulted = agent.consulted_leg(asked.refer_id)
        if consulted is not None:  # the page's consultation: its leg takes the caller
            agent.report_transfer(200, asked.refer_id)
            moved = {"from_worker_sid": offer.worker_sid, "to": asked.user, "attended": True}
            return await self._hand_over(call, enqueued, agent, offer, consulted, moved, leave)
        agent_calls = self.b2bua.agent_calls
        session = agent.replaced_call(asked.refer_id)
        consult = next((c for c in agent_calls.calls.values() if session and c.phone.call is session), None)
        colleague = agent_calls.take_over(consult) if consult is not None else None
        if consult is None or colleague is None:
            agent.report_transfer(481, asked.refer_id)  # no such call of ours to replace
            return None
        agent.report_transfer(200, asked.refer_id)
        moved = {"from_worker_sid": offer.worker_sid, "to": consult.record.called, "attended": True}
        with contextlib.suppress(*LEG_ENDED):
            await consult.phone.hangup()
        return await self._hand_over(call, enqueued, agent, offer, colleague, moved, leave)

    async def _hand_over(
        self,
        call: InboundEntry,
        enqueued: Enqueued,
        agent: Leg,
        offer: Offer,
        other: Leg,
        moved: dict[str, Any],
        leave: Callable[[], None],
    ) -> _Finished:
        """The agent is done (wrap-up, hung up; `leave` counts their talk and the caller's hold, a consultation's
        too); the caller talks to `other` until either hangs up."""
        b, record, caller = self.b2bua, call.record, call.leg
        leave()
        now = b.clock.now()
        record.attributes.setdefault("transfers", []).append({**moved, "at": now})
        if caller.state is LegState.BRIDGED:
            caller.split()
        connected = caller.state is LegState.ANSWERED and other.state is LegState.ANSWERED
        if connected:
            caller.bridge(other)
            await record_leg(caller, record, b.recordings_dir)
        await _let_go(agent)
        await b.routing.wrap_up(enqueued.workspace_sid, offer.reservation_sid)
        if not connected:
            await other.hangup()
            hangup = await caller.hangup()
            await b.finish(call, Outcome.COMPLETED, hangup.cause, by="caller")
            return FINISHED
        ended, first = await talk_until_hangup(caller, other, record, b.clock, now)
        await b.finish(call, Outcome.COMPLETED, first.cause, by="caller" if ended is caller else "called")
        return FINISHED

    async def send_elsewhere(self, call: InboundEntry, target: str) -> bool:
        """A flow connects the caller to an outside number through the trunk (or a SIP URI) until either hangs
        up; False when it could not be reached (the flow goes on)."""
        b, record, caller = self.b2bua, call.record, call.leg
        assert b.ua is not None
        try:
            other = await dial_out(b.ua, b.settings, b.trunk, target, caller=record.caller)
        except ValueError:
            logger.info("call %s: cannot send the caller to %r", record.sid, target)
            return False
        except (CallboardError, OSError) as exc:
            logger.info("call %s: sending the caller to %s failed: %s", record.sid, target, exc)
            return False
        now = b.clock.now()
        record.attributes.setdefault("transfers", []).append({"to": target, "external": True, "at": now})
        if caller.state is not LegState.ANSWERED:
            await other.hangup()
            return False
        caller.stop_playback()
        caller.bridge(other)
        await record_leg(caller, record, b.recordings_dir)
        ended, first = await talk_until_hangup(caller, other, record, b.clock, now)
        await b.finish(call, Outcome.COMPLETED, first.cause, by="caller" if ended is caller else "called")
        return True


async def _let_go(transferor: Leg) -> None:
    """The transferring phone hangs up once told the transfer succeeded (RFC 5589 §6.1); if it does not, we do."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(transferor.wait_ended()), TRANSFEROR_GRACE)
    await transferor.hangup()
