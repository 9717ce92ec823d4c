"""Test helpers: three user agents (Alice, Bob, Carol) on one in-memory network that routes by destination."""

from __future__ import annotations

from dataclasses import dataclass, field

from sip_memory_link import MemoryTransport
from sip_phones import Phone

from callboard.voice.sip.message import Request, Response
from callboard.voice.sip.scheduler import VirtualScheduler
from callboard.voice.sip.transport_port import Destination
from callboard.voice.sip.user_agent import UserAgent

ALICE_URI, BOB_URI, CAROL_URI = "sip:alice@192.0.2.1:5060", "sip:bob@192.0.2.2:5060", "sip:carol@192.0.2.3:5060"


@dataclass
class RoutedTransport(MemoryTransport):
    """A memory transport whose peer is whoever has the destination's address."""

    network: dict[Destination, MemoryTransport] = field(default_factory=dict)

    def send(self, message: Request | Response, destination: Destination) -> None:
        self.peer = self.network.get(destination)
        super().send(message, destination)


@dataclass
class Party:
    ua: UserAgent
    phone: Phone
    link: RoutedTransport

    def requests(self) -> list[str]:
        return [f"{m.method} {m.headers.get('CSeq')}" for _, m, _ in self.link.sent if isinstance(m, Request)]

    def sent(self, method: str) -> list[Request]:
        return [m for _, m, _ in self.link.sent if isinstance(m, Request) and m.method == method]

    def statuses(self) -> list[str]:
        return [f"{m.status_code} {m.headers.get('CSeq')}" for _, m, _ in self.link.sent if isinstance(m, Response)]


@dataclass
class Trio:
    scheduler: VirtualScheduler
    alice: Party
    bob: Party
    carol: Party

    def run(self, seconds: float = 0.0) -> None:
        self.scheduler.advance(seconds)


def trio() -> Trio:
    scheduler = VirtualScheduler()
    network: dict[Destination, MemoryTransport] = {}
    parties = []
    for number, name in enumerate(("alice", "bob", "carol"), start=1):
        link = RoutedTransport(scheduler, (f"192.0.2.{number}", 5060), network=network)
        network[link.address] = link
        phone = Phone(scheduler)
        ua = UserAgent(phone, scheduler=scheduler, clock=scheduler.clock, user_part=name)
        ua.bind(link, sent_by=link.address)
        link.receiver = ua.receive
        parties.append(Party(ua, phone, link))
    return Trio(scheduler, *parties)
