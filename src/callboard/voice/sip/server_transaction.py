"""Server transactions (RFC 3261 §17.2): INVITE (Figure 7) and non-INVITE (Figure 8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from callboard.core.clock import Clock

from .message import Request, Response
from .scheduler import Scheduler
from .transaction import DEFAULT_TIMERS, ServerTransactionUser, TimerSettings, Transaction, TransactionState
from .transport_port import Destination, Transport

__all__ = ["InviteServerTransaction", "NonInviteServerTransaction", "ServerTransaction"]

S = TransactionState


class ServerTransaction(Transaction):
    """Receives a request, hands it to its TU once, sends the TU's responses and answers retransmissions."""

    def __init__(
        self,
        request: Request,
        transport: Transport,
        destination: Destination,
        tu: ServerTransactionUser,
        *,
        scheduler: Scheduler,
        clock: Clock,
        timers: TimerSettings = DEFAULT_TIMERS,
        on_end: Callable[[Transaction], None] | None = None,
    ) -> None:
        super().__init__(
            request, transport, destination, scheduler=scheduler, clock=clock, timers=timers, on_end=on_end
        )
        # The TU may hand the transaction on (to a dialog, a call leg) by setting `tu`.
        self.tu = tu
        self.last_response: Response | None = None

    @staticmethod
    def create(
        request: Request,
        transport: Transport,
        destination: Destination,
        tu: ServerTransactionUser,
        *,
        scheduler: Scheduler,
        clock: Clock,
        timers: TimerSettings = DEFAULT_TIMERS,
        on_end: Callable[[Transaction], None] | None = None,
    ) -> ServerTransaction:
        if request.method == "ACK":
            raise ValueError("an ACK does not create a server transaction (RFC 3261 §17.2.3)")
        cls = InviteServerTransaction if request.method == "INVITE" else NonInviteServerTransaction
        return cls(request, transport, destination, tu, scheduler=scheduler, clock=clock, timers=timers, on_end=on_end)

    def start(self) -> None:
        """Passes the request up to the TU (which may answer at once)."""
        self.tu.on_request(self, self.request)

    def receive_request(self, request: Request) -> None:
        """A request matched to this transaction (§17.2.3): a retransmission, or the ACK of an INVITE's response."""
        raise NotImplementedError

    def send_response(self, response: Response) -> None:
        raise NotImplementedError

    def transport_error(self) -> None:
        if not self.terminated:
            self._notify_transport_error()
            self._terminate()

    def _send_response(self, response: Response) -> bool:
        self.last_response = response
        return self._send(response)

    def _notify_terminated(self) -> None:
        self.tu.on_terminated(self)

    def _notify_timeout(self) -> None:
        self.tu.on_timeout(self)

    def _notify_transport_error(self) -> None:
        self.tu.on_transport_error(self)


