"""Calls an agent places from the page (click-to-call): to a number through the trunk, or to a colleague by name
(their page or their phones). The call has a record (`outbound`, or `internal` to a colleague) and a task of its
own, assigned to the agent as it is made, so the routing engine counts the agent busy and puts them in wrap-up
after it; the two sides are bridged and recorded (the called side left, the agent right) once the target answers,
and the agent steers the call from the page as an inbound one: hang up, hold, mute, digits.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from callboard.core import ids
from callboard.core.errors import CallboardError, ConflictError, NotFoundError
from callboard.voice.calls.call_record import CallRecord, Outcome
from callboard.voice.calls.errors import DialError
from callboard.voice.calls.events import HangupCause, LegEvent, TransferRequest
from callboard.voice.calls.hold import MutualHold
from callboard.voice.calls.leg import Leg, LegState
from callboard.voice.calls.talk import end_record, record_leg, talk_until_hangup
from callboard.voice.calls.trunk import is_number
from callboard.voice.calls.webrtc_leg import WebRtcLeg
from callboard.voice.calls.webrtc_line import LineState, Ring, WebRtcLine

if TYPE_CHECKING:
    from callboard.voice.calls.b2bua import B2bua

__all__ = ["PageDial", "PageDials"]

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class PageDial:
    """One call the agent placed from the page: the agent's leg on their line, and the called side once it answers."""

    line: WebRtcLine
    agent: WebRtcLeg
    record: CallRecord
    reservation_sid: str
    target: Leg | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


class PageDials:
    """The calls agents place from their pages, for one B2BUA (its user agent, media, routing port and trunk)."""

    def __init__(self, b2bua: B2bua) -> None:
        self.b2bua = b2bua
        self.calls: dict[str, PageDial] = {}  # by call sid

    async def dial(self, workspace_sid: str, worker_sid: str, target: str) -> dict[str, Any]:
        """Places the call (it rings in the background): `{"call_sid", "task_sid"}`. Raises `NotFoundError`
        (`dial_target_not_found`) for neither an agent nor a number the trunk takes, `InvalidStateError` when the
        line is busy, `ConflictError` (`agent_not_available`) when the routing engine cannot give the agent the
        call's task (not available, or busy with another)."""
        b = self.b2bua
        line = b.lines.line(worker_sid)
        if line.state is not LineState.IDLE:
            raise ConflictError(f"{line!r} is busy", error_id="line_busy", state=line.state.value)
        colleague = await b.routing.worker_named(workspace_sid, target)
        if colleague is not None and colleague[0] == worker_sid:
            colleague = None
        if colleague is None and (b.trunk is None or not is_number(target)):
            raise NotFoundError(f"no agent or number {target!r}", error_id="dial_target_not_found", target=target)
        record = CallRecord(
            sid=ids.new_sid(ids.CALL),
            direction="internal" if colleague is not None else "outbound",
            caller=worker_sid,
            called=target,
            from_uri="",
            to_uri=target,
            started_at=b.clock.now(),
            workspace_sid=workspace_sid,
            worker_sid=worker_sid,
        )
        attributes = {"direction": record.direction, "call_sid": record.sid, "called": target, "manual_dial": True}
        task_sid, reservation_sid = await b.routing.outbound_task(workspace_sid, worker_sid, attributes)
        record.task_sid, record.attributes = task_sid, attributes
        ring = Ring(reservation_sid, task_sid, record.sid, target, None, workspace_sid)
        try:
            agent = line.place(ring)
        except CallboardError:
            await b.routing.wrap_up(workspace_sid, reservation_sid)
            raise
        entry = self.calls[record.sid] = PageDial(line, agent, record, reservation_sid)
        await b.routing.save_call(record.as_record())
        b._spawn(self._serve(entry, colleague), f"page-dial-{record.sid}")
        logger.info("worker %s calls %s (%s)", worker_sid, target, record.sid)
        return {"call_sid": record.sid, "task_sid": task_sid}

    async def _serve(self, entry: PageDial, colleague: tuple[str, str] | None) -> None:
        try:
            await self._connect(entry, colleague)
        except Exception:
            logger.exception("page call %s failed", entry.record.sid)
            await entry.agent.hangup()
            if entry.target is not None:
                await entry.target.hangup()
            await self._end(entry, Outcome.FAILED, HangupCause.NORMAL, "system")
        finally:
            self.calls.pop(entry.record.sid, None)

    async def _connect(self, entry: PageDial, colleague: tuple[str, str] | None) -> None:
        b, record, agent = self.b2bua, entry.record, entry.agent
        dialing = asyncio.ensure_future(self._ring(entry, colleague))
        gone = asyncio.ensure_future(agent.wait_ended())
        await asyncio.wait({dialing, gone}, return_when=asyncio.FIRST_COMPLETED)
        if not dialing.done():  # the agent hung up while it rang
            dialing.cancel()
            await asyncio.gather(dialing, return_exceptions=True)
            await self._end(entry, Outcome.ABANDONED, HangupCause.CANCELED, "agent")
            return
        gone.cancel()
        try:
            target = dialing.result()
        except (CallboardError, OSError, ValueError) as exc:
            cause = exc.cause if isinstance(exc, DialError) else HangupCause.REJECTED
            logger.info("page call %s to %s: %s", record.sid, record.called, exc)
            agent.hang_up_by_agent()
            await agent.wait_ended()
            await self._end(entry, Outcome.FAILED, cause, "called")
            return
        entry.target = target
        if agent.state is LegState.ENDED:
            await target.hangup()
            await self._end(entry, Outcome.ABANDONED, HangupCause.CANCELED, "agent")
            return
        now = b.clock.now()
        record.answered_at = record.agent_answered_at = now
        target.bridge(agent)  # the called side on the recording's left, the agent on the right
        await record_leg(target, record, b.recordings_dir)
        await b.routing.save_call(record.as_record())
        hold = MutualHold(target, agent, b.settings.hold_music, b.clock)

        def hear(event: LegEvent) -> None:
            hold.on_event(event)
            if isinstance(event, TransferRequest):  # no transfers of a call the agent placed (yet)
                agent.report_transfer(501, event.refer_id)

        target.subscribe(hold.on_event)
        agent.subscribe(hear)
        ended, first = await talk_until_hangup(target, agent, record, b.clock, now)
        record.hold_seconds = hold.seconds()
        await self._end(entry, Outcome.COMPLETED, first.cause, "agent" if ended is agent else "called")

    async def _ring(self, entry: PageDial, colleague: tuple[str, str] | None) -> Leg:
        b, record = self.b2bua, entry.record
        assert record.workspace_sid is not None
        if colleague is None:
            return await b.dial_number(record.called, caller=record.caller)
        return await b.ring_colleague(record.workspace_sid, colleague, record.called, record.sid, caller=record.caller)

    async def _end(self, entry: PageDial, outcome: Outcome, cause: HangupCause, by: str) -> None:
        b, record = self.b2bua, entry.record
        assert record.workspace_sid is not None
        await b.routing.wrap_up(record.workspace_sid, entry.reservation_sid)
        await end_record(b.routing, b.clock, record, outcome, cause, by=by)
