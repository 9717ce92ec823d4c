"""SIPp calls Callboard and transfers it with a REFER once the call is up; SIPp checks the 202 and the NOTIFYs
(100 Trying, then 200 OK) that follow from what the phone reports."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sipp import LOOPBACK, free_media_port, require_sipp, run_sipp

from callboard.core.clock import SystemClock
from callboard.voice.sip.call_events import Answered, CallEvent, Hangup, TransferRequested
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import InviteSession
from callboard.voice.sip.scheduler import AsyncioScheduler
from callboard.voice.sip.transports import UdpTransport
from callboard.voice.sip.uri import SipUri
from callboard.voice.sip.user_agent import UserAgent

SCENARIO = Path(__file__).parent / "scenarios" / "refer_uac.xml"
ANSWER = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
pytestmark = pytest.mark.e2e


class TransferredPhone:
    """Answers the call; asked to transfer, it reports success a moment later (as if the new call was answered)."""

    def __init__(self) -> None:
        self.events: list[CallEvent] = []
        self.reported: list[bool] = []

    def on_incoming_call(self, call: IncomingCall) -> None:
        call.answer(ANSWER)

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        self.events.append(event)
        if isinstance(event, TransferRequested):
            asyncio.get_running_loop().call_later(0.3, lambda: self.reported.append(call.report_transfer(200)))


@pytest.fixture(autouse=True)
def _sipp() -> None:
    require_sipp()


async def test_sipp_transfers_our_call_and_hears_the_notifies(tmp_path: Path) -> None:
    phone = TransferredPhone()
    clock = SystemClock()
    ua = UserAgent(phone, scheduler=AsyncioScheduler(clock), clock=clock)
    transport = await UdpTransport.open(ua, LOOPBACK, 0)
    ua.bind(transport, sent_by=transport.sent_by)
    try:
        code, output = await run_sipp(
            *[f"{LOOPBACK}:{transport.local_address[1]}", "-sf", str(SCENARIO), "-i", LOOPBACK, "-p", "0"],
            *["-mp", str(free_media_port()), "-m", "1", "-timeout", "10s", "-timeout_error", "-nostdin"],
            *["-trace_err", "-error_file", str(tmp_path / "errors.log")],
            cwd=tmp_path,
        )
        await asyncio.sleep(0.05)
    finally:
        await transport.close()
    errors = tmp_path / "errors.log"
    assert code == 0, output + (errors.read_text() if errors.exists() else "")
    assert [type(e) for e in phone.events] == [Answered, TransferRequested, Hangup]
    transfer = phone.events[1]
    assert isinstance(transfer, TransferRequested)
    assert isinstance(transfer.refer_to, SipUri) and transfer.refer_to.user == "carol"
    assert transfer.replaces is None and transfer.refer_id == 2
    assert str(transfer.referred_by).startswith("<sip:sipp@127.0.0.1:")
    assert phone.reported == [True]
    assert ua.calls == [] and transport.counters.malformed == 0
