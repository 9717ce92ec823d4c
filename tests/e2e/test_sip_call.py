"""SIPp's built-in `uac` scenario calls Callboard's user agent over UDP: INVITE, 180, 200, ACK, BYE, 200."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sipp import require_sipp, run_sipp

from callboard.core.clock import SystemClock
from callboard.voice.sip.call_events import Answered, CallEvent, Hangup, HangupCause
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import InviteSession
from callboard.voice.sip.scheduler import AsyncioScheduler
from callboard.voice.sip.transports import UdpTransport
from callboard.voice.sip.user_agent import UserAgent

LOOPBACK = "127.0.0.1"
ANSWER = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
pytestmark = pytest.mark.e2e


class AnsweringPhone:
    """Rings and answers every call at once, and writes down what happens to it."""

    def __init__(self) -> None:
        self.events: list[CallEvent] = []
        self.offers: list[bytes] = []

    def on_incoming_call(self, call: IncomingCall) -> None:
        self.offers.append(call.offer)
        call.ring()
        call.answer(ANSWER)

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        self.events.append(event)


@pytest.fixture(autouse=True)
def _sipp() -> None:
    require_sipp()


async def test_sipp_uac_calls_our_uas_over_udp(tmp_path: Path) -> None:
    phone = AnsweringPhone()
    clock = SystemClock()
    ua = UserAgent(phone, scheduler=AsyncioScheduler(clock), clock=clock)
    transport = await UdpTransport.open(ua, LOOPBACK, 0)
    ua.bind(transport, sent_by=transport.sent_by)
    try:
        code, output = await run_sipp(
            *[f"{LOOPBACK}:{transport.local_address[1]}", "-sn", "uac", "-i", LOOPBACK, "-p", "0"],
            *["-m", "1", "-timeout", "10s", "-timeout_error", "-nostdin", "-d", "100"],
            cwd=tmp_path,
        )
        await asyncio.sleep(0.05)
    finally:
        await transport.close()
    assert code == 0, output
    assert len(phone.offers) == 1 and phone.offers[0].startswith(b"v=0")
    assert [type(e) for e in phone.events] == [Answered, Hangup]
    hangup = phone.events[-1]
    assert isinstance(hangup, Hangup) and (hangup.cause, hangup.remote) == (HangupCause.NORMAL, True)
    assert ua.calls == [] and transport.counters.malformed == 0
