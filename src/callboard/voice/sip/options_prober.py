"""OPTIONS keepalive probes (RFC 3261 §11): is each trunk (or proxy, or gateway) answering SIP right now?

Any final response means the peer's SIP stack is up, as Asterisk's qualify has it: trunks often answer OPTIONS with
404, 405 or 403, and they still take calls. The exceptions are the codes in `ProbeSettings.down_codes`, by default
408 and 503: a peer saying it cannot serve (§21.5.4) is as good as down for routing calls to it. Kamailio's
dispatcher is stricter by default (only 2xx, plus the codes configured in ds_ping_reply_codes); list every code you
want to count as down to get that. No answer within `timeout` is a failure too; `down_after` failures in a row mark
the peer down, `up_after` answers in a row mark it up again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, ClassVar, Protocol

from callboard.core.errors import InvalidStateError

from .client_transaction import ClientTransaction
from .headers import Headers
from .message import Request, Response
from .scheduler import TimerHandle
from .transaction import Transaction
from .transport_port import Destination
from .uri import NameAddr, SipUri

if TYPE_CHECKING:
    from .user_agent import UserAgent

__all__ = [
    "DEFAULT_DOWN_CODES",
    "OptionsProber",
    "ProbeListener",
    "ProbeSettings",
    "ProbeStatus",
    "ProbeTarget",
    "Reachability",
]

logger = logging.getLogger(__name__)

DEFAULT_DOWN_CODES = frozenset({408, 503})


class Reachability(Enum):
    """Unknown until enough probes agree; then Up or Down."""

    UNKNOWN = "Unknown"
    UP = "Up"
    DOWN = "Down"


@dataclass(frozen=True)
class ProbeSettings:
    """How often to probe, how long to wait for an answer, and how many results in a row change the verdict."""

    interval: float = 30.0
    timeout: float = 5.0
    down_after: int = 3
    up_after: int = 1
    down_codes: frozenset[int] = field(default=DEFAULT_DOWN_CODES)

    def __post_init__(self) -> None:
        if self.interval <= 0 or self.timeout <= 0 or self.down_after < 1 or self.up_after < 1:
            raise ValueError("probe settings need a positive interval and timeout, and thresholds of at least 1")


@dataclass(frozen=True)
class ProbeStatus:
    """One peer's verdict and the last probe behind it.

    `rtt` is the round-trip time of the last answered probe, in seconds; `status_code` the last answer (None when
    there was none); `failures` and `successes` count the probes in a row that failed or succeeded.
    """

    uri: SipUri
    reachability: Reachability
    at: float
    rtt: float | None = None
    status_code: int | None = None
    reason: str = ""
    failures: int = 0
    successes: int = 0


class ProbeListener(Protocol):
    """Hears each change of a peer's reachability (to take a trunk out of routing, or put it back)."""

    def on_reachability_changed(self, target: ProbeTarget, status: ProbeStatus) -> None: ...


_Re = Reachability


