"""What every SIP transport shares: the inbound callback port, counters, parsing and §18 checks on receipt."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Protocol

from ..errors import SipParseError
from ..fields import Via
from ..message import DEFAULT_LIMITS, Limits, Request, Response, bad_request, parse_message
from ..transaction_layer import new_branch
from ..transport_port import Destination, Transport
from .via import default_port, replace_top_via, response_destination, stamp_received, top_via

__all__ = ["MessageHandler", "SipTransport", "TransportCounters"]

logger = logging.getLogger(__name__)


class MessageHandler(Protocol):
    """Where a transport hands the messages it received, parsed, with the top Via stamped (§18.2.1)."""

    def on_message(self, message: Request | Response, source: Destination, transport: Transport) -> None: ...


@dataclass
class TransportCounters:
    """Totals for metrics: well-formed messages in and out, malformed input, and input dropped unanswered."""

    received: int = 0
    sent: int = 0
    malformed: int = 0
    dropped: int = 0
    send_errors: int = 0
    keepalives: int = 0


class SipTransport:
    """One listening SIP transport (UDP, TCP or TLS), sending through the transaction layer's Transport port."""

    name = "UDP"
    reliable = False

    def __init__(self, handler: MessageHandler, *, limits: Limits = DEFAULT_LIMITS, sent_by: str | None = None) -> None:
        self.handler = handler
        self.limits = limits
        self.counters = TransportCounters()
        self._sent_by_host = sent_by
        self._local: Destination | None = None

    @property
    def local_address(self) -> Destination:
        """The (host, port) bound; raises RuntimeError before the transport is started."""
        if self._local is None:
            raise RuntimeError(f"{self.name} transport is not started")
        return self._local

    @property
    def sent_by(self) -> Destination:
        """The host and port this transport writes in the Via of its requests (§18.1.1)."""
        host, port = self.local_address
        if self._sent_by_host is not None:
            return self._sent_by_host, port
        if host in ("0.0.0.0", "::"):
            raise RuntimeError("bound to a wildcard address: pass sent_by to name this host in Via")
        return (f"[{host}]" if ":" in host else host), port

    def add_via(self, request: Request, branch: str | None = None) -> Via:
        """Puts this transport's Via on top of `request`: transport, sent-by, branch and an empty rport (RFC 3581)."""
        host, port = self.sent_by
        via = Via(self.name, host, port, (("branch", branch or new_branch()), ("rport", None)))
        replace_top_via(request, via, insert=True)
        return via

    def send(self, message: Request | Response, destination: Destination) -> None:
        """Writes `message` to `destination`; raises SipTransportError or OSError when it cannot."""
        raise NotImplementedError

    # Inbound: subclasses call `_receive` with the bytes of one datagram or one framed stream message.

    def _receive(self, data: bytes, source: Destination, *, stream: bool) -> None:
        try:
            message = parse_message(data, self.limits, stream=stream)
            if isinstance(message, Request):
                stamp_received(message, source)
            elif not self._is_ours(message):
                return
        except SipParseError as exc:
            self.counters.malformed += 1
            self._reject(data, exc, source)
            return
        self.counters.received += 1
        try:
            self.handler.on_message(message, source, self)
        except Exception:
            # One failing message must not stop the transport serving the others.
            logger.exception("%s transport: handler failed on a message from %s", self.name, source)

    def _is_ours(self, response: Response) -> bool:
        # §18.1.2: a response whose top Via is not one this transport inserts is silently discarded.
        via = top_via(response)
        try:
            host: str | None = self.sent_by[0].lower()
        except RuntimeError:
            host = None  # a wildcard address without sent_by: only the port and transport can be checked
        ours = (
            via is not None
            and (host is None or via.host.lower() == host)
            and (via.port or default_port(via.transport)) == self.local_address[1]
            and via.transport.upper() == self.name
        )
        if not ours:
            self.counters.dropped += 1
            logger.info("%s transport: dropped a response whose Via is not ours: %s", self.name, via)
        return ours

    def _reject(self, data: bytes, error: SipParseError, source: Destination) -> bool:
        """Answers a malformed request with 400, 505 or 513 when it can (§8.2, §18.2.1); False when dropped."""
        response = bad_request(data, error, to_tag=os.urandom(6).hex())
        if response is None:
            self.counters.dropped += 1
            logger.info("%s transport: dropped malformed input from %s: %s", self.name, source, error)
            return False
        logger.info("%s transport: %d to %s: %s", self.name, response.status_code, source, error)
        try:
            via = stamp_received(response, source)
            self.send(response, source if self.reliable or via is None else response_destination(via, source))
        except (OSError, SipParseError) as exc:
            self.counters.send_errors += 1
            logger.info("%s transport: could not answer %s: %s", self.name, source, exc)
        return True
