"""The port through which transactions send: one transport (UDP, TCP, TLS, WS) and whether it is reliable."""

from __future__ import annotations

from typing import Protocol

from callboard.core.errors import CallboardError

from .message import Request, Response

__all__ = ["Destination", "SipTransportError", "Transport"]

# (host, port) the message goes to; a connection-oriented transport finds or opens its connection from it.
Destination = tuple[str, int]


class SipTransportError(CallboardError):
    """A message could not be sent (RFC 3261 §18.4): the transaction reports it to its user and ends."""

    error_id = "sip_transport_error"


class Transport(Protocol):
    """Sends SIP messages; `reliable` (TCP, TLS, WS) turns off retransmission timers A, E and G (§17)."""

    @property
    def reliable(self) -> bool: ...

    def send(self, message: Request | Response, destination: Destination) -> None:
        """Raises SipTransportError (or OSError) when the message cannot be sent."""
        ...
