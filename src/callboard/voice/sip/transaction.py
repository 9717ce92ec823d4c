"""What every RFC 3261 §17 transaction shares: states, timer values, the one state setter, the user ports."""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, ClassVar, Protocol

from callboard.core.clock import Clock
from callboard.core.errors import InvalidStateError

from .message import Request, Response
from .scheduler import Scheduler, TimerHandle
from .transport_port import Destination, SipTransportError, Transport

if TYPE_CHECKING:
    from .client_transaction import ClientTransaction
    from .server_transaction import ServerTransaction

__all__ = [
    "DEFAULT_TIMERS",
    "MAGIC_COOKIE",
    "ClientTransactionUser",
    "ServerTransactionUser",
    "TimerSettings",
    "Transaction",
    "TransactionState",
]

logger = logging.getLogger(__name__)

MAGIC_COOKIE = "z9hG4bK"  # RFC 3261 §8.1.1.7: a branch starting with it was built by an RFC 3261 element


@dataclass(frozen=True)
class TimerSettings:
    """T1 (RTT estimate), T2 (longest retransmit interval for non-INVITE), T4 (network lifetime), §17 table 4."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0

    @property
    def timeout(self) -> float:
        """64*T1: timers B, F, H and J, and the end of the 2xx retransmissions (§13.3.1.4)."""
        return 64 * self.t1


DEFAULT_TIMERS = TimerSettings()


class TransactionState(Enum):
    """The states of Figures 5-8 of RFC 3261, with RFC 6026's Accepted; each kind of transaction uses a subset."""

    CALLING = "Calling"
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    CONFIRMED = "Confirmed"
    ACCEPTED = "Accepted"  # RFC 6026 §7: an INVITE transaction after a 2xx
    TERMINATED = "Terminated"


class ClientTransactionUser(Protocol):
    """The TU above a client transaction (a UAC core, a dialog, a B2BUA leg)."""

    def on_response(self, tx: ClientTransaction, response: Response) -> None: ...

    def on_timeout(self, tx: Transaction) -> None: ...

    def on_transport_error(self, tx: Transaction) -> None: ...

    def on_terminated(self, tx: Transaction) -> None: ...


class ServerTransactionUser(Protocol):
    """The TU above a server transaction: gets the request and answers with `tx.send_response()`."""

    def on_request(self, tx: ServerTransaction, request: Request) -> None: ...

    def on_timeout(self, tx: Transaction) -> None: ...

    def on_transport_error(self, tx: Transaction) -> None: ...

    def on_terminated(self, tx: Transaction) -> None: ...


# The states in which a transaction only absorbs retransmissions until its timer ends it.
_LINGERING = frozenset({TransactionState.COMPLETED, TransactionState.CONFIRMED, TransactionState.ACCEPTED})


