"""An agent's call on their browser line, as the B2BUA sees any agent's leg (a `Leg`): bridged to the caller,
recorded, ended by either side. No SIP behind it: what the agent does on the page arrives through call control
(`SteeredLeg`: hold, transfers, consultation), a key of the keypad is a digit into the bridge, and hanging up is
the far end's `Hangup`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from callboard.voice.calls.events import Answered, Hangup, HangupCause, LegEvent
from callboard.voice.calls.leg import LegState
from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.steered_leg import SteeredLeg
from callboard.voice.calls.webrtc_audio import LineAudio
from callboard.voice.media.bridge import BridgeLeg
from callboard.voice.media.sdp import Direction

__all__ = ["WebRtcLeg"]


class WebRtcLeg(SteeredLeg):
    """One call on an agent's browser line; the line's audio is its media session."""

    def __init__(
        self, settings: MediaSettings, audio: LineAudio, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(settings, monotonic=monotonic)
        self.audio = audio
        self.on_bridged: Callable[[], None] | None = None  # told each time the leg joins a bridge

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

    def hang_up_by_agent(self) -> None:
        """The agent hangs up on the page: the far end of this leg ended it."""
        if self.state is not LegState.ENDED:
            self._quiet()
            self._finish(HangupCause.NORMAL, remote=True)

    def end_by_agent(self) -> None:
        self.hang_up_by_agent()

    def report_transfer(self, status: int, refer_id: int | None = None) -> bool:
        super().report_transfer(status, refer_id)
        return self.state is not LegState.ENDED  # no SIP: the page hears the outcome or nothing

    # -- no SIP below

    async def _reoffer(self, direction: Direction) -> None:
        """A hold of this leg by us (music to the agent) needs no renegotiation: the line keeps its session."""

    async def _release(self, hangup: Hangup) -> None:
        if self.audio.listener is self:
            self.audio.listener = None
        await super()._release(hangup)
