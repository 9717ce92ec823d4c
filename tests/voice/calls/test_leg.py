"""Legs over the in-memory SIP link with real RTP on loopback: answer, play, gather, hold, bridge, dial, hang up."""

from __future__ import annotations

import asyncio
import gc
import wave
import weakref
from pathlib import Path

import pytest
from leg_exchange import BOB_URI, Exchange, exchange, get, received, rms, started, tone

from callboard.voice.calls.events import Answered, Dtmf, DtmfSource, Hangup, HangupCause, Held, Resumed, Ringing
from callboard.voice.calls.leg import DialError, Leg, LegState
from callboard.voice.media.sdp import Direction
from callboard.voice.sip import call_events as sip

TONE = tone("tone", 400, 10)
MUSIC = tone("music", 600, 3)


def kinds(leg: Leg) -> list[type]:
    return [type(e) for e in leg.feed.history]


async def test_inbound_call_is_answered_plays_a_prompt_and_ends_when_the_caller_hangs_up() -> None:
    async with exchange() as x:
        phone = await x.phone()
        leg = await get(x.bob_switch.legs)
        await phone.next(sip.Ringing)
        assert leg.state is LegState.RINGING
        await leg.answer()
        await phone.next(sip.Answered)
        assert leg.state is LegState.ANSWERED and x.pool.in_use == 1

        playing = await started(leg.play(TONE))
        x.clock.advance(10)
        assert await playing is True
        packets = await received(phone, 10)
        assert {p.payload_type for p in packets} == {0} and rms([p.payload for p in packets]) > 3000

        assert phone.call is not None
        phone.call.hangup()
        hangup = await leg.wait_ended()
        assert (hangup.cause, hangup.remote) == (HangupCause.NORMAL, True)
        assert kinds(leg) == [Ringing, Answered, Hangup]
        assert [type(e) async for e in leg.events] == [Ringing, Answered, Hangup]
        assert leg.state is LegState.ENDED and x.pool.in_use == 0


async def test_gather_collects_rfc4733_digits_and_returns_empty_on_timeout() -> None:
    async with exchange() as x:
        phone, leg = await x.answered_leg()
        gathering = asyncio.create_task(leg.gather())
        await phone.session.send_dtmf("5")
        assert await gathering == "5"
        assert await leg.gather(timeout=0.1) == ""

        gathering = asyncio.create_task(leg.gather(max_digits=4, timeout=2.0))
        for digit in "12#":
            await phone.session.send_dtmf(digit)
        assert await gathering == "12"
        dtmf = [e for e in leg.feed.history if isinstance(e, Dtmf)]
        assert [(e.digit, e.source) for e in dtmf] == [(d, DtmfSource.RFC4733) for d in "512#"]

        hangup = await leg.hangup()
        assert (hangup.cause, hangup.remote) == (HangupCause.NORMAL, False)
        event = await phone.next(sip.Hangup)
        assert (event.cause, event.remote) == (sip.HangupCause.NORMAL, True)


async def test_a_digit_interrupts_the_gather_prompt() -> None:
    async with exchange() as x:
        phone, leg = await x.answered_leg()
        gathering = await started(leg.gather(interrupt_prompt=tone("menu", 500, 500)))
        x.clock.advance(3)
        await received(phone, 3)
        await phone.session.send_dtmf("7")
        assert await gathering == "7"
        x.clock.advance(5)
        await asyncio.sleep(0.05)
        assert phone.rx.packets.qsize() == 0  # the prompt stopped at the digit
        await leg.hangup()


@pytest.mark.parametrize(
    ("body", "content_type", "digit"),
    [(b"Signal=9\r\nDuration=160\r\n", "application/dtmf-relay", "9"), (b"4", "application/dtmf", "4")],
)
async def test_gather_takes_digits_sent_in_sip_info(body: bytes, content_type: str, digit: str) -> None:
    async with exchange() as x:
        phone, leg = await x.answered_leg()
        gathering = asyncio.create_task(leg.gather())
        assert phone.call is not None
        phone.call.request("INFO", body=body, content_type=content_type)
        assert await gathering == digit
        assert leg.feed.history[-1] == Dtmf(leg.feed.history[-1].at, digit, DtmfSource.INFO)
        await leg.hangup()


