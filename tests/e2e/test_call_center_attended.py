"""An attended transfer, as an agent's phone does it: agent alice talks to a caller (SIPp), calls her colleague
bob through Callboard (bob's phone is SIPp; alice's call is challenged and she answers with her credentials),
then transfers the caller to bob replacing that consult call (REFER with Replaces). Callboard connects the
caller to bob and lets alice go. Alice's phone is a SIP phone built on Callboard's own stack: SIPp cannot keep
two calls of one phone together, which an attended transfer needs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from call_center import AUDIO_PCAP, call_center, dtmf_pcap, finish
from sipp import LOOPBACK, free_media_port, require_sipp

from callboard.core.clock import SystemClock
from callboard.voice.calls.events import HangupCause
from callboard.voice.calls.leg import Leg
from callboard.voice.calls.media import MediaSettings
from callboard.voice.media.clock import AsyncioMediaClock
from callboard.voice.media.ports import RtpPortPool
from callboard.voice.sip.call_events import CallEvent
from callboard.voice.sip.digest import Algorithm, DigestClient
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import InviteSession
from callboard.voice.sip.registration import OutboundRegistration
from callboard.voice.sip.scheduler import AsyncioScheduler
from callboard.voice.sip.transports import UdpTransport
from callboard.voice.sip.uri import NameAddr, SipUri
from callboard.voice.sip.user_agent import UserAgent
from conftest import require_peer

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _peers() -> None:
    require_sipp()
    require_peer("sipp pcaps", AUDIO_PCAP is not None and dtmf_pcap("2") is not None, "sip-tester's pcaps")


class Phone:
    """Alice's phone: each call that rings it becomes a leg the test answers."""

    def __init__(self, settings: MediaSettings) -> None:
        self.settings = settings
        self.ringing: asyncio.Queue[Leg] = asyncio.Queue()

    def on_incoming_call(self, call: IncomingCall) -> None:
        self.ringing.put_nowait(Leg.incoming(call, self.settings))

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        pass


async def test_alice_consults_bob_then_transfers_the_caller_to_him(tmp_path: Path) -> None:
    async with call_center(tmp_path, agents={"alice": ["support"], "bob": ["sales"]}) as cc:
        bob_port = _free_port()
        await cc.register("bob", bob_port)
        bob = await cc.start_phone("agent_answer_uas.xml", bob_port, pcap=str(AUDIO_PCAP))  # talks 3 s, hangs up
        clock, media_clock = SystemClock(), AsyncioMediaClock()
        media_clock.start()
        settings = MediaSettings(RtpPortPool(27000, 27200, host=LOOPBACK), media_clock, LOOPBACK)
        phone = Phone(settings)
        ua = UserAgent(phone, scheduler=AsyncioScheduler(clock), clock=clock, user_part="alice")
        transport = await UdpTransport.open(ua, LOOPBACK, 0)
        ua.bind(transport, sent_by=transport.sent_by)
        password = cc.agents["alice"].password
        registration = OutboundRegistration(
            ua,
            f"sip:alice@{LOOPBACK}:{cc.sip_port}",
            credentials=DigestClient("alice", password, algorithms=[Algorithm.MD5]),
        )
        try:
            registration.start()
            for _ in range(100):
                if registration.registered:
                    break
                await asyncio.sleep(0.05)
            assert registration.registered
            await cc.available("alice")
            caller = await cc.start_caller(
                "caller_rfc4733_uac.xml", "5550070", dtmf=str(dtmf_pcap("2")), pcap=str(AUDIO_PCAP)
            )
            customer = await asyncio.wait_for(phone.ringing.get(), 20)
            await customer.answer()
            await asyncio.sleep(0.5)  # alice talks to the caller, then calls bob (the caller is still connected)
            consult = await Leg.dial(
                ua, f"sip:bob@{LOOPBACK}:{cc.sip_port}", settings, from_=NameAddr(SipUri(LOOPBACK, "alice")),
                credentials=DigestClient("alice", password, algorithms=[Algorithm.MD5]), ring_timeout=10,
            )  # fmt: skip
            await asyncio.sleep(0.5)
            assert await customer.transfer(f"sip:bob@{LOOPBACK}", replacing=consult) == 200
            # Callboard lets alice go: both of her calls end (she may hang up first, as phones do).
            for leg in (customer, consult):
                hangup = await asyncio.wait_for(leg.wait_ended(), 10)
                assert hangup.cause is HangupCause.NORMAL
            await finish(bob)  # bob talked with the caller and hung up
            await finish(caller)
            record = await cc.finished_call("5550070")
            internal = [c for c in await cc.store.list_calls(cc.workspace.sid) if c["direction"] == "internal"]
        finally:
            registration.stop(unregister=False)
            await transport.close()
            await media_clock.stop()
    assert (record["outcome"], record["hangup_by"]) == ("completed", "called")
    [moved] = record["attributes"]["transfers"]
    assert (moved["to"], moved["attended"], moved["from_worker_sid"]) == ("bob", True, cc.agents["alice"].worker_sid)
    assert [(c["caller"], c["called"], c["outcome"]) for c in internal] == [("alice", "bob", "completed")]


def _free_port() -> int:
    return free_media_port() + 1
