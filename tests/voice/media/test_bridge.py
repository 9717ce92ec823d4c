"""Bridging on loopback: caller <-> leg A, leg B <-> agent, with the bridge joining leg A and leg B."""

from __future__ import annotations

import asyncio
import itertools
import math
from array import array
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from rtp_session_peers import LOOPBACK, Recorder, get, raw_peer, session_pair
from tone_level import level_at

from callboard.core.errors import InvalidStateError
from callboard.voice.media.bridge import Bridge, BridgeCounters, BridgeSide, DtmfMode, StreamRewriter
from callboard.voice.media.codecs import G722, codec, stream_encoder
from callboard.voice.media.dtmf import DtmfDigit
from callboard.voice.media.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode, ulaw_to_alaw
from callboard.voice.media.rtp import RtpPacket, seq_diff, timestamp_diff
from callboard.voice.media.session import RtpSession, RtpSessionConfig

PCMU = RtpSessionConfig(payload_type=0, rtp_timeout=None)
PCMA = RtpSessionConfig(payload_type=8, rtp_timeout=None)
G722_CONFIG = RtpSessionConfig(payload_type=G722, rtp_timeout=None)


def tone(freq: float, samples: int = 160, amplitude: int = 8000) -> bytes:
    return array("h", (round(amplitude * math.sin(2 * math.pi * freq * i / 8000)) for i in range(samples))).tobytes()


@asynccontextmanager
async def two_calls(
    caller_side: RtpSessionConfig = PCMU, agent_side: RtpSessionConfig = PCMU
) -> AsyncIterator[tuple[RtpSession, Recorder, RtpSession, Recorder, RtpSession, Recorder, RtpSession, Recorder]]:
    async with session_pair(caller_side) as (caller, rec_c, leg_a, rec_a), session_pair(agent_side) as pair:
        leg_b, rec_b, agent, rec_agent = pair
        yield caller, rec_c, leg_a, rec_a, leg_b, rec_b, agent, rec_agent


async def test_agent_sees_one_continuous_stream_across_a_caller_ssrc_change() -> None:
    leg_a = RtpSession(PCMU, Recorder())
    await leg_a.open(host=LOOPBACK)
    try:
        async with raw_peer() as (caller, _), session_pair(PCMU) as (leg_b, _, _agent, rec_agent):
            assert leg_a.local_rtp is not None
            leg_a.set_remote(LOOPBACK, caller.get_extra_info("sockname")[1])
            bridge = Bridge(leg_a, leg_b)
            bridge.bridge()
            for i in range(5):
                caller.sendto(
                    bytes(RtpPacket(0, 100 + i, 1000 + 160 * i, 1, bytes([i]) * 160, i == 0)), leg_a.local_rtp
                )
            got = [await get(rec_agent.packets) for _ in range(5)]
            # The caller's media now comes from somewhere else: new SSRC, sequence and timestamp base.
            for i in range(5):
                packet = RtpPacket(0, 40000 + i, 7_777_777 + 160 * i, 2, bytes([5 + i]) * 160)
                caller.sendto(bytes(packet), leg_a.local_rtp)
            got += [await get(rec_agent.packets) for _ in range(5)]
            bridge.unbridge()
    finally:
        await leg_a.close()
    assert {p.ssrc for p in got} == {leg_b.ssrc}
    assert [p.payload[0] for p in got] == list(range(10))
    assert all(seq_diff(q.sequence_number, p.sequence_number) == 1 for p, q in itertools.pairwise(got))
    steps = [timestamp_diff(q.timestamp, p.timestamp) for p, q in itertools.pairwise(got)]
    assert steps[:4] == steps[5:] == [160] * 4
    assert 160 <= steps[4] < 160 + 8000  # wall-clock time between the streams, not the source's jump
    assert [p.marker for p in got] == [True, False, False, False, False, True, False, False, False, False]
    assert bridge.counters.restarts == 1 and bridge.counters.forwarded == 10


