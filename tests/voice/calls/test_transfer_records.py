"""The call record of an inbound call whose agent consults a colleague from the page, on a virtual clock: the
caller's hold during the consultation counts in `hold_seconds`, and the agent's talk in `talk_seconds`, whether
the transfer is completed, cancelled, or made a conference and then completed. Browser-line legs stand for the
caller, the agent and the colleague; the routing side is a fake that keeps the stored records."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from test_conference import Capture

from callboard.core.clock import VirtualClock
from callboard.voice.calls.b2bua import B2bua, Enqueued, InboundEntry, Offer
from callboard.voice.calls.call_record import CallRecord
from callboard.voice.calls.conference import CallConference
from callboard.voice.calls.consult import Consultation
from callboard.voice.calls.inbound import CallFlow
from callboard.voice.calls.leg import Leg
from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.ports import RoutingPort
from callboard.voice.calls.webrtc_leg import WebRtcLeg
from callboard.voice.media.clock import VirtualMediaClock
from callboard.voice.media.ports import RtpPortPool
from callboard.voice.sip.uri import NameAddr, SipUri

ENQUEUED = Enqueued("WS1", "WT1")
OFFER = Offer("WT1", "WR1", "WK1", "WQ1", 5.0, None, "WS1", phone="webrtc")


class Routing:
    def __init__(self) -> None:
        self.saved: list[dict[str, Any]] = []
        self.wrapped: list[str] = []

    async def save_call(self, record: dict[str, Any]) -> None:
        self.saved.append(record)

    async def wrap_up(self, workspace_sid: str, reservation_sid: str) -> None:
        self.wrapped.append(reservation_sid)


class Call:
    """The caller talking to the agent in the call's owner (`Queueing.talk`), and a colleague to consult."""

    def __init__(self) -> None:
        self.clock = VirtualClock()
        self.routing = Routing()
        settings = MediaSettings(RtpPortPool(23600, 23700, host="127.0.0.1"), VirtualMediaClock(), "127.0.0.1")
        self.b2bua = B2bua(None, cast(RoutingPort, self.routing), settings, cast(CallFlow, None), self.clock)
        self.caller = WebRtcLeg.connected(settings, Capture())
        self.agent = WebRtcLeg.connected(settings, Capture())
        self.colleague = WebRtcLeg.connected(settings, Capture())
        record = CallRecord("CA1", "inbound", "5550100", "200", "", "", self.clock.now(), workspace_sid="WS1")
        record.enqueued_at = self.clock.now()
        self.entry = InboundEntry(self.caller, record, NameAddr(SipUri("callboard.invalid", "5550100")))
        self.talk = asyncio.create_task(self.b2bua.queueing.talk(self.entry, ENQUEUED, self.agent, OFFER))

    async def dial(self) -> Leg:
        return self.colleague

    async def consult(self) -> Consultation:
        consultation = await Consultation.start(self.agent, "bob", self.dial)
        assert self.agent.far_end_held and consultation.state == "talking"
        return consultation

    async def stored(self) -> dict[str, Any]:
        assert await self.talk is None
        record = self.routing.saved[-1]
        assert record["outcome"] == "completed" and self.routing.wrapped == ["WR1"], record
        return record


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_completed_consultation_counts_the_callers_hold() -> None:
    call = Call()
    await settle()
    call.clock.advance(2.0)  # the agent talks to the caller
    consultation = await call.consult()
    call.clock.advance(3.0)  # the caller on hold while the agent talks to bob
    assert await consultation.complete() == 200
    call.clock.advance(4.0)  # the caller talks to bob
    call.colleague.hang_up_by_agent()
    record = await call.stored()
    assert record["hold_seconds"] == pytest.approx(3.0)
    assert record["talk_seconds"] == pytest.approx(9.0)  # from the agent's answer to the end
    assert record["attributes"]["transfers"][0]["attended"] is True


async def test_a_cancelled_consultation_counts_the_callers_hold() -> None:
    call = Call()
    await settle()
    consultation = await call.consult()
    call.clock.advance(2.5)
    await consultation.cancel()
    assert not call.agent.far_end_held and call.caller.peer is call.agent
    call.clock.advance(1.0)
    call.agent.hang_up_by_agent()
    record = await call.stored()
    assert record["hold_seconds"] == pytest.approx(2.5)
    assert record["talk_seconds"] == pytest.approx(3.5)


async def test_a_conference_then_completed_counts_the_hold_before_it() -> None:
    call = Call()
    await settle()
    consultation = await call.consult()
    call.clock.advance(1.5)  # on hold
    consultation.join(lambda customer: CallConference(customer, call.b2bua.settings.clock))
    call.clock.advance(2.0)  # the three talk: nobody is on hold
    assert await consultation.complete() == 200
    call.clock.advance(1.0)
    call.caller.hang_up_by_agent()
    record = await call.stored()
    assert record["hold_seconds"] == pytest.approx(1.5)
    assert record["talk_seconds"] == pytest.approx(4.5)
