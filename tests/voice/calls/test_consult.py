"""The page's consultation on virtual media time, with browser-line legs for the caller, the agent and the
colleague and the hold an inbound call's owner keeps (`MutualHold`): the caller held while the agent talks to the
colleague, a cancel that brings the caller back, a conference of the three, a completion handed to the owner as
an attended transfer, and a colleague who hangs up."""

from __future__ import annotations

import asyncio

import pytest
from test_conference import Capture

from callboard.core.clock import SystemClock
from callboard.core.errors import InvalidStateError
from callboard.voice.calls.conference import CallConference
from callboard.voice.calls.consult import Consultation
from callboard.voice.calls.errors import LegEndedError
from callboard.voice.calls.events import LegEvent, TransferRequest
from callboard.voice.calls.hold import MutualHold
from callboard.voice.calls.leg import Leg, LegState
from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.webrtc_leg import WebRtcLeg
from callboard.voice.media.clock import VirtualMediaClock
from callboard.voice.media.ports import RtpPortPool

CALLER, AGENT, COLLEAGUE = 1000, 2000, 4000


class Call:
    def __init__(self) -> None:
        self.clock = VirtualMediaClock()
        self.settings = MediaSettings(RtpPortPool(23400, 23500, host="127.0.0.1"), self.clock, "127.0.0.1")
        self.caller_audio, self.agent_audio, self.colleague_audio = Capture(), Capture(), Capture()
        self.caller = WebRtcLeg.connected(self.settings, self.caller_audio)
        self.agent = WebRtcLeg.connected(self.settings, self.agent_audio)
        self.colleague = WebRtcLeg.connected(self.settings, self.colleague_audio)
        self.caller.bridge(self.agent)
        hold = MutualHold(self.caller, self.agent, None, SystemClock())
        self.caller.subscribe(hold.on_event)
        self.agent.subscribe(hold.on_event)
        self.consultation = self.agent.consultation = Consultation(self.agent, "bob")

    async def dial(self) -> Leg:
        return self.colleague

    def talk(self, ticks: int = 8) -> tuple[int, int, int]:
        """Each side speaks its level for `ticks`; the last level the caller, the agent and the colleague heard."""
        for audio in (self.caller_audio, self.agent_audio, self.colleague_audio):
            audio.levels.clear()
        for _ in range(ticks):
            for audio, level in (
                (self.caller_audio, CALLER),
                (self.agent_audio, AGENT),
                (self.colleague_audio, COLLEAGUE),
            ):
                audio.speak(level)
            self.clock.advance()
        heard = [a.levels[-1] if a.levels else 0 for a in (self.caller_audio, self.agent_audio, self.colleague_audio)]
        return heard[0], heard[1], heard[2]


def near(heard: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(h - e) <= max(60, e * 0.05) for h, e in zip(heard, expected, strict=True))


async def test_consult_cancel_and_consult_again_into_a_conference() -> None:
    call = Call()
    await call.consultation.call(call.dial)
    assert call.agent.far_end_held and call.caller.state is LegState.ANSWERED
    assert near(call.talk(), (0, COLLEAGUE, AGENT)), call.talk()  # the caller hears nothing here (no music set)
    await call.consultation.cancel()
    assert call.colleague.state is LegState.ENDED and not call.agent.far_end_held
    assert call.caller.peer is call.agent and near(call.talk(), (AGENT, CALLER, 0))
    with pytest.raises(InvalidStateError):
        await call.consultation.cancel()

    call.colleague = WebRtcLeg.connected(call.settings, call.colleague_audio)
    call.consultation = call.agent.consultation = Consultation(call.agent, "bob")
    await call.consultation.call(call.dial)
    call.consultation.join(lambda customer: CallConference(customer, call.clock))
    assert call.consultation.state == "conference" and not call.agent.far_end_held
    assert near(call.talk(), (AGENT + COLLEAGUE, CALLER + COLLEAGUE, CALLER + AGENT))


async def test_completing_hands_the_colleague_to_the_owner_and_a_hang_up_ends_the_consultation() -> None:
    call = Call()
    await call.consultation.call(call.dial)
    handed: list[Leg | None] = []

    def owner(event: LegEvent) -> None:
        if isinstance(event, TransferRequest) and event.attended:
            handed.append(call.agent.consulted_leg(event.refer_id))
            call.agent.report_transfer(200, event.refer_id)

    call.agent.subscribe(owner)
    assert await call.consultation.complete() == 200
    assert handed == [call.colleague] and call.consultation.state == "ended"
    assert call.colleague.state is LegState.ANSWERED and call.colleague_audio.listener is call.colleague

    call = Call()
    await call.consultation.call(call.dial)
    call.colleague.hang_up_by_agent()
    await call.colleague.wait_ended()
    assert call.consultation.state == "ended" and not call.agent.far_end_held
    assert call.caller.peer is call.agent
    assert near(call.talk(), (AGENT, CALLER, 0))  # the caller is back with the agent


async def test_the_agents_call_ending_while_the_target_rings_stops_the_ring() -> None:
    call = Call()
    ringing = asyncio.get_running_loop().create_future()
    stopped: list[bool] = []

    async def dial() -> Leg:
        try:
            return await ringing
        except asyncio.CancelledError:
            stopped.append(True)
            raise

    consulting = asyncio.ensure_future(call.consultation.call(dial))
    await asyncio.sleep(0)
    call.agent.hang_up_by_agent()
    with pytest.raises(LegEndedError):
        await consulting
    assert stopped == [True] and call.consultation.state == "ended"


async def test_a_consultation_canceled_while_the_target_rings_stops_the_ring_and_gives_the_caller_back() -> None:
    call = Call()
    ringing = asyncio.get_running_loop().create_future()
    stopped: list[bool] = []

    async def dial() -> Leg:
        try:
            return await ringing
        except asyncio.CancelledError:
            stopped.append(True)
            raise

    consulting = asyncio.ensure_future(call.consultation.call(dial))
    for _ in range(3):  # the target rings
        await asyncio.sleep(0)
    assert call.agent.far_end_held and call.consultation.state == "dialing"
    await call.consultation.cancel()
    with pytest.raises(InvalidStateError) as canceled:
        await consulting
    assert canceled.value.error_id == "consult_canceled"
    assert stopped == [True] and call.consultation.state == "ended"
    assert call.agent.state is not LegState.ENDED and not call.agent.far_end_held
    assert call.caller.peer is call.agent and near(call.talk(), (AGENT, CALLER, 0))
    with pytest.raises(InvalidStateError):
        Consultation.of(call.agent)  # none going on: a new one may start