async def test_pcmu_caller_and_pcma_agent_are_transcoded_both_ways() -> None:
    async with two_calls(PCMU, PCMA) as (caller, rec_c, leg_a, _, leg_b, _, agent, rec_agent):
        Bridge(leg_a, leg_b).bridge()
        sent = ulaw_encode(tone(440))
        caller.send_frame(sent)
        received = await get(rec_agent.packets)
        assert received.payload_type == 8 and received.payload == ulaw_to_alaw(sent)
        before, after = array("h", ulaw_decode(sent)), array("h", alaw_decode(received.payload))
        # Both laws quantise to at most 1/16 of the magnitude (plus the small-signal step) around 8000.
        assert all(abs(x - y) <= max(64, abs(x) // 16) for x, y in zip(before, after, strict=True))
        agent.send_frame(received.payload)
        back = await get(rec_c.packets)
        assert back.payload_type == 0
        assert all(
            abs(x - y) <= max(64, abs(x) // 16)
            for x, y in zip(before, array("h", ulaw_decode(back.payload)), strict=True)
        )


async def test_unbridge_stops_forwarding_and_restores_the_listeners() -> None:
    async with two_calls() as (caller, _, leg_a, rec_a, leg_b, _, _agent, rec_agent):
        bridge = Bridge(leg_a, leg_b)
        bridge.bridge()
        caller.send_frame(b"\x10" * 160)
        assert (await get(rec_agent.packets)).payload == b"\x10" * 160
        bridge.unbridge()
        bridge.unbridge()  # idempotent
        assert leg_a.listener is rec_a
        caller.send_frame(b"\x20" * 160)
        assert (await get(rec_a.packets)).payload == b"\x20" * 160  # leg A's own listener has it again
        leg_b.send_frame(b"\x30" * 160)
        assert (await get(rec_agent.packets)).payload == b"\x30" * 160  # nothing was forwarded before it
        with pytest.raises(InvalidStateError):
            bridge.bridge()


async def test_taps_see_both_directions() -> None:
    seen: list[tuple[BridgeSide, int]] = []

    class Tap:
        def tapped(self, side: BridgeSide, packet: RtpPacket) -> None:
            seen.append((side, packet.payload[0]))

    async with two_calls() as (caller, rec_c, leg_a, _, leg_b, _, agent, rec_agent):
        bridge = Bridge(leg_a, leg_b)
        bridge.add_tap(Tap())
        bridge.bridge()
        caller.send_frame(b"\x01" * 160)
        await get(rec_agent.packets)
        agent.send_frame(b"\x02" * 160)
        await get(rec_c.packets)
        bridge.unbridge()
    assert seen == [(BridgeSide.A, 1), (BridgeSide.B, 2)]


async def test_digits_are_regenerated_on_the_other_leg_and_reported() -> None:
    reported: list[tuple[BridgeSide, str]] = []
    config = RtpSessionConfig(rtp_timeout=None)
    async with two_calls(config, config) as (caller, _, leg_a, _, leg_b, _, _agent, rec_agent):
        bridge = Bridge(leg_a, leg_b, on_dtmf=lambda side, d: reported.append((side, d.digit)))
        bridge.bridge()
        await caller.send_dtmf("5", duration=480)
        digit = await get(rec_agent.digits)
        assert digit.digit == "5" and digit.duration == 480
        assert reported == [(BridgeSide.A, "5")] and bridge.counters.dtmf_digits == 1
        bridge.unbridge()


async def test_hand_up_mode_does_not_regenerate() -> None:
    bridge = Bridge(_FakeLeg(), _FakeLeg(), dtmf_mode=DtmfMode.HAND_UP, on_dtmf=lambda side, d: None)
    bridge.bridge()
    bridge._dtmf(BridgeSide.A, DtmfDigit("1", 0, 800))
    assert bridge.counters.dtmf_digits == 1 and not bridge._dtmf_tasks
    bridge.unbridge()


class _FakeLeg:
    """A `BridgeLeg` that records what it is asked to send."""

    def __init__(self, payload_type: int = 0) -> None:
        self.listener = None
        self._pt = payload_type
        self.sent: list[tuple[bytes, bool]] = []
        self.skipped: list[int] = []

    @property
    def payload_type(self) -> int:
        return self._pt

    def send_frame(self, payload: bytes, *, marker: bool = False, samples: int | None = None) -> None:
        self.sent.append((payload, marker))

    def skip(self, samples: int) -> None:
        self.skipped.append(samples)

    async def send_dtmf(self, digit: str, *, duration: int | None = None) -> None:
        pass


def test_rewriter_skips_gaps_drops_late_packets_and_restarts_on_jumps() -> None:
    leg = _FakeLeg()
    counters = BridgeCounters()
    rewriter = StreamRewriter(leg, leg.payload_type, counters)
    frame = b"\xff" * 160
    rewriter.forward(RtpPacket(0, 10, 1600, 7, frame), 0.0)
    rewriter.forward(RtpPacket(0, 12, 1920, 7, frame), 0.04)  # seq 11 lost
    rewriter.forward(RtpPacket(0, 11, 1760, 7, frame), 0.041)  # ... and arrives late
    rewriter.forward(RtpPacket(0, 13, 1920 + 800, 7, frame, True), 0.1)  # silence suppression: a talkspurt
    rewriter.forward(RtpPacket(0, 14, 9_000_000, 7, frame), 0.12)  # timestamp jump far ahead of real time
    assert leg.skipped == [160, 640]
    assert [m for _, m in leg.sent] == [True, False, True, True]
    assert counters.late == 1 and counters.restarts == 1 and counters.forwarded == 4


def test_only_codecs_the_plane_decodes_can_be_transcoded() -> None:
    with pytest.raises(ValueError, match=r"payload type 18 is not PCMU, PCMA or G\.722"):
        Bridge(_FakeLeg(0), _FakeLeg(18))


async def test_regeneration_failure_is_counted() -> None:
    class Failing(_FakeLeg):
        async def send_dtmf(self, digit: str, *, duration: int | None = None) -> None:
            raise InvalidStateError("no telephone-event payload type was negotiated")

    bridge = Bridge(_FakeLeg(), Failing())
    bridge.bridge()
    bridge._dtmf(BridgeSide.A, DtmfDigit("1", 0, 800))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert bridge.counters.dtmf_failures == 1
    bridge.unbridge()


async def test_g722_caller_and_pcma_agent_hear_each_others_tone() -> None:
    frames = 25
    async with two_calls(G722_CONFIG, PCMA) as (caller, rec_c, leg_a, _, leg_b, _, agent, rec_agent):
        bridge = Bridge(leg_a, leg_b)
        bridge.bridge()
        phone_encode, phone_decode = codec(G722).encoder(), codec(G722).decoder()  # the G.722 phone's own
        for i in range(frames):
            caller.send_frame(phone_encode(tone(440, 160 * (i + 1))[320 * i :]))
            agent.send_frame(alaw_encode(tone(1000, 160 * (i + 1))[320 * i :]))
            await asyncio.sleep(0.002)
        to_agent = [await get(rec_agent.packets) for _ in range(frames)]
        to_caller = [await get(rec_c.packets) for _ in range(frames)]
    assert {p.payload_type for p in to_agent} == {8} and {p.payload_type for p in to_caller} == {9}
    assert bridge.counters.transcoded == 2 * frames
    heard_by_agent = b"".join(alaw_decode(p.payload) for p in to_agent)[320 * 3 :]
    heard_by_caller = b"".join(phone_decode(p.payload) for p in to_caller)[320 * 3 :]
    assert level_at(heard_by_agent, 440) == pytest.approx(8000, rel=0.08)
    assert level_at(heard_by_caller, 1000) == pytest.approx(8000, rel=0.08)
    assert level_at(heard_by_caller, 440) < 400 and level_at(heard_by_agent, 1000) < 400


async def test_g722_on_both_legs_is_forwarded_byte_for_byte() -> None:
    async with two_calls(G722_CONFIG, G722_CONFIG) as (caller, _, leg_a, _, leg_b, _, _agent, rec_agent):
        Bridge(leg_a, leg_b).bridge()
        sent = codec(G722).encoder()(tone(440))
        caller.send_frame(sent)
        assert (await get(rec_agent.packets)).payload == sent  # the phones' wideband audio passes untouched


def test_a_g722_rewriter_swapped_to_another_target_encodes_for_it() -> None:
    leg, inlet = _FakeLeg(9), _FakeLeg(9)
    rewriter = StreamRewriter(leg, 8, BridgeCounters())
    rewriter.forward(RtpPacket(8, 1, 160, 7, alaw_encode(tone(440))), 0.0)
    rewriter.target = inlet  # the conference's inlet: what it gets must not advance the leg's own encoder
    rewriter.forward(RtpPacket(8, 2, 320, 7, alaw_encode(tone(440))), 0.02)
    assert stream_encoder(leg, 9) is not stream_encoder(inlet, 9)
    assert len(leg.sent) == 1 and len(inlet.sent) == 1
