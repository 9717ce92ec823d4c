"""An agent's leg that the agent also steers from the page, whatever carries its audio: the browser line
(`WebRtcLeg`) or a desk phone (`DeskLeg`). What the page asks is told in the events a phone's leg tells (STYLE
item 5), so the call's owner handles it as it handles a phone's own requests: a hold is `FarEndHeld` /
`FarEndResumed` (the caller hears music on hold, the agent silence), a blind or attended transfer is a
`TransferRequest` whose outcome the owner reports with `report_transfer`, and a consultation
(`Consultation`) is kept on the leg while the caller waits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from callboard.core.errors import InvalidStateError
from callboard.voice.calls.consult import Consultation
from callboard.voice.calls.errors import LegEndedError
from callboard.voice.calls.events import FarEndHeld, FarEndResumed, Hangup, TransferRequest
from callboard.voice.calls.leg import Leg, LegState
from callboard.voice.calls.media import MediaSettings

__all__ = ["TRANSFER_WAIT", "SteeredLeg"]

TRANSFER_WAIT = 60.0  # seconds the page waits for a transfer's outcome (a number out through the trunk rings)


class SteeredLeg(Leg):
    """An agent's leg with the call control of the page: hold of the caller, transfers, a consultation."""

    def __init__(self, settings: MediaSettings, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(settings, monotonic=monotonic)
        self.far_end_held = False  # the agent holds the caller from the page
        self.consultation: Consultation | None = None  # the agent's call to a colleague while the caller is held
        self._asked: dict[int, asyncio.Future[int]] = {}  # the page's transfers, by negative refer id
        self._next_refer = 0
        self._consulting: set[int] = set()  # the transfers asked to hand the caller to the consultation's target

    @property
    def held_by_far_end(self) -> bool:
        """The agent holds the caller, from the page or (a desk phone) from the phone itself."""
        return self.far_end_held or super().held_by_far_end

    def end_by_agent(self) -> None:
        """The agent hangs up from the page."""
        raise NotImplementedError

    def hold_caller(self, held: bool) -> None:
        """The agent holds the caller (who hears music on hold) or takes them back."""
        self._require(LegState.ANSWERED, LegState.BRIDGED, action="hold")
        if held == self.far_end_held:
            return
        was_held = self.held_by_far_end
        self.far_end_held = held
        if self.held_by_far_end == was_held:
            return  # the phone holds the caller too: its own resume tells the owner
        now = self.monotonic()
        self.feed.publish(FarEndHeld(now) if held else FarEndResumed(now))

    async def ask_transfer(self, target: str, *, attended: bool = False) -> int:
        """A blind transfer to `target` (an agent, a queue or a number), as a REFER from a phone would ask it: the
        final status the owner reports (2xx: the caller left this leg). `attended`: to the leg of this leg's
        consultation, as a REFER with Replaces names the call to the colleague."""
        self._require(LegState.ANSWERED, LegState.BRIDGED, LegState.HELD, action="transfer")
        self._next_refer -= 1  # negative: never the id of a phone's own REFER
        refer_id = self._next_refer
        outcome = self._asked[refer_id] = asyncio.get_running_loop().create_future()
        if attended:
            self._consulting.add(refer_id)
        self.feed.publish(TransferRequest(self.monotonic(), target, target, attended, refer_id))
        ended = asyncio.ensure_future(self.wait_ended())
        try:
            done, _ = await asyncio.wait({outcome, ended}, timeout=TRANSFER_WAIT, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended.cancel()
            self._asked.pop(refer_id, None)
        if outcome in done:
            status: int = outcome.result()
            return status
        if ended in done:
            raise LegEndedError(f"{self!r} ended during a transfer", state=self.state.value)
        raise InvalidStateError(f"{self!r}: the transfer to {target} got no answer", state=self.state.value)

    def consulted_leg(self, refer_id: int) -> Leg | None:
        """For an attended `TransferRequest` of the page: the consultation's leg, which the caller goes to."""
        if refer_id not in self._consulting or self.consultation is None:
            return super().consulted_leg(refer_id)
        return self.consultation.hand_over()

    def report_transfer(self, status: int, refer_id: int | None = None) -> bool:
        """The owner's answer to `ask_transfer` (or, for a phone's own REFER, told to the phone). After the page's
        transfer succeeded the agent's call ends by itself, as a phone hangs up once told its REFER succeeded
        (RFC 5589 §6.1), so the caller does not wait for the owner's grace."""
        outcome = self._asked.get(refer_id or 0)
        if outcome is None:
            return super().report_transfer(status, refer_id)
        if status >= 200 and not outcome.done():
            outcome.set_result(status)
            if 200 <= status < 300:
                asyncio.get_running_loop().call_soon(self.end_by_agent)
        return self.state is not LegState.ENDED

    async def _release(self, hangup: Hangup) -> None:
        for outcome in self._asked.values():
            if not outcome.done():
                outcome.cancel()
        if self.consultation is not None:
            await self.consultation.close()
        await super()._release(hangup)
