"""Client transactions (RFC 3261 §17.1): INVITE (Figure 5) and non-INVITE (Figure 6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from callboard.core.clock import Clock

from .headers import Headers
from .message import Request, Response
from .scheduler import Scheduler
from .transaction import DEFAULT_TIMERS, ClientTransactionUser, TimerSettings, Transaction, TransactionState
from .transport_port import Destination, Transport

__all__ = ["ClientTransaction", "InviteClientTransaction", "NonInviteClientTransaction", "build_ack"]

S = TransactionState


class ClientTransaction(Transaction):
    """Sends a request, retransmits it over unreliable transports, and passes responses up to its TU."""

    def __init__(
        self,
        request: Request,
        transport: Transport,
        destination: Destination,
        tu: ClientTransactionUser,
        *,
        scheduler: Scheduler,
        clock: Clock,
        timers: TimerSettings = DEFAULT_TIMERS,
        on_end: Callable[[Transaction], None] | None = None,
    ) -> None:
        if request.method == "ACK":
            raise ValueError("ACK is sent without a client transaction (RFC 3261 §17.1)")
        super().__init__(
            request, transport, destination, scheduler=scheduler, clock=clock, timers=timers, on_end=on_end
        )
        self.tu = tu
        self.last_response: Response | None = None

    @staticmethod
    def create(
        request: Request,
        transport: Transport,
        destination: Destination,
        tu: ClientTransactionUser,
        *,
        scheduler: Scheduler,
        clock: Clock,
        timers: TimerSettings = DEFAULT_TIMERS,
        on_end: Callable[[Transaction], None] | None = None,
    ) -> ClientTransaction:
        """The INVITE or non-INVITE transaction for `request`, not started yet."""
        cls = InviteClientTransaction if request.method == "INVITE" else NonInviteClientTransaction
        return cls(request, transport, destination, tu, scheduler=scheduler, clock=clock, timers=timers, on_end=on_end)

    def start(self) -> None:
        raise NotImplementedError

    def receive_response(self, response: Response) -> None:
        raise NotImplementedError

    def terminate(self) -> None:
        """Abandons the transaction: no more retransmissions or timers, and the TU hears only `on_terminated`.

        For a TU that stops waiting sooner than timer B or F (a probe with its own timeout, a registration being
        stopped). Responses arriving later match nothing and go to the core as strays. An INVITE abandoned this way
        is not cancelled: sending CANCEL is the TU's business (§9.1).
        """
        if not self.terminated:
            self._set_state(TransactionState.TERMINATED)

    def transport_error(self) -> None:
        """A failure reported asynchronously by the transport (an ICMP error, a closed connection), §17.1.4."""
        if not self.terminated:
            self._notify_transport_error()
            self._terminate()

    def _pass_up(self, response: Response) -> None:
        self.last_response = response
        self.tu.on_response(self, response)
        if response.status_code >= 200:
            response.headers.forget_parsed()  # kept while the transaction lingers: not its parsed values

    def _notify_terminated(self) -> None:
        self.tu.on_terminated(self)

    def _notify_timeout(self) -> None:
        self.tu.on_timeout(self)

    def _notify_transport_error(self) -> None:
        self.tu.on_transport_error(self)


class InviteClientTransaction(ClientTransaction):
    """RFC 3261 §17.1.1: timer A retransmits (doubling from T1), timer B gives up, timer D absorbs retransmissions.

    After a 2xx the transaction stays Accepted for timer M (RFC 6026 §8.4): 2xx retransmissions and the 2xx of
    other forks reach the TU through it, which acknowledges each.
    """

    kind = "INVITE client"
    initial_state = S.CALLING
    transitions: ClassVar[dict[TransactionState, frozenset[TransactionState]]] = {
        S.CALLING: frozenset({S.PROCEEDING, S.COMPLETED, S.ACCEPTED}),
        S.PROCEEDING: frozenset({S.COMPLETED, S.ACCEPTED}),
        S.COMPLETED: frozenset(),
        S.ACCEPTED: frozenset(),
    }
    timer_actions: ClassVar[dict[str, str]] = {
        "timer_a": "_timer_a",
        "timer_b": "_timed_out",
        "timer_d": "_terminate",
        "timer_m": "_terminate",
    }
    TIMER_D_UNRELIABLE = 32.0  # §17.1.1.2: at least 32 s, the time a server may retransmit its final response

    def start(self) -> None:
        self._require(S.CALLING, action="start")
        if not self.reliable:
            self._timer_a_interval = self.timers.t1
            self._start_timer("timer_a", self._timer_a_interval)
        self._start_timer("timer_b", self.timers.timeout)
        self._send(self.request)

    def _timer_a(self) -> None:
        if self.state is not S.CALLING:
            return
        self._timer_a_interval *= 2
        self._start_timer("timer_a", self._timer_a_interval)
        self._send(self.request)

    def receive_response(self, response: Response) -> None:
        code = response.status_code
        if self.state in (S.CALLING, S.PROCEEDING):
            if code < 200:
                if self.state is S.CALLING:
                    # Timer B only guards the Calling state (Figure 5); a ringing phone may ring for minutes.
                    self._cancel_timer("timer_a", "timer_b")
                    self._set_state(S.PROCEEDING)
                self._pass_up(response)
            elif code < 300:
                # The TU (the dialog) acknowledges a 2xx itself, end to end (§13.2.2.4, §17.1.1.2).
                self._cancel_timer("timer_a", "timer_b")
                self._set_state(S.ACCEPTED)
                self._start_timer("timer_m", self.timers.timeout)
                self._pass_up(response)
            else:
                # Figure 5: "send ACK, resp. to TU", so that a TU sending the request again (with credentials, to
                # another target) does so after the ACK. The response goes up even if the ACK could not be sent.
                self._cancel_timer("timer_a", "timer_b")
                self._set_state(S.COMPLETED)
                acked = self._send(build_ack(self.request, response))
                self._pass_up(response)
                if acked and not self.terminated:
                    self._start_timer("timer_d", 0.0 if self.reliable else self.TIMER_D_UNRELIABLE)
        elif self.state is S.COMPLETED and code >= 300:
            self._send(build_ack(self.request, response))  # a retransmitted final response: ACK it again
        elif self.state is S.ACCEPTED and 200 <= code < 300:
            self._pass_up(response)  # RFC 6026 §8.4: a retransmitted or forked 2xx, for the TU to acknowledge


class NonInviteClientTransaction(ClientTransaction):
    """RFC 3261 §17.1.2: timer E retransmits (T1 doubling to T2), timer F gives up, timer K absorbs responses."""

    kind = "non-INVITE client"
    initial_state = S.TRYING
    transitions: ClassVar[dict[TransactionState, frozenset[TransactionState]]] = {
        S.TRYING: frozenset({S.PROCEEDING, S.COMPLETED}),
        S.PROCEEDING: frozenset({S.COMPLETED}),
        S.COMPLETED: frozenset(),
    }
    timer_actions: ClassVar[dict[str, str]] = {"timer_e": "_timer_e", "timer_f": "_timed_out", "timer_k": "_terminate"}

    def start(self) -> None:
        self._require(S.TRYING, action="start")
        if not self.reliable:
            self._timer_e_interval = self.timers.t1
            self._start_timer("timer_e", self._timer_e_interval)
        self._start_timer("timer_f", self.timers.timeout)
        self._send(self.request)

    def _timer_e(self) -> None:
        if self.state is S.TRYING:
            self._timer_e_interval = min(2 * self._timer_e_interval, self.timers.t2)
        elif self.state is S.PROCEEDING:
            self._timer_e_interval = self.timers.t2
        else:
            return
        self._start_timer("timer_e", self._timer_e_interval)
        self._send(self.request)

    def receive_response(self, response: Response) -> None:
        if self.state not in (S.TRYING, S.PROCEEDING):
            return  # Completed absorbs retransmitted responses
        if response.status_code < 200:
            if self.state is S.TRYING:
                self._set_state(S.PROCEEDING)
            self._pass_up(response)
            return
        self._cancel_timer("timer_e", "timer_f")
        self._set_state(S.COMPLETED)
        self._pass_up(response)
        self._start_timer("timer_k", 0.0 if self.reliable else self.timers.t4)


def build_ack(invite: Request, response: Response) -> Request:
    """The ACK of a non-2xx final response (§17.1.1.3): same branch, Request-URI, Call-ID, From and CSeq number,
    the response's To (with its tag), the INVITE's top Via and its Route set."""
    headers = Headers()
    headers.add("Via", str(invite.headers.via[0]))
    for header in invite.headers.fields("Route"):
        headers.add(header.name, header.value)
    headers.add("Max-Forwards", "70")
    for name, source in (("From", invite.headers), ("To", response.headers), ("Call-ID", invite.headers)):
        value = source.get(name)
        if value is not None:
            headers.add(name, value)
    cseq = invite.headers.cseq
    if cseq is not None:
        headers.add("CSeq", f"{cseq.number} ACK")
    return Request("ACK", invite.uri, headers)
