"""OPTIONS keepalive probes against real peers: SIPp answering (up, with a round-trip time), then SIPp gone (down),
and a port where nothing listens (down)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sipp import LOOPBACK, finish_sipp, free_udp_port, require_sipp, start_sipp

from callboard.core.clock import SystemClock
from callboard.voice.sip.call_events import CallEvent
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import InviteSession
from callboard.voice.sip.options_prober import OptionsProber, ProbeSettings, ProbeStatus, ProbeTarget, Reachability
from callboard.voice.sip.scheduler import AsyncioScheduler
from callboard.voice.sip.transports import UdpTransport
from callboard.voice.sip.user_agent import UserAgent

SCENARIO = Path(__file__).parent / "scenarios" / "trunk_options_uas.xml"
SETTINGS = ProbeSettings(interval=0.3, timeout=0.5, down_after=2)
pytestmark = pytest.mark.e2e


class NoCalls:
    def on_incoming_call(self, call: IncomingCall) -> None:
        call.reject(403)

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        pass


class Verdicts:
    def __init__(self) -> None:
        self.seen: list[ProbeStatus] = []
        self.changed: asyncio.Queue[Reachability] = asyncio.Queue()

    def on_reachability_changed(self, target: ProbeTarget, status: ProbeStatus) -> None:
        self.seen.append(status)
        self.changed.put_nowait(status.reachability)


@pytest.fixture(autouse=True)
def _sipp() -> None:
    require_sipp()


async def prober_user_agent() -> tuple[UserAgent, UdpTransport]:
    clock = SystemClock()
    ua = UserAgent(NoCalls(), scheduler=AsyncioScheduler(clock), clock=clock)
    transport = await UdpTransport.open(ua, LOOPBACK, 0)
    ua.bind(transport, sent_by=transport.sent_by)
    return ua, transport


async def test_a_trunk_answering_options_is_up_then_down_when_it_goes_away(tmp_path: Path) -> None:
    port = free_udp_port()
    process = await start_sipp(
        *["-sf", str(SCENARIO), "-i", LOOPBACK, "-p", str(port), "-m", "3"],
        *["-timeout", "10s", "-timeout_error", "-nostdin"],
        cwd=tmp_path,
    )
    ua, transport = await prober_user_agent()
    verdicts = Verdicts()
    prober = OptionsProber(ua, settings=SETTINGS, listener=verdicts)
    target = prober.add(f"sip:trunk@{LOOPBACK}:{port}")
    try:
        prober.start()
        async with asyncio.timeout(10):
            assert await verdicts.changed.get() is Reachability.UP
            up = verdicts.seen[-1]
            code, output = await finish_sipp(process)  # it leaves after answering three probes
            assert await verdicts.changed.get() is Reachability.DOWN
    finally:
        prober.stop()
        if process.returncode is None:
            process.kill()
            await process.wait()
        await transport.close()
    assert code == 0, output
    assert up.status_code == 200 and up.rtt is not None and 0 < up.rtt < SETTINGS.timeout
    down = target.status
    assert (down.failures, down.status_code, down.reason) == (2, None, "no answer")
    assert target.probes >= 5  # three answered, two not


async def test_nothing_listening_is_down(tmp_path: Path) -> None:
    ua, transport = await prober_user_agent()
    verdicts = Verdicts()
    prober = OptionsProber(ua, settings=SETTINGS, listener=verdicts)
    target = prober.add(f"sip:trunk@{LOOPBACK}:{free_udp_port()}")
    try:
        prober.start()
        async with asyncio.timeout(5):
            assert await verdicts.changed.get() is Reachability.DOWN
    finally:
        prober.stop()
        await transport.close()
    assert [s.reachability for s in verdicts.seen] == [Reachability.DOWN]
    assert target.status.failures == 2 and target.status.rtt is None