class InviteServerTransaction(ServerTransaction):
    """RFC 3261 §17.2.1: a 100 Trying if the TU is slow, timer G retransmits a non-2xx final, H waits for the ACK,
    I absorbs ACK retransmissions.

    A 2xx moves it to Accepted (RFC 6026 §7.1) until timer L: retransmitted INVITEs are absorbed there instead of
    reaching the TU as new requests, the TU may send the 2xx again through it, and the transaction layer passes a
    matching ACK to the TU. Retransmitting the 2xx stays the TU's job (see `OkRetransmitter`)."""

    kind = "INVITE server"
    initial_state = S.PROCEEDING
    transitions: ClassVar[dict[TransactionState, frozenset[TransactionState]]] = {
        S.PROCEEDING: frozenset({S.COMPLETED, S.ACCEPTED}),
        S.COMPLETED: frozenset({S.CONFIRMED}),
        S.CONFIRMED: frozenset(),
        S.ACCEPTED: frozenset(),
    }
    timer_actions: ClassVar[dict[str, str]] = {
        "timer_trying": "_send_trying",
        "timer_g": "_timer_g",
        "timer_h": "_timed_out",
        "timer_i": "_terminate",
        "timer_l": "_terminate",
    }
    TRYING_DELAY = 0.2  # §17.2.1: send 100 unless the TU answers within 200 ms

    def start(self) -> None:
        self._start_timer("timer_trying", self.TRYING_DELAY)
        super().start()

    def _send_trying(self) -> None:
        if self.state is S.PROCEEDING and self.last_response is None:
            self._send_response(Response.for_request(self.request, 100))

    @property
    def accepted(self) -> bool:
        """A 2xx was sent: an ACK matching this transaction is for the TU (RFC 6026 §7.1)."""
        return self.state is S.ACCEPTED

    def receive_request(self, request: Request) -> None:
        if request.method == "ACK":
            if self.state is S.COMPLETED:
                self._cancel_timer("timer_g", "timer_h")
                self._set_state(S.CONFIRMED)
                self._start_timer("timer_i", 0.0 if self.reliable else self.timers.t4)
            return  # in Confirmed, ACK retransmissions are absorbed
        if self.state is S.PROCEEDING:
            if self.last_response is None:
                self._cancel_timer("timer_trying")
                self._send_trying()
            else:
                self._send(self.last_response)
        elif self.state is S.COMPLETED and self.last_response is not None:
            self._send(self.last_response)
        # In Accepted a retransmitted INVITE is absorbed: the TU's 2xx retransmissions answer it (RFC 6026 §7.1).

    def send_response(self, response: Response) -> None:
        code = response.status_code
        if self.state is S.ACCEPTED and 200 <= code < 300:
            self._send_response(response)  # the TU retransmitting its 2xx (RFC 6026 §7.1)
            return
        self._require(S.PROCEEDING, action=f"send a {code} response")
        self._cancel_timer("timer_trying")
        if code < 200:
            self._send_response(response)
        elif code < 300:
            self._set_state(S.ACCEPTED)
            if self._send_response(response):
                self._start_timer("timer_l", self.timers.timeout)
        else:
            self._set_state(S.COMPLETED)
            if not self._send_response(response):
                return
            if not self.reliable:
                self._timer_g_interval = self.timers.t1
                self._start_timer("timer_g", self._timer_g_interval)
            self._start_timer("timer_h", self.timers.timeout)

    def _timer_g(self) -> None:
        if self.state is not S.COMPLETED or self.last_response is None:
            return
        self._timer_g_interval = min(2 * self._timer_g_interval, self.timers.t2)
        self._start_timer("timer_g", self._timer_g_interval)
        self._send(self.last_response)


class NonInviteServerTransaction(ServerTransaction):
    """RFC 3261 §17.2.2: answers retransmitted requests with the last response; timer J keeps it for 64*T1."""

    kind = "non-INVITE server"
    initial_state = S.TRYING
    transitions: ClassVar[dict[TransactionState, frozenset[TransactionState]]] = {
        S.TRYING: frozenset({S.PROCEEDING, S.COMPLETED}),
        S.PROCEEDING: frozenset({S.COMPLETED}),
        S.COMPLETED: frozenset(),
    }
    timer_actions: ClassVar[dict[str, str]] = {"timer_j": "_terminate"}

    def receive_request(self, request: Request) -> None:
        # In Trying a retransmission is discarded: there is nothing to answer it with yet.
        if self.state in (S.PROCEEDING, S.COMPLETED) and self.last_response is not None:
            self._send(self.last_response)

    def send_response(self, response: Response) -> None:
        self._require(S.TRYING, S.PROCEEDING, action=f"send a {response.status_code} response")
        if response.status_code < 200:
            if self.state is S.TRYING:
                self._set_state(S.PROCEEDING)
            self._send_response(response)
            return
        self._set_state(S.COMPLETED)
        if self._send_response(response):
            self._start_timer("timer_j", 0.0 if self.reliable else self.timers.timeout)