class Transaction:
    """A request and its responses, with the state machine and timers of one of RFC 3261 Figures 5-8."""

    kind: ClassVar[str] = "transaction"
    initial_state: ClassVar[TransactionState]
    # Legal moves of the state machine; any state may go to Terminated (timeouts, transport errors).
    transitions: ClassVar[dict[TransactionState, frozenset[TransactionState]]]
    # Each timer's name and the name of the method it calls when it fires.
    timer_actions: ClassVar[dict[str, str]]

    def __init__(
        self,
        request: Request,
        transport: Transport,
        destination: Destination,
        *,
        scheduler: Scheduler,
        clock: Clock,
        timers: TimerSettings = DEFAULT_TIMERS,
        on_end: Callable[[Transaction], None] | None = None,
    ) -> None:
        self.request = request
        self.transport = transport
        self.destination = destination
        self.scheduler = scheduler
        self.clock = clock
        self.timers = timers
        self.state = self.initial_state
        self.branch = _top_branch(request)
        self._timers: dict[str, TimerHandle] = {}
        self._on_end = on_end
        self.key: Hashable = None  # the transaction layer's key for it (§17.1.3, §17.2.3)

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def reliable(self) -> bool:
        return self.transport.reliable

    @property
    def terminated(self) -> bool:
        return self.state is TransactionState.TERMINATED

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.method} {self.branch} {self.state.value}>"

    # The one state setter (STYLE item 3).

    def _set_state(self, state: TransactionState) -> None:
        old = self.state
        if old is TransactionState.TERMINATED:
            raise InvalidStateError(f"{self.kind} transaction {self.branch} is already Terminated", state=old.value)
        if state is not TransactionState.TERMINATED and state not in self.transitions.get(old, frozenset()):
            raise InvalidStateError(
                f"{self.kind} transaction {self.branch} cannot go from {old.value} to {state.value}",
                state=old.value,
                target=state.value,
            )
        self.state = state
        logger.debug("%s transaction %s %s: %s -> %s", self.kind, self.method, self.branch, old.value, state.value)
        if state in _LINGERING:
            # From here on the transaction only absorbs retransmissions, for up to 64*T1: its request's parsed
            # header values are not kept that long (thousands of them on a busy node lengthen full collections).
            self.request.headers.forget_parsed()
        if state is TransactionState.TERMINATED:
            self._cancel_all_timers()
            self._notify_terminated()
            if self._on_end is not None:
                self._on_end(self)

    def _require(self, *states: TransactionState, action: str) -> None:
        if self.state not in states:
            raise InvalidStateError(
                f"{self.kind} transaction {self.branch} cannot {action} in state {self.state.value}",
                state=self.state.value,
            )

    # Timers, named after the RFCs (timer_a ... timer_k, RFC 6026's timer_l and timer_m), each with the method it
    # calls in `timer_actions`; a zero interval (reliable transports) fires at once.

    def _start_timer(self, name: str, interval: float) -> None:
        self._cancel_timer(name)
        if interval <= 0:
            getattr(self, self.timer_actions[name])()
            return
        self._timers[name] = self.scheduler.call_at(self.clock.now() + interval, self._fire, name)

    def _fire(self, name: str) -> None:
        self._timers.pop(name, None)
        getattr(self, self.timer_actions[name])()

    def _cancel_timer(self, *names: str) -> None:
        for name in names:
            handle = self._timers.pop(name, None)
            if handle is not None:
                self.scheduler.cancel(handle)

    def _cancel_all_timers(self) -> None:
        self._cancel_timer(*list(self._timers))

    @property
    def running_timers(self) -> frozenset[str]:
        return frozenset(self._timers)

    # Sending; a failure is a transport error (§17.1.4, §17.2.4).

    def _send(self, message: Request | Response) -> bool:
        try:
            self.transport.send(message, self.destination)
        except (SipTransportError, OSError) as exc:
            logger.info("%s transaction %s: transport error: %s", self.kind, self.branch, exc)
            self._notify_transport_error()
            if not self.terminated:
                self._set_state(TransactionState.TERMINATED)
            return False
        return True

    def _timed_out(self) -> None:
        """Timers B, F and H (§17.1.1.2, §17.1.2.2, §17.2.1): the user hears of it, then the transaction ends."""
        self._notify_timeout()
        if not self.terminated:
            self._set_state(TransactionState.TERMINATED)

    def _terminate(self) -> None:
        """Timers D, I, J and K: the transaction's work is done."""
        if not self.terminated:
            self._set_state(TransactionState.TERMINATED)

    def _notify_terminated(self) -> None:
        raise NotImplementedError

    def _notify_timeout(self) -> None:
        raise NotImplementedError

    def _notify_transport_error(self) -> None:
        raise NotImplementedError


def _top_branch(request: Request) -> str:
    vias = request.headers.via
    if not vias:
        raise ValueError(f"{request.method} has no Via")
    return vias[0].branch or ""


def is_rfc3261_branch(branch: str | None) -> bool:
    return branch is not None and branch.startswith(MAGIC_COOKIE) and len(branch) > len(MAGIC_COOKIE)