async def test_an_unanswered_leg_hangs_up_busy() -> None:
    async with exchange() as x:
        phone = await x.phone()
        leg = await get(x.bob_switch.legs)
        hangup = await leg.hangup(HangupCause.BUSY)
        assert (hangup.cause, hangup.remote) == (HangupCause.BUSY, False)
        event = await phone.next(sip.Hangup)
        assert (event.cause, event.status_code) == (sip.HangupCause.BUSY, 486)
        assert x.pool.in_use == 0


async def test_hold_sends_sendonly_and_plays_music_then_unhold_resumes() -> None:
    async with exchange(hold_music=MUSIC) as x:
        phone, leg = await x.answered_leg()
        await leg.hold()
        assert leg.state is LegState.HELD
        offer = phone.reoffers[-1]
        assert offer.media_direction(offer.media[0]) is Direction.SENDONLY
        x.clock.advance(7)  # the 3-frame music loops
        packets = await received(phone, 7)
        assert rms([p.payload for p in packets]) > 3000

        await leg.unhold()
        offer = phone.reoffers[-1]
        assert offer.media_direction(offer.media[0]) is Direction.SENDRECV
        x.clock.advance(3)
        await asyncio.sleep(0.05)
        assert phone.rx.packets.qsize() == 0  # the music stopped
        assert leg.state is LegState.ANSWERED
        await leg.hangup()
        assert kinds(leg) == [Ringing, Answered, Held, Resumed, Hangup]


async def test_two_bridged_legs_pass_audio_both_ways_and_record_it(tmp_path: Path) -> None:
    async with exchange() as x:
        caller, caller_leg = await x.answered_leg()
        agent, agent_leg = await x.answered_leg()
        caller_leg.bridge(agent_leg)
        assert caller_leg.state is agent_leg.state is LegState.BRIDGED
        recorder = await caller_leg.record(tmp_path / "call.wav")

        caller.send_audio(TONE, 5)
        assert rms([p.payload for p in await received(agent, 5)]) > 3000
        agent.send_audio(MUSIC, 3)
        assert rms([p.payload for p in await received(caller, 3)]) > 3000
        gathering = asyncio.create_task(caller_leg.gather())  # not allowed while bridged
        with pytest.raises(Exception, match="bridged"):
            await gathering
        await caller.session.send_dtmf("3")  # regenerated on the other side
        assert (await get(agent.rx.digits)).digit == "3"
        x.clock.advance(10)

        caller_leg.unbridge()
        assert caller_leg.state is agent_leg.state is LegState.ANSWERED
        await caller_leg.hangup()
        await agent_leg.hangup()
        assert recorder.counters.frames == 10
        with wave.open(str(tmp_path / "call.wav")) as wav:
            assert (wav.getnchannels(), wav.getnframes()) == (2, 1600)


async def test_hanging_up_a_bridged_leg_frees_the_other() -> None:
    async with exchange() as x:
        caller, caller_leg = await x.answered_leg()
        _agent, agent_leg = await x.answered_leg()
        caller_leg.bridge(agent_leg)
        assert caller.call is not None
        caller.call.hangup()
        await caller_leg.wait_ended()
        assert agent_leg.state is LegState.ANSWERED and agent_leg.peer is None
        await agent_leg.hangup()


async def dial(x: Exchange, ring_timeout: float = 30.0) -> tuple[asyncio.Task[Leg], Leg]:
    dialing = asyncio.create_task(Leg.dial(x.alice, BOB_URI, x.settings, ring_timeout=ring_timeout))
    return dialing, await get(x.bob_switch.legs)


async def test_dial_returns_an_answered_leg_and_hears_the_remote_hangup() -> None:
    async with exchange() as x:
        dialing, callee = await dial(x)
        await callee.answer()
        caller = await dialing
        assert caller.state is callee.state is LegState.ANSWERED
        assert kinds(caller) == [Ringing, Answered]

        playing = await started(caller.play(TONE))
        x.clock.advance(10)
        assert await playing
        await asyncio.sleep(0.05)
        assert callee.session.counters.packets_received == 10

        await callee.hangup()
        hangup = await caller.wait_ended()
        assert (hangup.cause, hangup.remote) == (HangupCause.NORMAL, True)
        assert x.pool.in_use == 0


