"""A pool of RTP port pairs over an even-port range: RTP on the even port, RTCP on the next odd one (RFC 3550 §11).

The pool binds both sockets itself and hands them over already bound, so there is no window between choosing a
port and binding it in which another process could take it. Ports that fail to bind (taken by someone else) are
skipped and counted. Allocation goes round-robin from where the last one stopped, so a port just released is
not reused at once: stray packets of the call that owned it are less likely to reach the next call.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass

from callboard.core.errors import CallboardError

DEFAULT_PORT_RANGE = (10000, 20000)


class RtpPortsExhaustedError(CallboardError):
    """Every even port of the range is in use or would not bind."""

    error_id = "rtp_ports_exhausted"


def bind_udp(host: str, port: int) -> socket.socket:
    """Bind a non-blocking UDP socket (IPv4 or IPv6 by the form of `host`); raise `OSError` when it cannot."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


@dataclass(slots=True)
class PortLease:
    """One allocated pair with its bound sockets. Hand the sockets to `RtpSession.open`, which then owns them."""

    host: str
    rtp_port: int
    rtp_socket: socket.socket
    rtcp_socket: socket.socket

    @property
    def rtcp_port(self) -> int:
        return self.rtp_port + 1

    def close_sockets(self) -> None:
        """Close the sockets of a lease that was never handed to a session."""
        self.rtp_socket.close()
        self.rtcp_socket.close()


@dataclass(slots=True)
class PortPoolCounters:
    allocated: int = 0
    released: int = 0
    bind_failures: int = 0
    exhausted: int = 0


class RtpPortPool:
    """Allocates RTP/RTCP port pairs from `[first, last]`, both even-aligned; `bind` is injectable for tests."""

    def __init__(
        self,
        first: int = DEFAULT_PORT_RANGE[0],
        last: int = DEFAULT_PORT_RANGE[1],
        *,
        host: str = "0.0.0.0",
        bind: Callable[[str, int], socket.socket] = bind_udp,
    ) -> None:
        if first % 2:
            first += 1  # RTP takes even ports (RFC 3550 §11)
        if not 0 < first < last <= 0xFFFF:
            raise ValueError(f"RTP port range {first}-{last} is empty or outside 1-65535")
        self.host = host
        self.first = first
        self.last = last
        self._bind = bind
        self._ports = range(first, last, 2)  # an RTP port p needs p + 1 <= last for its RTCP
        if not self._ports:
            raise ValueError(f"RTP port range {first}-{last} holds no even/odd pair")
        self._next = 0
        self._in_use: set[int] = set()
        self.counters = PortPoolCounters()

    @property
    def size(self) -> int:
        return len(self._ports)

    @property
    def in_use(self) -> int:
        return len(self._in_use)

    def allocate(self) -> PortLease:
        """Bind the next free pair; skip pairs that fail to bind; raise `RtpPortsExhaustedError` if none is left."""
        for _ in range(len(self._ports)):
            port = self._ports[self._next]
            self._next = (self._next + 1) % len(self._ports)
            if port in self._in_use:
                continue
            lease = self._try_bind(port)
            if lease is not None:
                self._in_use.add(port)
                self.counters.allocated += 1
                return lease
        self.counters.exhausted += 1
        raise RtpPortsExhaustedError(
            f"no free RTP port pair in {self.first}-{self.last}", first=self.first, last=self.last, in_use=self.in_use
        )

    def release(self, lease: PortLease | int) -> None:
        """Return a pair to the pool (its sockets are closed by the session that owned them)."""
        port = lease.rtp_port if isinstance(lease, PortLease) else lease
        if port not in self._in_use:
            raise ValueError(f"RTP port {port} is not allocated")
        self._in_use.discard(port)
        self.counters.released += 1

    def _try_bind(self, port: int) -> PortLease | None:
        try:
            rtp = self._bind(self.host, port)
        except OSError:
            self.counters.bind_failures += 1
            return None
        try:
            rtcp = self._bind(self.host, port + 1)
        except OSError:
            rtp.close()
            self.counters.bind_failures += 1
            return None
        return PortLease(self.host, port, rtp, rtcp)
