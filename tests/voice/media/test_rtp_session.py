"""RTP sessions on loopback: frame exchange, symmetric RTP, timeouts, DTMF, RTCP reports, clean close."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from rtp_session_peers import LOOPBACK, Recorder, get, raw_peer, session_pair

from callboard.core.errors import InvalidStateError
from callboard.voice.media.ports import RtpPortPool
from callboard.voice.media.rtcp import ReceiverReport, RtcpCompoundPacket, SenderReport, SourceDescription
from callboard.voice.media.rtp import RtpPacket, seq_diff, timestamp_diff
from callboard.voice.media.session import RtpSession, RtpSessionConfig, RtpSessionState, RtpTimeoutCause


async def test_frames_keep_sequence_timestamp_and_ssrc() -> None:
    async with session_pair() as (a, _, b, rec_b):
        for i in range(5):
            a.send_frame(bytes([i]) * 160)
        a.skip(320)  # two frames of silence: a new talkspurt
        a.send_frame(b"\x05" * 160)
        got = [await get(rec_b.packets) for _ in range(6)]
    assert {p.ssrc for p in got} == {a.ssrc}
    assert [p.payload[0] for p in got] == [0, 1, 2, 3, 4, 5]
    assert all(seq_diff(q.sequence_number, p.sequence_number) == 1 for p, q in itertools.pairwise(got))
    steps = [timestamp_diff(q.timestamp, p.timestamp) for p, q in itertools.pairwise(got)]
    assert steps == [160, 160, 160, 160, 480]
    assert [p.marker for p in got] == [True, False, False, False, False, True]
    assert b.counters.packets_received == 6 and b.stats.sources[a.ssrc].received >= 4


async def test_symmetric_rtp_latches_onto_the_actual_source() -> None:
    recorder = Recorder()
    session = RtpSession(RtpSessionConfig(rtp_timeout=None), recorder)
    await session.open(host=LOOPBACK)
    try:
        async with raw_peer() as (signalled, signalled_rx), raw_peer() as (actual, actual_rx):
            session.set_remote(LOOPBACK, signalled.get_extra_info("sockname")[1])
            session.send_frame(b"\xff" * 160)
            await get(signalled_rx)  # before latching, media goes to the signalled address
            assert session.local_rtp is not None
            actual.sendto(bytes(RtpPacket(0, 1, 160, 1234, b"\xff" * 160)), session.local_rtp)
            await get(recorder.packets)
            session.send_frame(b"\xff" * 160)
            data, _ = await get(actual_rx)  # after latching, replies go where the peer sends from
            assert RtpPacket.parse(data).ssrc == session.ssrc
            assert session.remote_rtp == actual.get_extra_info("sockname")[:2]
            # Another source while the latched one is active is dropped, not latched.
            signalled.sendto(bytes(RtpPacket(0, 2, 320, 1234, b"\xff" * 160)), session.local_rtp)
            actual.sendto(bytes(RtpPacket(0, 3, 480, 1234, b"\xff" * 160)), session.local_rtp)
            assert (await get(recorder.packets)).sequence_number == 3
            assert session.counters.foreign_source == 1 and session.counters.latches == 1
    finally:
        await session.close()


async def test_unknown_remote_latches_onto_any_source_and_ignores_other_payload_types() -> None:
    recorder = Recorder()
    session = RtpSession(RtpSessionConfig(rtp_timeout=None), recorder)
    await session.open(host=LOOPBACK)
    try:
        session.set_remote(None)
        session.send_frame(b"\xff" * 160)
        assert session.counters.unsent_no_remote == 1
        async with raw_peer() as (peer, peer_rx):
            assert session.local_rtp is not None
            peer.sendto(bytes(RtpPacket(96, 1, 0, 9, b"x")), session.local_rtp)  # not negotiated
            peer.sendto(b"garbage", session.local_rtp)
            peer.sendto(bytes(RtpPacket(0, 2, 0, 9, b"\xff" * 160)), session.local_rtp)
            await get(recorder.packets)
            assert (session.counters.unknown_payload_type, session.counters.parse_errors) == (1, 1)
            session.send_frame(b"\xff" * 160)
            await get(peer_rx)
    finally:
        await session.close()


async def test_rtp_timeout_fires_on_a_silent_peer() -> None:
    config = RtpSessionConfig(rtp_timeout=0.3)
    async with session_pair(config) as (a, rec_a, _b, rec_b):
        assert await get(rec_a.timeouts) is RtpTimeoutCause.NO_MEDIA
        a.send_frame(b"\xff" * 160)
        await get(rec_b.packets)
        assert await get(rec_b.timeouts) in (RtpTimeoutCause.MEDIA_STOPPED, RtpTimeoutCause.NO_MEDIA)
        while not rec_b.timeouts.empty():
            rec_b.timeouts.get_nowait()
        a.send_frame(b"\xff" * 160)
        await get(rec_b.packets)
        assert await get(rec_b.timeouts) is RtpTimeoutCause.MEDIA_STOPPED


async def test_dtmf_sent_by_one_session_is_received_as_digits() -> None:
    async with session_pair() as (a, _, _b, rec_b):
        await a.send_dtmf("5", duration=480)
        a.send_frame(b"\xff" * 160)
        await a.send_dtmf("#", duration=320)
        first, second = await get(rec_b.digits), await get(rec_b.digits)
        audio = await get(rec_b.packets)
    assert (first.digit, first.duration, first.ended) == ("5", 480, True)
    assert second.digit == "#" and timestamp_diff(second.timestamp, first.timestamp) >= 480
    assert audio.marker and timestamp_diff(audio.timestamp, first.timestamp) >= 480
    assert rec_b.digits.empty()  # end retransmissions reported once


async def test_rtcp_reports_carry_plausible_loss_and_jitter() -> None:
    async with session_pair(RtpSessionConfig(rtcp_interval=3600)) as (a, rec_a, b, rec_b):
        for i in range(20):
            if i not in (7, 13):  # two packets "lost" before they leave
                a.send_frame(b"\xff" * 160)
            else:
                a._sequence = (a._sequence + 1) & 0xFFFF
                a.skip(160)
        for _ in range(18):
            await get(rec_b.packets)
        a.send_rtcp_report()
        sr_compound: RtcpCompoundPacket = await get(rec_b.rtcp)
        b.send_rtcp_report()
        rr_compound: RtcpCompoundPacket = await get(rec_a.rtcp)
        remote = a.remote_reports[b.ssrc]
    sr = sr_compound.packets[0]
    assert isinstance(sr, SenderReport) and sr.ssrc == a.ssrc and sr.packet_count == 18
    assert isinstance(sr_compound.packets[1], SourceDescription)
    rr = rr_compound.packets[0]
    assert isinstance(rr, ReceiverReport) and rr.ssrc == b.ssrc
    (block,) = rr.reports
    assert block.ssrc == a.ssrc and block.cumulative_lost == 2
    assert 0 < block.fraction_lost < 64  # 2 of 19 counted after probation: about 10 %
    assert block.jitter < 8000  # loopback: far below a second
    assert remote == block


async def test_sessions_on_pool_ports_and_close() -> None:
    pool = RtpPortPool(23000, 23100, host=LOOPBACK)  # below the ephemeral ports (32768+) others pick at random
    lease = pool.allocate()
    session = RtpSession()
    try:
        await session.open(lease)
        assert session.local_rtp == (LOOPBACK, lease.rtp_port)
        assert session.local_rtcp == (LOOPBACK, lease.rtp_port + 1)
    finally:
        await session.close("bye")
        pool.release(lease)
    assert session.state is RtpSessionState.CLOSED
    await session.close()  # idempotent
    with pytest.raises(InvalidStateError):
        session.send_frame(b"\xff" * 160)


async def test_close_sends_bye() -> None:
    async with session_pair() as (a, _, _b, rec_b):
        await a.close("done")
        compound: RtcpCompoundPacket = await get(rec_b.rtcp)
    assert any(getattr(p, "reason", None) == "done" for p in compound.packets)


async def test_audio_is_held_while_a_digit_is_sent() -> None:
    async with session_pair() as (a, _, _b, _rec_b):
        task = asyncio.create_task(a.send_dtmf("1", duration=320))
        await asyncio.sleep(0)
        a.send_frame(b"\xff" * 160)
        await task
    assert a.counters.suppressed_during_dtmf == 1
