"""SIP transports (RFC 3261 §18): UDP, TCP and TLS over asyncio, behind the transaction layer's Transport port."""

from __future__ import annotations

from .base import MessageHandler, SipTransport, TransportCounters
from .stream import DEFAULT_IDLE_TIMEOUT, ConnectionErrorHandler, TcpTransport, TlsTransport
from .udp import MAX_DATAGRAM, UdpTransport
from .via import response_destination, stamp_received

__all__ = [
    "DEFAULT_IDLE_TIMEOUT",
    "MAX_DATAGRAM",
    "ConnectionErrorHandler",
    "MessageHandler",
    "SipTransport",
    "TcpTransport",
    "TlsTransport",
    "TransportCounters",
    "UdpTransport",
    "response_destination",
    "stamp_received",
]