async def test_dial_ring_timeout_cancels_the_call() -> None:
    async with exchange() as x:
        dialing, callee = await dial(x, ring_timeout=0.2)
        with pytest.raises(DialError) as caught:
            await dialing
        assert caught.value.cause is HangupCause.NO_ANSWER
        hangup = await callee.wait_ended()
        assert (hangup.cause, hangup.remote) == (HangupCause.CANCELED, True)
        assert x.pool.in_use == 0


async def test_cancelling_a_dial_cancels_the_call() -> None:
    async with exchange() as x:
        dialing, callee = await dial(x)
        await asyncio.sleep(0.05)
        dialing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await dialing
        hangup = await callee.wait_ended()
        assert hangup.cause is HangupCause.CANCELED


async def test_dial_to_a_busy_callee_fails_with_its_cause() -> None:
    async with exchange() as x:
        dialing, callee = await dial(x)
        await callee.hangup(HangupCause.BUSY)
        with pytest.raises(DialError) as caught:
            await dialing
        assert caught.value.cause is HangupCause.BUSY
        assert x.pool.in_use == 0


async def test_holding_a_bridged_leg_parks_it_and_unhold_bridges_it_back(tmp_path: Path) -> None:
    async with exchange(hold_music=MUSIC) as x:
        caller, caller_leg = await x.answered_leg()
        agent, agent_leg = await x.answered_leg()
        caller_leg.bridge(agent_leg)
        recorder = await caller_leg.record(tmp_path / "call.wav")
        await caller_leg.hold()
        assert (caller_leg.state, agent_leg.state) == (LegState.HELD, LegState.ANSWERED)
        x.clock.advance(2)
        assert rms([p.payload for p in await received(caller, 2)]) > 3000  # music, not the agent
        await caller_leg.unhold()
        assert caller_leg.state is agent_leg.state is LegState.BRIDGED
        agent.send_audio(TONE, 2)
        await received(caller, 2)
        await agent_leg.hangup()
        await caller_leg.hangup()
        assert recorder.state.value == "closed"


async def test_ended_legs_are_freed_at_once_not_left_to_the_collector(tmp_path: Path) -> None:
    # A call's leg, media session, player and SIP call hold each other only while the call lasts: a cycle among them
    # would leave every ended call to the collector's full collections, which at hundreds of calls a second took
    # hundreds of milliseconds each (late media for every call in progress meanwhile).
    async with exchange() as x:
        caller, caller_leg = await x.answered_leg()
        _agent, agent_leg = await x.answered_leg()
        caller_leg.bridge(agent_leg)
        recorder = await caller_leg.record(tmp_path / "call.wav")
        sessions = [caller_leg.media.session, agent_leg.media.session]
        # A subscriber that holds its leg, as the desk phones' does (a closure over the leg and its call).
        agent_leg.subscribe(lambda event, leg=agent_leg: None)
        caller.send_audio(TONE, 3)
        x.clock.advance(3)
        await asyncio.sleep(0.05)
        caller_leg.unbridge()
        playing = await started(caller_leg.play(TONE))
        x.clock.advance(2)
        await caller_leg.hangup()
        await agent_leg.hangup()
        assert await playing is False  # interrupted by the hangup
        assert caller_leg.media.session is None and agent_leg.media.session is None
        # The calls themselves stay a while longer, held by the transactions of their BYEs (timer K).
        parts = [caller_leg, agent_leg, caller_leg.prompter, caller_leg.media, recorder, *sessions]
        freed = [weakref.ref(part) for part in parts]
        gc.disable()
        try:
            del caller_leg, agent_leg, parts, playing, recorder, sessions
            await asyncio.sleep(0.05)  # the legs' last tasks (closing media and the recording) end
            assert [ref() for ref in freed] == [None] * len(freed)
        finally:
            gc.enable()
