"""SIPp calls over UDP and presses 1 as RFC 4733 events (its dtmf_2833_1.pcap); a leg answers and gathers it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sipp import finish_sipp, free_media_port, require_sipp, start_sipp

from callboard.core.clock import SystemClock
from callboard.voice.calls.events import Answered, Dtmf, Hangup, HangupCause
from callboard.voice.calls.leg import Leg
from callboard.voice.calls.media import MediaSettings
from callboard.voice.media.clock import AsyncioMediaClock
from callboard.voice.media.ports import RtpPortPool
from callboard.voice.sip.call_events import CallEvent
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import InviteSession
from callboard.voice.sip.scheduler import AsyncioScheduler
from callboard.voice.sip.transports import UdpTransport
from callboard.voice.sip.user_agent import UserAgent
from conftest import require_peer

LOOPBACK = "127.0.0.1"
SCENARIO = Path(__file__).parent / "scenarios" / "dtmf_uac.xml"
PCAP = next(
    (p for p in (Path("/usr/share/sip-tester/pcap/dtmf_2833_1.pcap"), Path("/usr/share/sip-tester/dtmf_2833_1.pcap"))
     if p.exists()), None,
)  # fmt: skip
pytestmark = pytest.mark.e2e


class Switch:
    """Turns each incoming call into a leg."""

    def __init__(self, settings: MediaSettings) -> None:
        self.settings = settings
        self.legs: asyncio.Queue[Leg] = asyncio.Queue()

    def on_incoming_call(self, call: IncomingCall) -> None:
        self.legs.put_nowait(Leg.incoming(call, self.settings))

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        raise AssertionError(f"a leg should have taken {call!r}")


@pytest.fixture(autouse=True)
def _sipp() -> None:
    require_sipp()
    require_peer("sipp DTMF pcap", PCAP is not None, "SIPp's dtmf_2833_1.pcap (sip-tester package)")


async def test_sipp_presses_1_and_the_leg_gathers_it(tmp_path: Path) -> None:
    clock = AsyncioMediaClock()
    clock.start()
    settings = MediaSettings(RtpPortPool(22000, 22200, host=LOOPBACK), clock, LOOPBACK)
    switch = Switch(settings)
    system_clock = SystemClock()
    ua = UserAgent(switch, scheduler=AsyncioScheduler(system_clock), clock=system_clock)
    transport = await UdpTransport.open(ua, LOOPBACK, 0)
    ua.bind(transport, sent_by=transport.sent_by)
    try:
        process = await start_sipp(
            *[f"{LOOPBACK}:{transport.local_address[1]}", "-sf", str(SCENARIO), "-key", "pcap", str(PCAP)],
            *[
                "-i",
                LOOPBACK,
                "-mi",
                LOOPBACK,
                "-p",
                "0",
                "-mp",
                str(free_media_port()),
                "-m",
                "1",
                "-timeout",
                "15s",
            ],
            *["-timeout_error", "-nostdin"],
            cwd=tmp_path,
        )
        try:
            async with asyncio.timeout(20):
                leg = await switch.legs.get()
                leg.ring()
                await leg.answer()
                digits = await leg.gather(max_digits=1, timeout=5.0)
                hangup = await leg.wait_ended()
        finally:
            code, output = await finish_sipp(process)
    finally:
        await transport.close()
        await clock.stop()
    assert code == 0, output
    assert digits == "1"
    assert (hangup.cause, hangup.remote) == (HangupCause.NORMAL, True)
    assert [type(e) for e in leg.feed.history][1:] == [Answered, Dtmf, Hangup]
    assert settings.pool.in_use == 0
