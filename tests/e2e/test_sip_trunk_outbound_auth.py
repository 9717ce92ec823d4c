"""An outbound call through a trunk played by SIPp that challenges the INVITE: 401 (MD5), the INVITE sent again
with credentials SIPp verifies, answered, then hung up by us; a wrong password ends with the trunk's 403."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sipp import LOOPBACK, finish_sipp, free_media_port, free_udp_port, require_sipp, start_sipp

from callboard.core.clock import SystemClock
from callboard.voice.sip.call_events import Answered, CallEvent, Hangup, HangupCause, Ringing
from callboard.voice.sip.digest import DigestClient
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import InviteSession
from callboard.voice.sip.scheduler import AsyncioScheduler
from callboard.voice.sip.transports import UdpTransport
from callboard.voice.sip.user_agent import UserAgent

SCENARIO = Path(__file__).parent / "scenarios" / "trunk_auth_uas.xml"
OFFER = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
pytestmark = pytest.mark.e2e


class Caller:
    """Hangs up a call as soon as it is answered; writes down what happens."""

    def __init__(self) -> None:
        self.events: list[CallEvent] = []
        self.ended: asyncio.Future[Hangup] = asyncio.get_running_loop().create_future()

    def on_incoming_call(self, call: IncomingCall) -> None:
        call.reject(403)

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        self.events.append(event)
        if isinstance(event, Answered):
            call.hangup()
        elif isinstance(event, Hangup) and not self.ended.done():
            self.ended.set_result(event)


@pytest.fixture(autouse=True)
def _sipp() -> None:
    require_sipp()


async def call_the_trunk(password: str, workdir: Path) -> tuple[int, str, Caller]:
    port = free_udp_port()
    process = await start_sipp(
        *["-sf", str(SCENARIO), "-i", LOOPBACK, "-p", str(port), "-mp", str(free_media_port()), "-m", "1"],
        *["-timeout", "10s", "-timeout_error", "-nostdin", "-trace_err", "-error_file", str(workdir / "errors.log")],
        cwd=workdir,
    )
    caller = Caller()
    clock = SystemClock()
    ua = UserAgent(caller, scheduler=AsyncioScheduler(clock), clock=clock)
    transport = await UdpTransport.open(ua, LOOPBACK, 0)
    ua.bind(transport, sent_by=transport.sent_by)
    try:
        await asyncio.sleep(0.2)  # SIPp binds its port
        ua.invite(f"sip:+15550001111@{LOOPBACK}:{port}", sdp=OFFER, credentials=DigestClient("trunkuser", password))
        async with asyncio.timeout(10):
            await caller.ended
    finally:
        code, output = await finish_sipp(process)
        await transport.close()
    errors = workdir / "errors.log"
    return code, output + (errors.read_text() if errors.exists() else ""), caller


async def test_a_challenged_call_is_authorized_answered_and_hung_up(tmp_path: Path) -> None:
    code, output, caller = await call_the_trunk("trunk-pass", tmp_path)
    assert code == 0, output
    assert [type(e) for e in caller.events] == [Ringing, Answered, Hangup]
    hangup = caller.events[-1]
    assert isinstance(hangup, Hangup) and (hangup.cause, hangup.remote) == (HangupCause.NORMAL, False)


async def test_a_wrong_password_ends_with_the_trunks_403(tmp_path: Path) -> None:
    code, output, caller = await call_the_trunk("wrong", tmp_path)
    assert code == 0, output
    (hangup,) = caller.events
    assert isinstance(hangup, Hangup) and hangup.status_code == 403
