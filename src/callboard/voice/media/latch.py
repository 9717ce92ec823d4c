"""Symmetric RTP (RFC 4961): which source address an RTP session answers to.

Symmetric RTP latch policy: the session sends to the signalled address until it latches. It latches onto the
source address of the first valid RTP packet (version 2, a payload type we negotiated) coming from the
signalled IP; when the remote address is unknown or `latch_any_source` is set (a NATed peer signalling a
private address), from any IP. Once latched, packets from other addresses are dropped (counted), except that
the session re-latches onto a new address when the latched one has sent nothing for `relatch_after` seconds
(NAT rebinding, a peer that moved its media). This keeps an attacker from hijacking a live stream by
injecting packets while letting a silent stream move. `set_remote` (a re-INVITE) resets the latch. RTCP
latches the same way on its own socket.
"""

from __future__ import annotations

Address = tuple[str, int]


class SymmetricLatch:
    """The latch state of one socket (RTP or RTCP); `expected` is the signalled address."""

    def __init__(self) -> None:
        self.expected: Address | None = None
        self.any_source = False
        self.latched: Address | None = None
        self.last_heard = 0.0

    def accept(self, source: Address, now: float, relatch_after: float) -> bool | None:
        """True: accept from the latched address; None: accept, this packet (re-)latched; False: drop."""
        if self.latched == source:
            self.last_heard = now
            return True
        allowed = self.any_source or self.expected is None or source[0] == self.expected[0]
        if not allowed:
            return False
        if self.latched is not None and now - self.last_heard < relatch_after:
            return False
        self.latched, self.last_heard = source, now
        return None

    @property
    def destination(self) -> Address | None:
        return self.latched or self.expected
