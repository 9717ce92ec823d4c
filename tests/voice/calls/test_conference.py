"""A call's bridged pair taken into the conference mixer on virtual media time, with browser-line audio as every
party (each sends a constant level, so what a party hears is the sum of the levels it should hear): a supervisor
listening, whispering and barging, switching modes, leaving (the bridge forwards again), a hold that splits the
call and its return, and the end of the customer's leg."""

from __future__ import annotations

from array import array

import pytest

from callboard.voice.calls.conference import AGENT, CUSTOMER, CallConference
from callboard.voice.calls.leg import LegState
from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.webrtc_audio import LineAudio
from callboard.voice.calls.webrtc_leg import WebRtcLeg
from callboard.voice.media.clock import VirtualMediaClock
from callboard.voice.media.g711 import ulaw_decode
from callboard.voice.media.mixer import Role
from callboard.voice.media.ports import RtpPortPool

CUSTOMER_LEVEL, AGENT_LEVEL, SUPERVISOR_LEVEL = 1000, 2000, 4000


class Capture(LineAudio):
    """A browser line's audio that keeps what it is sent (the mean level of each frame)."""

    def __init__(self) -> None:
        super().__init__()
        self.levels: list[int] = []

    def send_frame(self, payload: bytes, *, marker: bool = False, samples: int | None = None) -> None:
        pcm = array("h", ulaw_decode(payload))
        self.levels.append(sum(pcm) // len(pcm))

    def speak(self, level: int) -> None:
        self.heard(array("h", [level] * 160).tobytes())


class Call:
    def __init__(self) -> None:
        self.clock = VirtualMediaClock()
        settings = MediaSettings(RtpPortPool(23000, 23100, host="127.0.0.1"), self.clock, "127.0.0.1")
        self.customer_audio, self.agent_audio, self.supervisor = Capture(), Capture(), Capture()
        self.customer = WebRtcLeg.connected(settings, self.customer_audio)
        self.agent = WebRtcLeg.connected(settings, self.agent_audio)
        self.customer.bridge(self.agent)
        self.closed = False
        self.ended: list[CallConference] = []
        self.conference = CallConference(self.customer, self.clock, on_end=self.ended.append)

    def join(self, role: Role) -> None:
        self.conference.join("sup", self.supervisor, self.supervisor, role, lambda: self.closed)

    def talk(self, ticks: int = 8, *, supervisor: bool = True) -> None:
        for audio in (self.customer_audio, self.agent_audio, self.supervisor):
            audio.levels.clear()
        for _ in range(ticks):
            self.customer_audio.speak(CUSTOMER_LEVEL)
            self.agent_audio.speak(AGENT_LEVEL)
            if supervisor:
                self.supervisor.speak(SUPERVISOR_LEVEL)
            self.clock.advance()

    def heard(self) -> tuple[int, int, int]:
        """The last level the customer, the agent and the supervisor heard (0: nothing sent to them)."""
        last = [a.levels[-1] if a.levels else 0 for a in (self.customer_audio, self.agent_audio, self.supervisor)]
        return last[0], last[1], last[2]


def near(level: int, expected: int) -> bool:
    return abs(level - expected) <= max(60, expected * 0.05)


def assert_heard(call: Call, customer: int, agent: int, supervisor: int) -> None:
    heard = call.heard()
    assert all(near(h, e) for h, e in zip(heard, (customer, agent, supervisor), strict=True)), heard


async def test_listen_whisper_and_barge_switched_during_the_call() -> None:
    call = Call()
    call.join(Role.LISTEN)
    call.talk()
    assert_heard(call, AGENT_LEVEL, CUSTOMER_LEVEL, CUSTOMER_LEVEL + AGENT_LEVEL)
    call.conference.set_role("sup", Role.WHISPER)
    call.talk()
    assert_heard(call, AGENT_LEVEL, CUSTOMER_LEVEL + SUPERVISOR_LEVEL, CUSTOMER_LEVEL + AGENT_LEVEL)
    call.conference.set_role("sup", Role.NORMAL)
    call.talk()
    assert_heard(call, AGENT_LEVEL + SUPERVISOR_LEVEL, CUSTOMER_LEVEL + SUPERVISOR_LEVEL, CUSTOMER_LEVEL + AGENT_LEVEL)
    assert call.conference.agent is call.agent


async def test_leaving_gives_the_bridge_its_forwarding_back() -> None:
    call = Call()
    call.join(Role.NORMAL)
    call.talk()
    call.conference.leave("sup")
    assert call.conference.ended and call.ended == [call.conference]
    call.talk(supervisor=False)
    # Straight through the bridge again: each side hears exactly the other, the supervisor nothing.
    assert_heard(call, AGENT_LEVEL, CUSTOMER_LEVEL, 0)
    assert call.customer.state is LegState.BRIDGED and call.supervisor.listener is None


async def test_a_hold_splits_the_call_and_its_return_is_mixed_again() -> None:
    call = Call()
    call.join(Role.LISTEN)
    call.talk()
    call.customer.split()  # what a hold does to the bridge
    call.talk()
    assert call.conference.agent is None and call.heard() == (0, 0, 0)
    call.customer.bridge(call.agent)
    call.talk()
    assert_heard(call, AGENT_LEVEL, CUSTOMER_LEVEL, CUSTOMER_LEVEL + AGENT_LEVEL)


async def test_the_end_of_the_call_or_of_the_supervisors_line_ends_the_conference() -> None:
    call = Call()
    call.join(Role.LISTEN)
    call.closed = True
    call.talk()
    assert call.conference.ended and not call.conference.parties
    call = Call()
    call.join(Role.LISTEN)
    call.talk()
    call.customer.hang_up_by_agent()
    await call.customer.wait_ended()
    call.clock.advance()
    assert call.conference.ended and call.ended == [call.conference]
    with pytest.raises(RuntimeError):
        call.join(Role.LISTEN)
    assert {CUSTOMER, AGENT}.isdisjoint(p.id for p in call.conference.mixer.participants)
