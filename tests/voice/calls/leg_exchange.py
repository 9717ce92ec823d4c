"""Test helpers: two user agents over the in-memory SIP link (virtual time pumped at real speed), real RTP on
loopback, a `Switch` that turns incoming calls into legs, and a `SoftPhone` far end driven by hand."""

from __future__ import annotations

import asyncio
import math
import sys
from array import array
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sip"))  # the SIP tests' in-memory link
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "media"))

from rtp_session_peers import Recorder
from sip_memory_link import memory_pair

from callboard.voice.calls.leg import Leg
from callboard.voice.calls.media import MediaSettings
from callboard.voice.media.clock import VirtualMediaClock
from callboard.voice.media.g711 import ulaw_decode
from callboard.voice.media.offer_answer import accept_answer, create_answer, create_offer
from callboard.voice.media.playback import Prompt
from callboard.voice.media.ports import RtpPortPool
from callboard.voice.media.rtp import RtpPacket
from callboard.voice.media.sdp import SessionDescription
from callboard.voice.media.session import RtpSession, RtpSessionConfig
from callboard.voice.sip.call_events import Answered, CallEvent, RemoteOffer
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import InviteSession
from callboard.voice.sip.outgoing_call import OutgoingCall
from callboard.voice.sip.scheduler import VirtualScheduler
from callboard.voice.sip.user_agent import UserAgent

LOOPBACK = "127.0.0.1"
BOB_URI = "sip:bob@192.0.2.2:5060"
WAIT = 5.0
T = TypeVar("T")


def tone(name: str, frequency: float, frames: int) -> Prompt:
    samples = array("h", (round(8000 * math.sin(2 * math.pi * frequency * i / 8000)) for i in range(160 * frames)))
    return Prompt.from_pcm(name, samples.tobytes())


def rms(payloads: list[bytes]) -> float:
    samples = array("h", ulaw_decode(b"".join(payloads)))
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


async def get(queue: asyncio.Queue[Any], wait: float = WAIT) -> Any:
    return await asyncio.wait_for(queue.get(), wait)


async def started(work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """A task that has run up to its first wait (so a prompt it plays is queued before the clock ticks)."""
    task = asyncio.ensure_future(work)
    await asyncio.sleep(0)
    return task


async def received(phone: SoftPhone, count: int) -> list[RtpPacket]:
    return [await get(phone.rx.packets) for _ in range(count)]


class Switch:
    """A user agent's owner that turns each incoming call into a leg (and rings it, unless told not to)."""

    def __init__(self, settings: MediaSettings, *, ring: bool = True) -> None:
        self.settings = settings
        self.ring = ring
        self.legs: asyncio.Queue[Leg] = asyncio.Queue()

    def on_incoming_call(self, call: IncomingCall) -> None:
        leg = Leg.incoming(call, self.settings)
        if self.ring:
            leg.ring()
        self.legs.put_nowait(leg)

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        raise AssertionError(f"a leg should have taken {call!r}")


class SoftPhone:
    """A far end driven by hand: a raw SIP call and RTP session; it answers re-offers and keeps what it hears."""

    def __init__(self) -> None:
        self.rx = Recorder()
        self.session = RtpSession(RtpSessionConfig(rtp_timeout=None), self.rx)
        self.events: asyncio.Queue[CallEvent] = asyncio.Queue()
        self.reoffers: list[SessionDescription] = []
        self.call: OutgoingCall | None = None
        self._offer: SessionDescription | None = None

    async def dial(self, ua: UserAgent, uri: str = BOB_URI) -> None:
        await self.session.open(host=LOOPBACK)
        assert self.session.local_rtp is not None
        self._offer = create_offer(address=LOOPBACK, port=self.session.local_rtp[1], session_id="7")
        self.call = ua.invite(uri, sdp=bytes(self._offer), listener=self)

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        if isinstance(event, Answered):
            assert self._offer is not None
            audio = accept_answer(self._offer, SessionDescription.parse(event.sdp))
            assert audio is not None
            self.session.set_remote(audio.remote_address, audio.remote_port, audio.remote_rtcp_port)
        elif isinstance(event, RemoteOffer):
            offer = SessionDescription.parse(event.sdp)
            self.reoffers.append(offer)
            assert self.session.local_rtp is not None
            answer = create_answer(
                offer, address=LOOPBACK, port=self.session.local_rtp[1], session_id="7",
                session_version=len(self.reoffers),
            )  # fmt: skip
            call.accept_offer(bytes(answer.sdp))
        self.events.put_nowait(event)

    async def next(self, kind: type[Any]) -> Any:
        while not isinstance(event := await get(self.events), kind):
            pass
        return event

    def send_audio(self, prompt: Prompt, frames: int) -> None:
        for frame in prompt.pcmu[:frames]:
            self.session.send_frame(frame)


@dataclass
class Exchange:
    """Alice's user agent (soft phones, outbound legs) and Bob's (the switch under test), one media clock."""

    alice: UserAgent
    bob: UserAgent
    alice_switch: Switch
    bob_switch: Switch
    clock: VirtualMediaClock
    pool: RtpPortPool
    settings: MediaSettings
    phones: list[SoftPhone] = field(default_factory=list)

    async def phone(self) -> SoftPhone:
        phone = SoftPhone()
        self.phones.append(phone)
        await phone.dial(self.alice)
        return phone

    async def answered_leg(self) -> tuple[SoftPhone, Leg]:
        """A soft phone's call to Bob, answered by a leg."""
        phone = await self.phone()
        leg = await get(self.bob_switch.legs)
        await leg.answer()
        await phone.next(Answered)
        return phone, leg


async def _pump(scheduler: VirtualScheduler) -> None:
    loop = asyncio.get_running_loop()
    last = loop.time()
    while True:
        await asyncio.sleep(0.002)
        now = loop.time()
        scheduler.advance(now - last)
        last = now


@asynccontextmanager
async def exchange(*, hold_music: Prompt | None = None, rtp_timeout: float | None = None) -> AsyncIterator[Exchange]:
    scheduler = VirtualScheduler()
    alice_link, bob_link = memory_pair(scheduler)
    clock = VirtualMediaClock()
    pool = RtpPortPool(21000, 21400, host=LOOPBACK)
    settings = MediaSettings(pool, clock, LOOPBACK, rtp_timeout=rtp_timeout, hold_music=hold_music)
    alice_switch, bob_switch = Switch(settings), Switch(settings)
    alice = UserAgent(alice_switch, scheduler=scheduler, clock=scheduler.clock, user_part="alice")
    bob = UserAgent(bob_switch, scheduler=scheduler, clock=scheduler.clock, user_part="bob")
    alice.bind(alice_link, sent_by=alice_link.address)
    bob.bind(bob_link, sent_by=bob_link.address)
    alice_link.receiver, bob_link.receiver = alice.receive, bob.receive
    pump = asyncio.get_running_loop().create_task(_pump(scheduler))
    x = Exchange(alice, bob, alice_switch, bob_switch, clock, pool, settings)
    try:
        yield x
    finally:
        for phone in x.phones:
            await phone.session.close()
        pump.cancel()
        with suppress(asyncio.CancelledError):
            await pump