class ProbeTarget:
    """One peer probed by an `OptionsProber`: its state and its probe in flight."""

    transitions: ClassVar[dict[Reachability, frozenset[Reachability]]] = {
        _Re.UNKNOWN: frozenset({_Re.UP, _Re.DOWN}),
        _Re.UP: frozenset({_Re.DOWN}),
        _Re.DOWN: frozenset({_Re.UP}),
    }

    def __init__(self, prober: OptionsProber, uri: SipUri, destination: Destination) -> None:
        self.prober = prober
        self.uri = uri
        self.destination = destination
        self.status = ProbeStatus(uri, _Re.UNKNOWN, prober.ua.clock.now())
        self.probes = 0  # OPTIONS sent
        self._tx: ClientTransaction | None = None
        self._request: Request | None = None  # the probe in flight; its transaction may fail before it is returned
        self._sent_at = 0.0
        self._next: TimerHandle | None = None
        self._deadline: TimerHandle | None = None

    def __repr__(self) -> str:
        return f"<ProbeTarget {self.uri} {self.reachability.value}>"

    @property
    def reachability(self) -> Reachability:
        return self.status.reachability

    @property
    def up(self) -> bool:
        return self.reachability is _Re.UP

    # The one state setter (STYLE item 3); every probe updates the status, a change of verdict is reported.

    def _record(
        self,
        reachability: Reachability,
        *,
        rtt: float | None,
        status_code: int | None,
        reason: str,
        failures: int,
        successes: int,
    ) -> None:
        old = self.status
        if reachability is not old.reachability and reachability not in self.transitions[old.reachability]:
            raise InvalidStateError(
                f"probe of {self.uri} cannot go from {old.reachability.value} to {reachability.value}",
                state=old.reachability.value,
            )
        now = self.prober.ua.clock.now()
        self.status = ProbeStatus(self.uri, reachability, now, rtt, status_code, reason, failures, successes)
        if reachability is not old.reachability:
            logger.info("%s: %s -> %s %s", self.uri, old.reachability.value, reachability.value, self.status.reason)
            listener = self.prober.listener
            if listener is not None:
                listener.on_reachability_changed(self, self.status)

    # Probing.

    def _probe(self) -> None:
        self._next = None
        ua = self.prober.ua
        self.probes += 1
        headers = Headers()
        headers.add("Max-Forwards", "70")
        headers.add("From", str(NameAddr(SipUri(ua.sent_by[0], ua.user_part)).with_tag(ua.new_tag())))
        headers.add("To", str(NameAddr(self.uri)))
        headers.add("Call-ID", os.urandom(12).hex())
        headers.add("CSeq", "1 OPTIONS")
        headers.add("Contact", str(ua.contact))
        headers.add("Accept", "application/sdp")
        self._sent_at = ua.clock.now()
        self._deadline = ua.scheduler.call_at(self._sent_at + self.prober.settings.timeout, self._no_answer)
        request = self._request = Request("OPTIONS", self.uri, headers)
        tx = ua.send_request(request, self, self.destination)
        if self._request is request:
            self._tx = tx

    def _current(self, tx: Transaction) -> bool:
        return self._request is not None and tx.request is self._request

    def _no_answer(self) -> None:
        self._deadline = None
        tx = self._tx
        if self._request is not None:
            if tx is not None:
                tx.terminate()  # stop retransmitting: this probe is over
            self._failed(None, "no answer")

    def _done(self) -> None:
        """Ends the probe in flight and schedules the next one, `interval` after this one was sent."""
        ua = self.prober.ua
        self._tx = self._request = None
        if self._deadline is not None:
            ua.scheduler.cancel(self._deadline)
            self._deadline = None
        if self.prober.running and self._next is None:
            when = max(self._sent_at + self.prober.settings.interval, ua.clock.now())
            self._next = ua.scheduler.call_at(when, self._probe)

    def _answered(self, response: Response) -> None:
        rtt = self.prober.ua.clock.now() - self._sent_at
        code = response.status_code
        if code in self.prober.settings.down_codes:
            self._failed(code, f"answered {code} {response.reason}", rtt)
            return
        successes = self.status.successes + 1
        reachability = _Re.UP if successes >= self.prober.settings.up_after else self.reachability
        self._record(reachability, rtt=rtt, status_code=code, reason="", failures=0, successes=successes)
        self._done()

    def _failed(self, status_code: int | None, reason: str, rtt: float | None = None) -> None:
        failures = self.status.failures + 1
        reachability = _Re.DOWN if failures >= self.prober.settings.down_after else self.reachability
        rtt = self.status.rtt if rtt is None else rtt
        self._record(reachability, rtt=rtt, status_code=status_code, reason=reason, failures=failures, successes=0)
        self._done()

    def _stop(self) -> None:
        ua = self.prober.ua
        for handle in (self._next, self._deadline):
            if handle is not None:
                ua.scheduler.cancel(handle)
        self._next = self._deadline = None
        tx, self._tx, self._request = self._tx, None, None
        if tx is not None:
            tx.terminate()

    # ClientTransactionUser.

    def on_response(self, tx: ClientTransaction, response: Response) -> None:
        if self._current(tx) and response.status_code >= 200:
            self._answered(response)

    def on_timeout(self, tx: Transaction) -> None:
        if self._current(tx):
            self._failed(None, "no answer")

    def on_transport_error(self, tx: Transaction) -> None:
        if self._current(tx):
            self._failed(None, "transport error")

    def on_terminated(self, tx: Transaction) -> None:
        pass


class OptionsProber:
    """Sends OPTIONS to each peer added, every `settings.interval` seconds, through a `UserAgent`.

    One probe per peer is in flight at a time; the next leaves `interval` after the previous one was sent, or when
    it ends if it took longer.
    """

    def __init__(
        self, ua: UserAgent, *, settings: ProbeSettings | None = None, listener: ProbeListener | None = None
    ) -> None:
        self.ua = ua
        self.settings = settings or ProbeSettings()
        self.listener = listener
        self.running = False
        self._targets: dict[str, ProbeTarget] = {}

    @property
    def targets(self) -> list[ProbeTarget]:
        return list(self._targets.values())

    def target(self, uri: SipUri | str) -> ProbeTarget | None:
        return self._targets.get(str(_uri(uri)))

    def add(self, uri: SipUri | str, *, destination: Destination | None = None) -> ProbeTarget:
        """Starts probing `uri` (sent to `destination`, by default its host and port) at once if running."""
        parsed = _uri(uri)
        key = str(parsed)
        if key in self._targets:
            raise ValueError(f"{key} is probed already")
        target = self._targets[key] = ProbeTarget(self, parsed, destination or self.ua.resolve(parsed))
        if self.running:
            target._probe()
        return target

    def remove(self, uri: SipUri | str) -> None:
        target = self._targets.pop(str(_uri(uri)), None)
        if target is not None:
            target._stop()

    def start(self, targets: Iterable[SipUri | str] = ()) -> None:
        """Probes every peer added (and `targets`), the first probes at once."""
        for uri in targets:
            self.add(uri)
        if self.running:
            return
        self.running = True
        for target in self._targets.values():
            target._probe()

    def stop(self) -> None:
        """Stops every probe; the verdicts stay as they were."""
        self.running = False
        for target in self._targets.values():
            target._stop()

    def up(self) -> list[ProbeTarget]:
        return [t for t in self._targets.values() if t.up]


def _uri(uri: SipUri | str) -> SipUri:
    return SipUri.parse(uri, "probe target") if isinstance(uri, str) else uri
