"""Hold between two phones of one conversation: whichever side holds, the other hears music on hold, the
recording pauses, and the time on hold is counted."""

from __future__ import annotations

from callboard.core.clock import Clock
from callboard.voice.calls.events import FarEndHeld, FarEndResumed, LegEvent
from callboard.voice.calls.leg import Leg, LegState
from callboard.voice.media.playback import Prompt
from callboard.voice.media.recorder import RecorderState

__all__ = ["MutualHold"]


class MutualHold:
    """A hold by either phone: the other side hears music on hold until it is resumed, and the time counts."""

    def __init__(self, caller: Leg, agent: Leg, music: Prompt | None, clock: Clock) -> None:
        self.caller, self.agent, self.music, self.clock = caller, agent, music, clock
        self.since: float | None = None
        self.total = 0.0

    def on_event(self, event: LegEvent) -> None:
        if isinstance(event, FarEndHeld) and self.since is None:
            self.since = self.clock.now()
            held = self.agent if self.agent.held_by_far_end else self.caller  # the side that no longer listens
            other = self.caller if held is self.agent else self.agent
            if held.state is LegState.BRIDGED:
                held.split()
            if held.recorder is not None and held.recorder.state is RecorderState.RECORDING:
                held.recorder.pause()
            if self.music is not None and other.state is LegState.ANSWERED:
                other.queue_playback(self.music, loop=True)
        elif isinstance(event, FarEndResumed) and self.since is not None:
            if self.agent.held_by_far_end or self.caller.held_by_far_end:
                return  # the other side still holds
            self.total += self.clock.now() - self.since
            self.since = None
            recorder = self.caller.recorder
            if recorder is not None and recorder.state is RecorderState.PAUSED:
                recorder.resume()
            if self.caller.state is LegState.ANSWERED and self.agent.state is LegState.ANSWERED:
                self.caller.bridge(self.agent)  # stops the music and taps the recording again

    def seconds(self) -> float:
        ongoing = self.clock.now() - self.since if self.since is not None else 0.0
        return self.total + ongoing
