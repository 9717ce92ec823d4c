"""An agent's call on their browser line, as the B2BUA sees any agent's leg (a `Leg`): bridged to the caller,
recorded, ended by either side. No SIP behind it: what the agent does on the page arrives through call control
and is told in the same events a SIP phone's leg tells (STYLE item 5): a hold is `FarEndHeld`/`FarEndResumed`
(the caller hears music on hold, as when a desk phone holds), a blind transfer is a `TransferRequest` whose
outcome the owner reports with `report_transfer`, a key of the keypad is a digit into the bridge, and hanging up
is the far end's `Hangup`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from callboard.core.errors import InvalidStateError
from callboard.voice.calls.consult import Consultation
from callboard.voice.calls.errors import LegEndedError
from callboard.voice.calls.events import (
    Answered,
    FarEndHeld,
    FarEndResumed,
    Hangup,
    HangupCause,
    LegEvent,
    TransferRequest,
)
from callboard.voice.calls.leg import Leg, LegState
from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.webrtc_audio import LineAudio
from callboard.voice.media.bridge import BridgeLeg
from callboard.voice.media.sdp import Direction

__all__ = ["WebRtcLeg"]

TRANSFER_WAIT = 60.0  # seconds the page waits for a transfer's outcome (a number out through the trunk rings)


class WebRtcLeg(Leg):
    """One call on an agent's browser line; the line's audio is its media session."""

    def __init__(
        self, settings: MediaSettings, audio: LineAudio, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(settings, monotonic=monotonic)
        self.audio = audio
        self.far_end_held = False
        self._asked: dict[int, asyncio.Future[int]] = {}
        self._next_refer = 0
        self.on_bridged: Callable[[], None] | None = None  # told each time the leg joins a bridge
        self.consultation: Consultation | None = None  # the agent's call to a colleague while the caller is held
        self._consulting: set[int] = set()  # the transfers asked to hand the caller to the consultation's target

    def __repr__(self) -> str:
        return f"<WebRtcLeg {id(self):x} {self.state.value}>"

    @classmethod
    def connected(cls, settings: MediaSettings, audio: LineAudio) -> WebRtcLeg:
        """The agent answered on the page: the leg is up, its audio the line's."""
        leg = cls(settings, audio)
        audio.listener = leg
        leg.prompter.start(audio)
        leg._set_state(LegState.ANSWERED, Answered(leg.monotonic()))
        return leg

    @property
    def session(self) -> BridgeLeg:
        return self.audio

    def _set_state(self, state: LegState, event: LegEvent | None = None) -> None:
        super()._set_state(state, event)
        if state is LegState.BRIDGED and self.on_bridged is not None:
            self.on_bridged()

    @property
    def held_by_far_end(self) -> bool:
        return self.far_end_held

    # -- what the agent does on the page

    def hold_caller(self, held: bool) -> None:
        """The agent holds the caller (who hears music on hold) or takes them back."""
        self._require(LegState.ANSWERED, LegState.BRIDGED, action="hold")
        if held == self.far_end_held:
            return
        self.far_end_held = held
        now = self.monotonic()
        self.feed.publish(FarEndHeld(now) if held else FarEndResumed(now))

    def hang_up_by_agent(self) -> None:
        """The agent hangs up on the page: the far end of this leg ended it."""
        if self.state is not LegState.ENDED:
            self._quiet()
            self._finish(HangupCause.NORMAL, remote=True)

    async def ask_transfer(self, target: str, *, attended: bool = False) -> int:
        """A blind transfer to `target` (an agent, a queue or a number), as a REFER from a phone would ask it: the
        final status the owner reports (2xx: the caller left this leg). `attended`: to the leg of this leg's
        consultation, as a REFER with Replaces names the call to the colleague."""
        self._require(LegState.ANSWERED, LegState.BRIDGED, LegState.HELD, action="transfer")
        self._next_refer += 1
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
        """For an attended `TransferRequest`: the consultation's leg, which the caller goes to."""
        if refer_id not in self._consulting or self.consultation is None:
            return None
        return self.consultation.hand_over()

    def report_transfer(self, status: int, refer_id: int | None = None) -> bool:
        """The owner's answer to `ask_transfer`. After a success the page's call ends by itself, as a phone hangs
        up once told its REFER succeeded (RFC 5589 §6.1), so the caller does not wait for the owner's grace."""
        outcome = self._asked.get(refer_id or 0)
        if outcome is not None and status >= 200 and not outcome.done():
            outcome.set_result(status)
            if 200 <= status < 300:
                asyncio.get_running_loop().call_soon(self.hang_up_by_agent)
        return self.state is not LegState.ENDED

    # -- no SIP below

    async def _reoffer(self, direction: Direction) -> None:
        """A hold of this leg by us (music to the agent) needs no renegotiation: the line keeps its session."""

    async def _release(self, hangup: Hangup) -> None:
        if self.audio.listener is self:
            self.audio.listener = None
        for outcome in self._asked.values():
            if not outcome.done():
                outcome.cancel()
        if self.consultation is not None:
            await self.consultation.close()
        await super()._release(hangup)
