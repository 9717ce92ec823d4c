"""An agent's browser line with an in-process aiortc peer connection as the browser: audio both ways (a tone sent
by each side is heard by the other at its frequency), G.711 preferred and Opus accepted, and the line rung,
answered, rejected, left unanswered, held, muted and hung up as the B2BUA and the page use it."""

from __future__ import annotations

import asyncio
import fractions
import math
import sys
from array import array
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import pytest
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, AudioResampler

from callboard.core.errors import InvalidStateError, ValidationError
from callboard.voice.calls.errors import DialError
from callboard.voice.calls.events import FarEndHeld, FarEndResumed, HangupCause, LegEvent, TransferRequest
from callboard.voice.calls.leg import Leg, LegState
from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.offers import ring_agent
from callboard.voice.calls.ports import Offer
from callboard.voice.calls.webrtc_line import LineState, Ring, WebRtcLine
from callboard.voice.calls.webrtc_lines import WebRtcLines
from callboard.voice.media.clock import VirtualMediaClock
from callboard.voice.media.dtmf import DtmfDigit
from callboard.voice.media.g711 import ulaw_decode, ulaw_encode
from callboard.voice.media.ports import RtpPortPool
from callboard.voice.media.rtcp import RtcpCompoundPacket
from callboard.voice.media.rtp import RtpPacket
from callboard.voice.media.session import RtpTimeoutCause
from callboard.voice.sip.uri import NameAddr, SipUri

sys.path.insert(0, str(Path(__file__).parents[2] / "e2e"))
from audio import rms, tone_share

BROWSER_TONE = 1000.0
SERVER_TONE = 440.0


class ToneTrack(MediaStreamTrack):
    """A browser's microphone: a sine in 20 ms frames at `rate`, paced in real time."""

    kind = "audio"

    def __init__(self, frequency: float, rate: int = 48000) -> None:
        super().__init__()
        self.frequency, self.rate, self.sent = frequency, rate, 0

    async def recv(self) -> AudioFrame:
        await asyncio.sleep(0.02)
        count, step = self.rate // 50, 2 * math.pi * self.frequency / self.rate
        samples = array("h", (round(12000 * math.sin(step * (self.sent + i))) for i in range(count)))
        frame = AudioFrame(format="s16", layout="mono", samples=count)
        frame.planes[0].update(samples.tobytes())
        frame.sample_rate, frame.pts, frame.time_base = self.rate, self.sent, fractions.Fraction(1, self.rate)
        self.sent += count
        return frame


