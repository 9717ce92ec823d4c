"""The UAS core's 2xx retransmissions (RFC 3261 §13.3.1.4): the INVITE server transaction ends on a 2xx, so the
TU resends it, T1 doubling up to T2, until the ACK arrives or 64*T1 has passed."""

from __future__ import annotations

import logging
from collections.abc import Callable

from callboard.core.clock import Clock

from .message import Response
from .scheduler import Scheduler, TimerHandle
from .transaction import DEFAULT_TIMERS, TimerSettings
from .transport_port import Destination, SipTransportError, Transport

__all__ = ["OkRetransmitter"]

logger = logging.getLogger(__name__)


class OkRetransmitter:
    """Sends a 2xx to an INVITE and resends it over unreliable transports until `ack_received()` or a timeout.

    `on_timeout` is called when no ACK came within 64*T1: the dialog should then be ended with a BYE (§13.3.1.4).
    Over a reliable transport the response is sent once but the wait for the ACK still runs.
    """

    def __init__(
        self,
        response: Response,
        transport: Transport,
        destination: Destination,
        *,
        scheduler: Scheduler,
        clock: Clock,
        timers: TimerSettings = DEFAULT_TIMERS,
        on_timeout: Callable[[OkRetransmitter], None] | None = None,
    ) -> None:
        if not 200 <= response.status_code < 300:
            raise ValueError(f"only a 2xx is retransmitted by the TU, not {response.status_code}")
        self.response = response
        self.transport = transport
        self.destination = destination
        self.scheduler = scheduler
        self.clock = clock
        self.timers = timers
        self.on_timeout = on_timeout
        self.running = False
        self.acknowledged = False
        self._interval = timers.t1
        self._retransmit_handle: TimerHandle | None = None
        self._timeout_handle: TimerHandle | None = None

    def start(self) -> None:
        if self.running or self.acknowledged:
            return
        self.running = True
        now = self.clock.now()
        self._timeout_handle = self.scheduler.call_at(now + self.timers.timeout, self._timed_out)
        if not self.transport.reliable:
            self._retransmit_handle = self.scheduler.call_at(now + self._interval, self._retransmit)
        self._send()

    def ack_received(self) -> None:
        self.acknowledged = True
        self.stop()

    def stop(self) -> None:
        self.running = False
        for handle in (self._retransmit_handle, self._timeout_handle):
            if handle is not None:
                self.scheduler.cancel(handle)
        self._retransmit_handle = self._timeout_handle = None

    def _retransmit(self) -> None:
        if not self.running:
            return
        self._interval = min(2 * self._interval, self.timers.t2)
        self._retransmit_handle = self.scheduler.call_at(self.clock.now() + self._interval, self._retransmit)
        self._send()

    def _timed_out(self) -> None:
        self._timeout_handle = None
        if not self.running:
            return
        self.stop()
        logger.info("no ACK for %s within %.1f s", self.response.start_line, self.timers.timeout)
        if self.on_timeout is not None:
            self.on_timeout(self)

    def _send(self) -> None:
        try:
            self.transport.send(self.response, self.destination)
        except (SipTransportError, OSError) as exc:
            # The next retransmission may get through; only the timeout ends the wait.
            logger.info("2xx retransmission failed: %s", exc)
