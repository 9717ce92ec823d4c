"""Outbound registration (RFC 3261 §10.2): keeps an address-of-record bound at a registrar, such as a trunk provider.

It sends REGISTER through the user agent's transport, answers digest challenges, refreshes the binding before the
time the registrar granted runs out, raises its Expires on a 423, retries failures with a bounded backoff, and
removes the binding (Expires: 0) when stopped. Timers run on the user agent's injected scheduler and clock.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, ClassVar, Protocol

from callboard.core.errors import InvalidStateError

from .bindings import contact_key
from .client_transaction import ClientTransaction
from .digest import DigestClient
from .errors import SipParseError
from .fields import parse_number
from .headers import Headers
from .message import Request, Response
from .scheduler import TimerHandle
from .transaction import Transaction
from .transport_port import Destination
from .uri import NameAddr, SipUri, Uri

if TYPE_CHECKING:
    from .user_agent import UserAgent

__all__ = [
    "OutboundRegistration",
    "RegistrationListener",
    "RegistrationState",
    "RegistrationStatus",
    "RetryPolicy",
    "refresh_delay",
]

logger = logging.getLogger(__name__)

# Answers to challenges within one round: a fresh nonce for credentials sent with an old one, then a stale=true.
MAX_CHALLENGES = 3


class RegistrationState(Enum):
    """Unregistered until started; Registering until the first answer; then Registered, or Failed (and retrying)."""

    UNREGISTERED = "Unregistered"
    REGISTERING = "Registering"
    REGISTERED = "Registered"
    FAILED = "Failed"
    UNREGISTERING = "Unregistering"


@dataclass(frozen=True)
class RegistrationStatus:
    """What a registration is, for a listener or a health page: its state and why.

    `status_code` is the registrar's response behind it (408 stands for no answer at all); `expires` is the time the
    registrar granted, while Registered; `retry_at` is the clock time of the next attempt, while Failed.
    """

    state: RegistrationState
    at: float
    reason: str = ""
    status_code: int | None = None
    expires: int | None = None
    retry_at: float | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """Waits between attempts after failures: `first`, multiplied by `factor` each time, never above `longest`.

    A registrar's Retry-After (RFC 3261 §20.33) is honoured when longer, up to `longest` as well.
    """

    first: float = 5.0
    factor: float = 2.0
    longest: float = 300.0

    def __post_init__(self) -> None:
        if not 0 < self.first <= self.longest or self.factor < 1:
            raise ValueError("retry policy needs 0 < first <= longest and factor >= 1")

    def delay(self, failures: int, retry_after: int | None = None) -> float:
        """The wait after the `failures`-th failure in a row (counting from 1)."""
        backoff = min(self.longest, self.first * self.factor ** max(0, failures - 1))
        if retry_after is not None:
            backoff = max(backoff, min(float(retry_after), self.longest))
        return backoff


def refresh_delay(expires: int, margin: float) -> float:
    """When to refresh a binding granted for `expires` seconds: at half its time, or `margin` seconds before it
    runs out if that comes first, but never before a quarter of it has passed (for very short grants)."""
    return max(expires / 4, min(expires / 2, expires - margin))


class RegistrationListener(Protocol):
    """Hears each change of a registration's status (a trunk's health, an alert)."""

    def on_registration_changed(self, registration: OutboundRegistration, status: RegistrationStatus) -> None: ...


_R = RegistrationState


class OutboundRegistration:
    """One address-of-record kept registered at one registrar, through a `UserAgent`.

    `aor` is the address to bind (`sip:account@provider`); `registrar` the Request-URI (by default the AOR's domain,
    §10.2); `destination` where the REGISTER goes (an outbound proxy; by default the registrar's host and port).
    Every REGISTER of one registration shares its Call-ID, with CSeq going up (§10.2.4).
    """

    transitions: ClassVar[dict[RegistrationState, frozenset[RegistrationState]]] = {
        _R.UNREGISTERED: frozenset({_R.REGISTERING}),
        _R.REGISTERING: frozenset({_R.REGISTERED, _R.FAILED, _R.UNREGISTERING, _R.UNREGISTERED}),
        _R.REGISTERED: frozenset({_R.REGISTERED, _R.FAILED, _R.UNREGISTERING, _R.UNREGISTERED}),
        _R.FAILED: frozenset({_R.REGISTERED, _R.FAILED, _R.UNREGISTERING, _R.UNREGISTERED}),
        _R.UNREGISTERING: frozenset({_R.UNREGISTERED}),
    }

    def __init__(
        self,
        ua: UserAgent,
        aor: SipUri | str,
        *,
        registrar: SipUri | str | None = None,
        destination: Destination | None = None,
        credentials: DigestClient | None = None,
        contact: NameAddr | None = None,
        expires: int = 3600,
        refresh_margin: float = 10.0,
        retry: RetryPolicy | None = None,
        listener: RegistrationListener | None = None,
    ) -> None:
        self.ua = ua
        self.aor = SipUri.parse(aor, "aor") if isinstance(aor, str) else aor
        if self.aor.user is None:
            raise ValueError(f"an address-of-record needs a user part: {self.aor}")
        if registrar is None:
            self.registrar = SipUri(self.aor.host, port=self.aor.port, scheme=self.aor.scheme)
        else:
            self.registrar = SipUri.parse(registrar, "registrar") if isinstance(registrar, str) else registrar
        self.destination = destination
        self.credentials = credentials
        self._contact = contact
        if expires <= 0:
            raise ValueError("a registration asks for a positive Expires")
        self.expires = expires  # what we ask for; a 423 raises it to the registrar's Min-Expires
        self.refresh_margin = refresh_margin
        self.retry = retry or RetryPolicy()
        self.listener = listener
        self.call_id = os.urandom(12).hex()
        self.from_tag = ua.new_tag()
        self.status = RegistrationStatus(_R.UNREGISTERED, ua.clock.now())
        self.failures = 0  # failed attempts in a row
        self._cseq = 0
        self._tx: ClientTransaction | None = None
        self._request: Request | None = None  # the REGISTER in flight; its transaction may fail before it is returned
        self._timer: TimerHandle | None = None
        self._challenges = 0  # challenges answered in the current round
        self._unregistering = False

    def __repr__(self) -> str:
        return f"<OutboundRegistration {self.aor} {self.state.value}>"

    @property
    def state(self) -> RegistrationState:
        return self.status.state

    @property
    def registered(self) -> bool:
        return self.state is _R.REGISTERED

    @property
    def contact(self) -> NameAddr:
        """The Contact bound: the one given, else the user agent's with the AOR's user (what trunks route to)."""
        if self._contact is not None:
            return self._contact
        ours = self.ua.contact
        uri = ours.uri
        return replace(ours, uri=replace(uri, user=self.aor.user)) if isinstance(uri, SipUri) else ours

    # The one state setter (STYLE item 3): logs the move and tells the listener.

    def _set_status(
        self,
        state: RegistrationState,
        *,
        reason: str = "",
        status_code: int | None = None,
        expires: int | None = None,
        retry_at: float | None = None,
    ) -> None:
        old = self.status
        if state not in self.transitions[old.state]:
            raise InvalidStateError(
                f"registration of {self.aor} cannot go from {old.state.value} to {state.value}", state=old.state.value
            )
        status = RegistrationStatus(state, self.ua.clock.now(), reason, status_code, expires, retry_at)
        self.status = status
        if replace(status, at=old.at) == old:
            return  # a refresh that changed nothing the listener cares about
        logger.info("registration of %s: %s -> %s %s", self.aor, old.state.value, state.value, status.reason)
        if self.listener is not None:
            self.listener.on_registration_changed(self, status)

    # Control.

    def start(self) -> None:
        """Sends the first REGISTER; the listener hears Registering, then Registered or Failed."""
        if self.state is not _R.UNREGISTERED:
            raise InvalidStateError(f"registration of {self.aor} is already started", state=self.state.value)
        self._unregistering = False
        self.failures = 0
        self._set_status(_R.REGISTERING)
        self._new_round()

    def stop(self, *, unregister: bool = True) -> None:
        """Stops refreshing; with `unregister`, removes the binding with Expires: 0 (Unregistering, then
        Unregistered whatever the registrar says) if any REGISTER went out."""
        if self.state in (_R.UNREGISTERED, _R.UNREGISTERING):
            return
        self._cancel_timer()
        self._abandon()
        if unregister and self._cseq > 0:
            self._unregistering = True
            self._set_status(_R.UNREGISTERING)
            self._new_round()
        else:
            self._set_status(_R.UNREGISTERED)

    # Sending.

    def _new_round(self) -> None:
        """A REGISTER that is not the answer to a challenge: refresh, retry, first attempt or removal."""
        self._timer = None
        self._challenges = 0
        self._send()

    def _send(self) -> None:
        self._cseq += 1
        expires = 0 if self._unregistering else self.expires
        headers = Headers()
        headers.add("Max-Forwards", "70")
        headers.add("From", str(NameAddr(self.aor).with_tag(self.from_tag)))
        headers.add("To", str(NameAddr(self.aor)))
        headers.add("Call-ID", self.call_id)
        headers.add("CSeq", f"{self._cseq} REGISTER")
        headers.add("Contact", str(self.contact))
        headers.add("Expires", str(expires))
        request = Request("REGISTER", self.registrar, headers)
        if self.credentials is not None and self.credentials.challenged:
            self.credentials.authorize(request)  # the nonce of the last challenge, nonce-count going up
        destination = self.destination or self.ua.resolve(self.registrar)
        self._request = request
        tx = self.ua.send_request(request, self, destination)
        if self._request is request:
            self._tx = tx

    def _current(self, tx: Transaction) -> bool:
        """Whether `tx` carries the REGISTER in flight; if so it is over, and no longer current."""
        if self._request is None or tx.request is not self._request:
            return False
        self._tx = self._request = None
        return True

    def _abandon(self) -> None:
        tx, self._tx, self._request = self._tx, None, None
        if tx is not None:
            tx.terminate()

    def _schedule(self, delay: float, callback: Callable[[], None]) -> None:
        self._cancel_timer()
        self._timer = self.ua.scheduler.call_at(self.ua.clock.now() + delay, callback)

    def _cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            self.ua.scheduler.cancel(timer)

    # ClientTransactionUser.

    def on_response(self, tx: ClientTransaction, response: Response) -> None:
        code = response.status_code
        if code < 200 or not self._current(tx):
            return
        if self._unregistering:
            if code in (401, 407) and self._answer_challenge(response):
                return
            reason = "" if code < 300 else f"registrar answered {code} {response.reason}"
            self._set_status(_R.UNREGISTERED, reason=reason, status_code=code)
        elif code < 300:
            self._registered(response)
        elif code in (401, 407):
            if not self._answer_challenge(response):
                what = "no credentials" if self.credentials is None else "credentials refused"
                self._failed(f"{what} ({code} {response.reason})", code)
        elif code == 423:
            self._too_brief(response)
        else:
            self._failed(f"registrar answered {code} {response.reason}", code, _retry_after(response))

    def _answer_challenge(self, response: Response) -> bool:
        if self.credentials is None or self._challenges >= MAX_CHALLENGES:
            return False
        self._challenges += 1
        if self._challenges == 1:
            # The first challenge of a round answers credentials sent with an older nonce, or none: take it afresh.
            self.credentials.forget()
        if not self.credentials.handle(response):
            return False
        self._send()
        return True

    def _too_brief(self, response: Response) -> None:
        """423 Interval Too Brief (§10.2.8): ask again for at least the registrar's Min-Expires."""
        minimum = _header_number(response, "Min-Expires")
        if minimum is None or minimum <= self.expires:
            self._failed(f"423 without a usable Min-Expires ({response.headers.get('Min-Expires')})", 423)
            return
        logger.info("registration of %s: Expires %d is too brief, asking for %d", self.aor, self.expires, minimum)
        self.expires = minimum
        self._send()

    def _registered(self, response: Response) -> None:
        granted = self._granted(response)
        if granted <= 0:
            self._failed("the registrar kept no binding for our contact", response.status_code)
            return
        self.failures = 0
        self._set_status(_R.REGISTERED, status_code=response.status_code, expires=granted)
        self._schedule(refresh_delay(granted, self.refresh_margin), self._new_round)

    def _granted(self, response: Response) -> int:
        """The seconds the 200 grants our contact (§10.2.4): its expires parameter, else the Expires header, else
        what we asked for. A registrar may rewrite our contact's host and port (NAT), so a single listed contact with
        our user part is taken as ours."""
        try:
            contacts = response.headers.contact
            header = response.headers.expires
        except SipParseError as exc:
            logger.info("registration of %s: unreadable 200 (%s), assuming %d s", self.aor, exc, self.expires)
            return self.expires
        mine = self.contact.uri
        ours = [c for c in contacts if contact_key(c.uri) == contact_key(mine)]
        if not ours and len(contacts) == 1 and _user(contacts[0].uri) == _user(mine):
            ours = contacts
        if ours and ours[0].expires is not None:
            return ours[0].expires
        if contacts and not ours:
            return 0  # other bindings are listed, not ours
        return header if header is not None else self.expires

    def _failed(self, reason: str, status_code: int | None, retry_after: int | None = None) -> None:
        self.failures += 1
        delay = self.retry.delay(self.failures, retry_after)
        retry_at = self.ua.clock.now() + delay
        self._set_status(_R.FAILED, reason=reason, status_code=status_code, retry_at=retry_at)
        self._schedule(delay, self._new_round)

    def on_timeout(self, tx: Transaction) -> None:
        self._no_answer(tx, "no answer from the registrar")

    def on_transport_error(self, tx: Transaction) -> None:
        self._no_answer(tx, "transport error")

    def _no_answer(self, tx: Transaction, reason: str) -> None:
        if not self._current(tx):
            return
        if self._unregistering:
            self._set_status(_R.UNREGISTERED, reason=reason, status_code=408)
        else:
            self._failed(reason, 408)

    def on_terminated(self, tx: Transaction) -> None:
        pass


def _user(uri: Uri) -> str | None:
    return uri.user if isinstance(uri, SipUri) else None


def _header_number(response: Response, name: str) -> int | None:
    value = response.headers.get(name)
    if value is None:
        return None
    try:
        return parse_number(value.strip(), name)
    except SipParseError:
        return None


def _retry_after(response: Response) -> int | None:
    """Retry-After's delta-seconds, without its comment and parameters (§20.33)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return parse_number(value.split("(")[0].split(";")[0].strip(), "Retry-After")
    except SipParseError:
        return None
