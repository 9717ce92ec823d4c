"""Calls an agent places from their own phone: to another agent (by user or worker name), or out through the
trunk to a number. The phone proved who it is (digest, checked by the user agent's `authorize` hook); it hears
ringback while the target rings, and the two are bridged and recorded once the target answers.

An agent's call to another agent is also how an attended transfer starts: the agent talks to the colleague
first, then transfers the caller to them (a REFER with Replaces naming this call), and the B2BUA connects the
caller to the colleague's leg of this call (`take_over`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from callboard.core import ids
from callboard.core.errors import CallboardError
from callboard.voice.calls.call_record import CallRecord, Outcome
from callboard.voice.calls.errors import DialError, LegEndedError
from callboard.voice.calls.events import HangupCause
from callboard.voice.calls.leg import Leg, LegState, first_to_end
from callboard.voice.calls.ringing import ring_all
from callboard.voice.calls.talk import end_record, record_leg
from callboard.voice.calls.trunk import dial_out
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.uri import NameAddr, SipUri

if TYPE_CHECKING:
    from callboard.voice.calls.b2bua import B2bua

__all__ = ["AgentCall", "AgentCalls"]

logger = logging.getLogger(__name__)

REFUSAL = {HangupCause.BUSY: 486, HangupCause.REJECTED: 603, HangupCause.NO_ANSWER: 480}


@dataclass(eq=False)
class AgentCall:
    """An agent's own call: the leg from their phone, and the leg to whom they called once it answers."""

    phone: Leg
    record: CallRecord
    target: Leg | None = None
    taken_over: bool = False  # the target leg was handed to another call (an attended transfer)


class AgentCalls:
    """The calls agents place, for one B2BUA (whose user agent, media, routing port and trunk they use)."""

    def __init__(self, b2bua: B2bua) -> None:
        self.b2bua = b2bua
        self.calls: dict[IncomingCall, AgentCall] = {}

    def start(self, call: IncomingCall, username: str) -> None:
        b = self.b2bua
        called = call.invite.uri.user if isinstance(call.invite.uri, SipUri) else None
        record = CallRecord(
            sid=ids.new_sid(ids.CALL),
            direction="internal",
            caller=username,
            called=called or str(call.invite.uri),
            from_uri=str(call.invite.headers.from_.uri) if call.invite.headers.from_ else "",
            to_uri=str(call.invite.uri),
            started_at=b.clock.now(),
        )
        entry = AgentCall(Leg.incoming(call, b.settings), record)
        self.calls[call] = entry
        b._spawn(self._serve(call, entry, username), f"agent-call-{record.sid}")

    def owning(self, leg: Leg) -> AgentCall | None:
        """The agent call whose phone leg is `leg`."""
        return next((c for c in self.calls.values() if c.phone is leg), None)

    async def _serve(self, call: IncomingCall, entry: AgentCall, username: str) -> None:
        try:
            await self._connect(entry, username)
        except Exception:
            logger.exception("agent call %s failed", entry.record.sid)
            await entry.phone.hangup()
            if entry.target is not None and not entry.taken_over:
                await entry.target.hangup()
            await self._save(entry, Outcome.FAILED, HangupCause.NORMAL, "system")
        finally:
            self.calls.pop(call, None)

    async def _connect(self, entry: AgentCall, username: str) -> None:
        b, record, phone = self.b2bua, entry.record, entry.phone
        agent = await b.routing.agent(username)
        if agent is None:
            await phone.hangup(HangupCause.REJECTED)
            return
        record.workspace_sid, record.worker_sid = agent
        await b.routing.save_call(record.as_record())
        phone.ring()
        dialing = asyncio.ensure_future(self._dial(entry, username))
        gone = asyncio.ensure_future(phone.wait_ended())
        await asyncio.wait({dialing, gone}, return_when=asyncio.FIRST_COMPLETED)
        if not dialing.done():  # the agent hung up while it rang: CANCEL the target
            dialing.cancel()
            await asyncio.gather(dialing, return_exceptions=True)
            hangup = gone.result()
            await self._save(entry, Outcome.ABANDONED, hangup.cause, "agent")
            return
        gone.cancel()
        try:
            target = dialing.result()
        except DialError as exc:
            await phone.hangup(exc.cause if exc.cause in REFUSAL else HangupCause.REJECTED)
            await self._save(entry, Outcome.FAILED, exc.cause, "system")
            return
        except CallboardError as exc:  # no such agent or number
            logger.info("agent call %s to %s: %s", record.sid, record.called, exc)
            await phone.hangup(HangupCause.REJECTED)
            await self._save(entry, Outcome.FAILED, HangupCause.REJECTED, "system")
            return
        entry.target = target
        try:
            await phone.answer()
        except LegEndedError:
            await target.hangup()
            await self._save(entry, Outcome.ABANDONED, HangupCause.CANCELED, "agent")
            return
        record.answered_at = record.agent_answered_at = b.clock.now()
        phone.bridge(target)
        await record_leg(phone, record, b.recordings_dir)
        await b.routing.save_call(record.as_record())
        await self._until_hangup(entry)

    async def _dial(self, entry: AgentCall, username: str) -> Leg:
        """Rings the agent named by the dialed user part, else calls the number out through the trunk."""
        b, record = self.b2bua, entry.record
        assert record.workspace_sid is not None and b.ua is not None
        contacts = await b.routing.contacts_named(record.workspace_sid, record.called)
        if contacts:
            return await ring_all(
                b.ua,
                [(c.uri, c.destination) for c in contacts],
                b.settings,
                ring_seconds=b.agent_ring_seconds,
                from_=NameAddr(SipUri(b.contact_host, username), username),
                headers=[("X-Callboard-Call", record.sid)],
            )
        if b.trunk is None or not b.is_number(record.called):
            raise CallboardError(f"no agent or number {record.called!r}", error_id="call_target_not_found")
        record.direction = "outbound"
        return await dial_out(b.ua, b.settings, b.trunk, record.called, caller=username)

    async def _until_hangup(self, entry: AgentCall) -> None:
        b, record, phone, target = self.b2bua, entry.record, entry.phone, entry.target
        assert target is not None and record.agent_answered_at is not None
        ended, first = await first_to_end(phone, target)
        by = "agent" if ended is phone else "called"
        if not entry.taken_over:  # else the target went on with the caller the agent transferred to it
            await target.hangup()
        await phone.hangup()
        record.talk_seconds = b.clock.now() - record.agent_answered_at
        await self._save(entry, Outcome.COMPLETED, first.cause, by)

    def take_over(self, entry: AgentCall) -> Leg | None:
        """Hands this call's target leg to another call (an attended transfer): this call forgets it, and ends
        when the agent's phone hangs up. None when there is no answered target to take."""
        target = entry.target
        if target is None or entry.taken_over or target.state not in (LegState.BRIDGED, LegState.ANSWERED):
            return None
        entry.taken_over = True
        if target.state is LegState.BRIDGED:
            target.unbridge()
        return target

    async def _save(self, entry: AgentCall, outcome: Outcome, cause: HangupCause, by: str) -> None:
        if entry.record.workspace_sid is not None:  # else the call was never stored: nobody to tell
            await end_record(self.b2bua.routing, self.b2bua.clock, entry.record, outcome, cause, by=by)
