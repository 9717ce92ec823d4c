"""Test helpers: an in-memory transport pair with programmable loss, message builders and a recording TU."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from callboard.voice.sip.client_transaction import ClientTransaction
from callboard.voice.sip.headers import Headers
from callboard.voice.sip.message import Request, Response, parse_message
from callboard.voice.sip.scheduler import VirtualScheduler
from callboard.voice.sip.server_transaction import ServerTransaction
from callboard.voice.sip.transaction import Transaction
from callboard.voice.sip.transport_port import Destination, SipTransportError, Transport
from callboard.voice.sip.uri import SipUri

Receiver = Callable[[Request | Response, Transport, Destination], None]


@dataclass
class MemoryTransport:
    """One end of an in-memory link: messages go through bytes and back, and may be dropped on the way."""

    scheduler: VirtualScheduler
    address: Destination
    reliable: bool = False
    latency: float = 0.0
    peer: MemoryTransport | None = None
    receiver: Receiver | None = None
    drop: Callable[[int, Request | Response], bool] = lambda index, message: False
    fail: bool = False
    sent: list[tuple[float, Request | Response, Destination]] = field(default_factory=list)

    def send(self, message: Request | Response, destination: Destination) -> None:
        if self.fail:
            raise SipTransportError("link down")
        index = len(self.sent)
        self.sent.append((self.scheduler.now(), message, destination))
        if self.peer is None or self.drop(index, message):
            return
        data = bytes(message)
        peer = self.peer
        source = self.address

        def deliver() -> None:
            if peer.receiver is not None:
                peer.receiver(parse_message(data), peer, source)

        self.scheduler.call_at(self.scheduler.now() + self.latency, deliver)

    def drop_first(self, count: int) -> None:
        self.drop = lambda index, message: index < count

    def sent_times(self, start_line: str | None = None) -> list[float]:
        return [
            round(t - START, 3) for t, m, _ in self.sent if start_line is None or m.start_line.startswith(start_line)
        ]

    def sent_lines(self) -> list[str]:
        return [m.start_line for _, m, _ in self.sent]


START = 1_767_225_600.0  # VirtualClock's default start


def memory_pair(
    scheduler: VirtualScheduler, *, reliable: bool = False, latency: float = 0.0
) -> tuple[MemoryTransport, MemoryTransport]:
    a = MemoryTransport(scheduler, ("192.0.2.1", 5060), reliable, latency)
    b = MemoryTransport(scheduler, ("192.0.2.2", 5060), reliable, latency)
    a.peer, b.peer = b, a
    return a, b


def make_request(
    method: str = "INVITE",
    branch: str = "z9hG4bK74bf9",
    *,
    cseq: int = 1,
    sent_by: str = "192.0.2.1:5060",
    call_id: str = "3848276298220188511@atlanta.example.com",
    to_tag: str | None = None,
    route: str | None = None,
) -> Request:
    via = f"SIP/2.0/UDP {sent_by}" + (f";branch={branch}" if branch else "")
    headers = Headers(
        [
            ("Via", via),
            ("Max-Forwards", "70"),
            ("To", "Bob <sip:bob@biloxi.example.com>" + (f";tag={to_tag}" if to_tag else "")),
            ("From", "Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl"),
            ("Call-ID", call_id),
            ("CSeq", f"{cseq} {method}"),
        ]
    )
    if route:
        headers.add("Route", route)
    return Request(method, SipUri("biloxi.example.com", "bob"), headers)


def respond(request: Request, code: int, to_tag: str | None = "8321234356") -> Response:
    return Response.for_request(request, code, to_tag=to_tag if code > 100 else None)


@dataclass
class RecordingUser:
    """A TU that writes down what it hears; `answer` lets it respond to new requests at once."""

    scheduler: VirtualScheduler
    events: list[tuple[float, str, object]] = field(default_factory=list)
    answer: Callable[[ServerTransaction, Request], None] | None = None
    server_transactions: list[ServerTransaction] = field(default_factory=list)

    def _note(self, name: str, payload: object) -> None:
        self.events.append((round(self.scheduler.now() - START, 3), name, payload))

    def names(self) -> list[str]:
        return [name for _, name, _ in self.events]

    def on_response(self, tx: ClientTransaction, response: Response) -> None:
        self._note("response", response.status_code)

    def on_request(self, tx: ServerTransaction, request: Request) -> None:
        self.server_transactions.append(tx)
        self._note("request", request.method)
        if self.answer is not None:
            self.answer(tx, request)

    def on_timeout(self, tx: Transaction) -> None:
        self._note("timeout", tx)

    def on_transport_error(self, tx: Transaction) -> None:
        self._note("transport_error", tx)

    def on_terminated(self, tx: Transaction) -> None:
        self._note("terminated", tx)

    def on_ack(self, request: Request, transport: Transport, source: Destination) -> None:
        self._note("ack", request)

    def on_stray_response(self, response: Response, transport: Transport, source: Destination) -> None:
        self._note("stray_response", response.status_code)
