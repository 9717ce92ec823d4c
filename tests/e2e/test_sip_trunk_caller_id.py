"""An outbound call to a trunk played by SIPp presents a withheld caller ID: SIPp checks From, P-Asserted-Identity
and Privacy, then answers 486."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sipp import LOOPBACK, finish_sipp, free_udp_port, require_sipp, start_sipp

from callboard.core.clock import SystemClock
from callboard.voice.sip.call_events import CallEvent, Hangup, HangupCause
from callboard.voice.sip.caller_id import CallerId
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import InviteSession
from callboard.voice.sip.scheduler import AsyncioScheduler
from callboard.voice.sip.transports import UdpTransport
from callboard.voice.sip.user_agent import UserAgent

SCENARIO = Path(__file__).parent / "scenarios" / "trunk_caller_id_uas.xml"
OFFER = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
pytestmark = pytest.mark.e2e


class Caller:
    def __init__(self) -> None:
        self.ended: asyncio.Future[Hangup] = asyncio.get_running_loop().create_future()

    def on_incoming_call(self, call: IncomingCall) -> None:
        call.reject(403)

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        if isinstance(event, Hangup) and not self.ended.done():
            self.ended.set_result(event)


@pytest.fixture(autouse=True)
def _sipp() -> None:
    require_sipp()


async def test_a_withheld_caller_id_reaches_the_trunk(tmp_path: Path) -> None:
    port = free_udp_port()
    process = await start_sipp(
        *["-sf", str(SCENARIO), "-i", LOOPBACK, "-p", str(port), "-m", "1"],
        *["-timeout", "10s", "-timeout_error", "-nostdin", "-trace_err", "-error_file", str(tmp_path / "errors.log")],
        cwd=tmp_path,
    )
    caller = Caller()
    clock = SystemClock()
    ua = UserAgent(caller, scheduler=AsyncioScheduler(clock), clock=clock)
    transport = await UdpTransport.open(ua, LOOPBACK, 0)
    ua.bind(transport, sent_by=transport.sent_by)
    try:
        await asyncio.sleep(0.2)  # SIPp binds its port
        ua.invite(
            f"sip:+15550001111@{LOOPBACK}:{port}",
            sdp=OFFER,
            caller_id=CallerId("+15551234567", "Acme Support", withheld=True),
        )
        async with asyncio.timeout(10):
            hangup = await caller.ended
    finally:
        code, output = await finish_sipp(process)
        await transport.close()
    errors = tmp_path / "errors.log"
    assert code == 0, output + (errors.read_text() if errors.exists() else "")
    assert (hangup.cause, hangup.status_code) == (HangupCause.BUSY, 486)
