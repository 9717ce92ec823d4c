"""Test helpers: two user agents joined by an in-memory link, each with a phone that records call events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sip_memory_link import START, MemoryTransport, memory_pair

from callboard.voice.sip.call_events import CallEvent, RemoteOffer
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import InviteSession
from callboard.voice.sip.scheduler import VirtualScheduler
from callboard.voice.sip.user_agent import UserAgent

OFFER = b"v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
ANSWER = b"v=0\r\no=bob 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"
BOB_URI = "sip:bob@192.0.2.2:5060"


@dataclass
class Phone:
    """A call owner that writes down every event; optionally answers new calls and offers at once."""

    scheduler: VirtualScheduler
    events: list[tuple[float, CallEvent]] = field(default_factory=list)
    calls: list[IncomingCall] = field(default_factory=list)
    on_incoming: Callable[[IncomingCall], None] | None = None
    offer_answer: bytes | None = None
    on_event: Callable[[InviteSession, CallEvent], None] | None = None

    def on_incoming_call(self, call: IncomingCall) -> None:
        self.calls.append(call)
        if self.on_incoming is not None:
            self.on_incoming(call)

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        self.events.append((round(self.scheduler.now() - START, 3), event))
        if isinstance(event, RemoteOffer) and self.offer_answer is not None:
            call.accept_offer(self.offer_answer)
        if self.on_event is not None:
            self.on_event(call, event)

    def kinds(self) -> list[str]:
        return [type(event).__name__ for _, event in self.events]

    def last(self) -> CallEvent:
        return self.events[-1][1]


@dataclass
class Line:
    """Alice and Bob, each a UserAgent with its phone and its end of the link."""

    scheduler: VirtualScheduler
    alice: UserAgent
    bob: UserAgent
    alice_phone: Phone
    bob_phone: Phone
    alice_link: MemoryTransport
    bob_link: MemoryTransport

    def run(self, seconds: float = 0.0) -> None:
        self.scheduler.advance(seconds)


def line(*, reliable: bool = False) -> Line:
    scheduler = VirtualScheduler()
    alice_link, bob_link = memory_pair(scheduler, reliable=reliable)
    alice_phone, bob_phone = Phone(scheduler), Phone(scheduler)
    alice = UserAgent(alice_phone, scheduler=scheduler, clock=scheduler.clock, user_part="alice")
    bob = UserAgent(bob_phone, scheduler=scheduler, clock=scheduler.clock, user_part="bob")
    alice.bind(alice_link, sent_by=alice_link.address)
    bob.bind(bob_link, sent_by=bob_link.address)
    alice_link.receiver = alice.receive
    bob_link.receiver = bob.receive
    return Line(scheduler, alice, bob, alice_phone, bob_phone, alice_link, bob_link)
