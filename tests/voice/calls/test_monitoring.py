"""A supervisor's browser line (an in-process aiortc peer connection sending a 1 kHz tone) on a live call whose
customer and agent send tones of their own, in real time on the shared media clock: listening hears both and
says nothing, a whisper reaches the agent only, a barge everyone; the supervisor switches and leaves, and the
port's errors."""

from __future__ import annotations

import asyncio
import math
from array import array
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import pytest
from test_webrtc_line import BROWSER_TONE, Browser  # also puts tests/e2e (the audio helpers) on the path

from audio import rms, tone_share  # isort: skip

from callboard.core.errors import ConflictError, NotFoundError, ValidationError
from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.monitoring import LiveCall, Monitoring
from callboard.voice.calls.webrtc_audio import LineAudio
from callboard.voice.calls.webrtc_leg import WebRtcLeg
from callboard.voice.calls.webrtc_lines import WebRtcLines
from callboard.voice.media.clock import AsyncioMediaClock
from callboard.voice.media.g711 import ulaw_decode
from callboard.voice.media.ports import RtpPortPool

CUSTOMER_TONE, AGENT_TONE = 440.0, 700.0


class Party(LineAudio):
    """A customer's or an agent's audio: speaks a tone every 20 ms and keeps what it is sent (8 kHz PCM)."""

    def __init__(self, frequency: float) -> None:
        super().__init__()
        self.frequency, self.sent = frequency, 0
        self.received = array("h")

    def send_frame(self, payload: bytes, *, marker: bool = False, samples: int | None = None) -> None:
        self.received.frombytes(ulaw_decode(payload))

    def speak(self) -> None:
        step = 2 * math.pi * self.frequency / 8000
        pcm = array("h", (round(8000 * math.sin(step * (self.sent + i))) for i in range(160)))
        self.sent += 160
        self.heard(pcm.tobytes())


@asynccontextmanager
async def live_call() -> AsyncIterator[tuple[Monitoring, Party, Party]]:
    clock = AsyncioMediaClock()
    clock.start()
    settings = MediaSettings(RtpPortPool(23200, 23300, host="127.0.0.1"), clock, "127.0.0.1")
    customer_audio, agent_audio = Party(CUSTOMER_TONE), Party(AGENT_TONE)
    customer = WebRtcLeg.connected(settings, customer_audio)
    agent = WebRtcLeg.connected(settings, agent_audio)
    customer.bridge(agent)
    calls = {"CA1": LiveCall("CA1", customer, "WS1")}
    monitoring = Monitoring(WebRtcLines(settings), calls.get)

    async def talk() -> None:
        while True:
            customer_audio.speak()
            agent_audio.speak()
            await asyncio.sleep(0.02)

    talking = asyncio.get_running_loop().create_task(talk())
    try:
        yield monitoring, customer_audio, agent_audio
    finally:
        talking.cancel()
        with suppress(asyncio.CancelledError):
            await talking
        await monitoring.close()
        customer.hang_up_by_agent()
        agent.hang_up_by_agent()
        await clock.stop()


async def heard_for(seconds: float, *parties: Party | Browser) -> list[array[int]]:
    """What each party hears during the next `seconds`."""
    starts = [len(p.received) if isinstance(p, Party) else len(p.heard) for p in parties]
    await asyncio.sleep(seconds)
    return [(p.received if isinstance(p, Party) else p.heard)[start:] for p, start in zip(parties, starts, strict=True)]


async def test_supervisor_listens_whispers_and_barges_from_a_browser_line() -> None:
    browser = Browser()
    async with live_call() as (monitoring, customer, agent):
        try:
            await browser.answered(await monitoring.open_line("U1", await browser.offer()))
            joined = monitoring.monitor("U1", "CA1", "listen", workspace_sid="WS1")
            assert joined["monitors"] == [{"user_id": "U1", "mode": "listen"}] and joined["connected"]
            await asyncio.sleep(1.0)  # the connection settles
            sup, heard_by_customer, heard_by_agent = await heard_for(1.5, browser, customer, agent)
            assert rms(sup) > 500 and tone_share(sup, CUSTOMER_TONE) > 0.2 and tone_share(sup, AGENT_TONE) > 0.2
            assert tone_share(heard_by_customer, AGENT_TONE) > 0.8 and tone_share(heard_by_agent, CUSTOMER_TONE) > 0.8
            assert tone_share(heard_by_customer, BROWSER_TONE) < 0.05
            assert tone_share(heard_by_agent, BROWSER_TONE) < 0.05

            monitoring.set_mode("U1", "CA1", "whisper")
            heard_by_customer, heard_by_agent = await heard_for(1.5, customer, agent)
            assert tone_share(heard_by_agent, BROWSER_TONE) > 0.2 and tone_share(heard_by_agent, CUSTOMER_TONE) > 0.2
            assert tone_share(heard_by_customer, BROWSER_TONE) < 0.05

            monitoring.monitor("U1", "CA1", "barge", workspace_sid="WS1")  # joining again changes the mode
            heard_by_customer, heard_by_agent = await heard_for(1.5, customer, agent)
            assert tone_share(heard_by_customer, BROWSER_TONE) > 0.2 and tone_share(heard_by_agent, BROWSER_TONE) > 0.2
            assert monitoring.line_view("U1")["monitoring"] == {"call_sid": "CA1", "mode": "barge"}

            monitoring.leave("U1", "CA1")
            assert monitoring.line_view("U1")["monitoring"] is None and monitoring.view("CA1")["monitors"] == []
            heard_by_customer, heard_by_agent = await heard_for(1.0, customer, agent)
            assert tone_share(heard_by_customer, BROWSER_TONE) < 0.05 and tone_share(heard_by_agent, AGENT_TONE) < 0.05
            assert tone_share(heard_by_customer, AGENT_TONE) > 0.8
        finally:
            await browser.close()


async def test_the_ports_errors() -> None:
    browser = Browser()
    async with live_call() as (monitoring, _customer, _agent):
        try:
            with pytest.raises(NotFoundError) as no_line:
                monitoring.monitor("U1", "CA1", "listen")
            assert no_line.value.error_id == "line_not_open"
            await browser.answered(await monitoring.open_line("U1", await browser.offer()))
            for call_sid, workspace in (("CA404", "WS1"), ("CA1", "WS2")):
                with pytest.raises(NotFoundError) as gone:
                    monitoring.monitor("U1", call_sid, "listen", workspace_sid=workspace)
                assert gone.value.error_id == "call_not_live"
            with pytest.raises(ValidationError):
                monitoring.monitor("U1", "CA1", "shout")
            with pytest.raises(NotFoundError) as not_on_it:
                monitoring.set_mode("U1", "CA1", "barge")
            assert not_on_it.value.error_id == "not_monitoring"
            monitoring.monitor("U1", "CA1", "listen")
            customer = monitoring.conferences["CA1"].customer
            monitoring.find = lambda sid: LiveCall(sid, customer, None)  # another call, any workspace
            with pytest.raises(ConflictError) as busy:
                monitoring.monitor("U1", "CA2", "listen")
            assert busy.value.error_id == "already_monitoring"
            assert await monitoring.close_line("U1")
            assert monitoring.view("CA1")["monitors"] == [] and "CA1" not in monitoring.conferences
        finally:
            await browser.close()