class Browser:
    """An aiortc peer connection standing in for the agent's page: it sends a tone and keeps what it hears."""

    def __init__(self, codecs: list[str] | None = None) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.heard = array("h")
        transceiver = self.pc.addTransceiver(ToneTrack(BROWSER_TONE), direction="sendrecv")
        if codecs is not None:
            capabilities = RTCRtpSender.getCapabilities("audio").codecs
            transceiver.setCodecPreferences([c for c in capabilities if c.mimeType in codecs])
        self._listening: asyncio.Task[None] | None = None
        self._transceiver = transceiver

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def answered(self, sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
        self._listening = asyncio.get_running_loop().create_task(self._listen(self._transceiver.receiver.track))

    async def _listen(self, track: MediaStreamTrack) -> None:
        resampler = AudioResampler(format="s16", layout="mono", rate=8000)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            for out in resampler.resample(frame):
                self.heard.frombytes(bytes(out.planes[0])[: out.samples * 2])

    async def close(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with suppress(asyncio.CancelledError):
                await self._listening
        await self.pc.close()


class Ear:
    """The line's listener (as a bridge would be): the packets and digits the browser sends."""

    def __init__(self) -> None:
        self.packets: list[RtpPacket] = []
        self.digits: list[str] = []

    def rtp_received(self, packet: RtpPacket) -> None:
        self.packets.append(packet)

    def dtmf_received(self, digit: DtmfDigit) -> None:
        self.digits.append(digit.digit)

    def rtcp_received(self, packet: RtcpCompoundPacket) -> None:
        pass

    def rtp_timeout(self, cause: RtpTimeoutCause) -> None:
        pass

    def samples(self) -> array[int]:
        return array("h", b"".join(ulaw_decode(p.payload) for p in self.packets))


def settings() -> MediaSettings:
    return MediaSettings(RtpPortPool(22000, 22100, host="127.0.0.1"), VirtualMediaClock(), "127.0.0.1")


@asynccontextmanager
async def connected(codecs: list[str] | None = None) -> AsyncIterator[tuple[WebRtcLine, Browser]]:
    browser = Browser(codecs)
    line, answer = await WebRtcLine.open("WK1", await browser.offer(), settings())
    await browser.answered(answer)
    try:
        yield line, browser
    finally:
        await line.close()
        await browser.close()


async def speak(line: WebRtcLine, seconds: float) -> None:
    """The server's side sends a tone into the line, 20 ms at a time, as a bridge forwards a caller's RTP."""
    for n in range(round(seconds * 50)):
        pcm = array(
            "h", (round(12000 * math.sin(2 * math.pi * SERVER_TONE * (n * 160 + i) / 8000)) for i in range(160))
        )
        line.audio.send_frame(ulaw_encode(pcm.tobytes()), samples=160)
        await asyncio.sleep(0.02)


@pytest.mark.parametrize(("codecs", "expected"), [(None, "PCMU"), (["audio/PCMA"], "PCMA"), (["audio/opus"], "opus")])
async def test_audio_goes_both_ways(codecs: list[str] | None, expected: str) -> None:
    async with connected(codecs) as (line, browser):
        assert line.codec == expected
        ear = Ear()
        line.audio.listener = ear
        await speak(line, 2.0)
        heard, sent = browser.heard[8000:], ear.samples()[8000:]  # past the connection's first second
        assert rms(heard) > 1000 and tone_share(heard, SERVER_TONE) > 0.8
        assert rms(sent) > 1000 and tone_share(sent, BROWSER_TONE) > 0.8
        assert {p.payload_type for p in ear.packets} == {0}


async def test_muted_line_sends_silence_and_keys_arrive_as_digits() -> None:
    async with connected() as (line, _browser):
        ear = Ear()
        line.audio.listener = ear
        await asyncio.sleep(1.0)
        line.audio.muted = True
        ear.packets.clear()
        await asyncio.sleep(0.5)
        assert ear.packets and rms(ear.samples()) < 100
        line.audio.press("5")
        assert ear.digits == ["5"]


async def test_an_unusable_offer_is_refused() -> None:
    with pytest.raises(ValidationError):
        await WebRtcLine.open("WK1", "v=0\r\nnot sdp\r\n", settings())


async def test_ring_answer_hold_and_hang_up() -> None:
    async with connected() as (line, _browser):
        ringing = asyncio.ensure_future(line.ring(Ring("WR1", "WT1", "CA1", "Alice"), 5.0))
        await asyncio.sleep(0.05)
        assert line.state is LineState.RINGING
        assert line.view()["ringing"]["caller"] == "Alice"
        line.answer()
        leg = await ringing
        assert leg.state is LegState.ANSWERED and line.state is LineState.CONNECTING
        assert leg.session is line.audio and line.audio.listener is leg
        leg._set_state(LegState.BRIDGED)  # as `Leg.bridge` does once the B2BUA puts the caller through
        assert line.state is LineState.TALKING
        events: list[LegEvent] = []
        leg.subscribe(events.append)
        leg.hold_caller(True)
        assert leg.held_by_far_end and isinstance(events[-1], FarEndHeld)
        leg.hold_caller(False)
        assert isinstance(events[-1], FarEndResumed)
        with pytest.raises(DialError) as busy:
            await line.ring(Ring("WR2", "WT2", "CA2", "Bob"), 1.0)
        assert busy.value.cause is HangupCause.BUSY
        leg.hang_up_by_agent()
        hangup = await leg.wait_ended()
        assert hangup.remote and hangup.cause is HangupCause.NORMAL
        assert line.state is LineState.IDLE and line.audio.listener is None


async def test_a_transfer_asked_on_the_page_waits_for_the_owner() -> None:
    async with connected() as (line, _browser):
        ringing = asyncio.ensure_future(line.ring(Ring("WR1", "WT1", "CA1", "Alice"), 5.0))
        await asyncio.sleep(0.05)
        line.answer()
        leg = await ringing

        def owner(event: LegEvent) -> None:
            if isinstance(event, TransferRequest):
                assert event.user == "support" and not event.attended
                leg.report_transfer(200, event.refer_id)

        leg.subscribe(owner)
        assert await leg.ask_transfer("support") == 200


async def test_reject_timeout_and_a_closing_line() -> None:
    async with connected() as (line, _browser):
        ringing = asyncio.ensure_future(line.ring(Ring("WR1", "WT1", "CA1", "Alice"), 5.0))
        await asyncio.sleep(0.05)
        line.reject()
        with pytest.raises(DialError) as rejected:
            await ringing
        assert rejected.value.cause is HangupCause.REJECTED and line.state is LineState.IDLE
        with pytest.raises(DialError) as unanswered:
            await line.ring(Ring("WR2", "WT2", "CA2", "Alice"), 0.1)
        assert unanswered.value.cause is HangupCause.NO_ANSWER
        with pytest.raises(InvalidStateError):
            line.answer()
        ringing = asyncio.ensure_future(line.ring(Ring("WR3", "WT3", "CA3", "Alice"), 5.0))
        await asyncio.sleep(0.05)
        await line.close()
        with pytest.raises(DialError) as closed:
            await ringing
        assert closed.value.cause is HangupCause.TRANSPORT_ERROR


async def test_lines_by_worker() -> None:
    lines = WebRtcLines(settings())
    first, second = Browser(), Browser()
    try:
        await first.answered(await lines.open_line("WK1", await first.offer()))
        old = lines.line("WK1")
        await second.answered(await lines.open_line("WK1", await second.offer()))
        assert old.state is LineState.CLOSED and lines.line("WK1") is not old
        assert lines.line_view("WK1")["state"] == "idle"
        with pytest.raises(InvalidStateError):
            lines.hold("WK1", True)
        assert await lines.close_line("WK1") and not await lines.close_line("WK1")
    finally:
        await lines.close()
        await first.close()
        await second.close()


class Refusals:
    """The routing port's `reject`, as `ring_agent` reports to it."""

    def __init__(self) -> None:
        self.rejected: list[tuple[str, bool]] = []

    async def reject(self, workspace_sid: str, reservation_sid: str, *, unreachable: bool) -> None:
        self.rejected.append((reservation_sid, unreachable))


async def test_an_offer_for_a_webrtc_agent_rings_their_line() -> None:
    lines = WebRtcLines(settings())
    routing = Refusals()
    from_ = NameAddr(SipUri("callboard.test", "5550100"), "Caller 5550100")

    def offer(res: str) -> Offer:
        return Offer("WT1", res, "WK1", "WQ1", 5.0, "CA1", "WS1", phone="webrtc")

    async def ring(res: str) -> Leg | None:
        return await ring_agent(
            routing,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            lines.settings, "WS1", offer(res), call_sid="CA1", from_=from_, lines=lines,
        )  # fmt: skip

    assert await ring("WR0") is None  # no line open: unreachable, as a worker with no phone registered
    browser = Browser()
    try:
        await browser.answered(await lines.open_line("WK1", await browser.offer()))
        rejected = asyncio.ensure_future(ring("WR1"))
        await asyncio.sleep(0.05)
        assert lines.line_view("WK1")["ringing"] == {
            "reservation_sid": "WR1", "task_sid": "WT1", "call_sid": "CA1", "caller": "5550100",
            "caller_name": "Caller 5550100",
        }  # fmt: skip
        lines.reject("WK1")
        assert await rejected is None
        answered = asyncio.ensure_future(ring("WR2"))
        await asyncio.sleep(0.05)
        lines.answer("WK1")
        leg = await answered
        assert leg is not None and leg.state is LegState.ANSWERED
        await lines.hang_up("WK1")
        assert routing.rejected == [("WR0", True), ("WR1", False)]
    finally:
        await lines.close()
        await browser.close()
