"""The registrar (RFC 3261 §10.3): answers REGISTER requests by adding, refreshing, removing and listing bindings.

It is a plain component, `handle(request) -> Response`: whoever receives the REGISTER in a server transaction (the
user-agent core) calls it and sends the response. It does not route anything; `BindingStore.lookup` is for that.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from callboard.core.clock import Clock

from .bindings import DEFAULT_Q, Binding, BindingStore, aor_of, contact_key
from .digest import AuthOutcome, CredentialLookup, DigestAuthenticator
from .errors import SipParseError
from .fields import format_date
from .message import Request, Response
from .transport_port import Destination
from .uri import NameAddr, SipUri

__all__ = ["ExpiresPolicy", "Registrar", "same_user"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExpiresPolicy:
    """How long bindings last (RFC 3261 §10.2.1.1, §10.3 step 7): the default when the UA names none, the
    shortest accepted (shorter is refused with 423 and Min-Expires) and the longest (longer is cut down)."""

    default: int = 3600
    minimum: int = 60
    maximum: int = 86400

    def __post_init__(self) -> None:
        if not 0 < self.minimum <= self.default <= self.maximum:
            raise ValueError("expires policy needs 0 < minimum <= default <= maximum")


def same_user(username: str, aor: SipUri) -> bool:
    """The default authorization (§10.3 step 4): a user may only change the bindings of its own AOR."""
    return aor.user == username


def _new_tag() -> str:
    return os.urandom(5).hex()


class _Refusal(Exception):
    """A REGISTER that fails as a whole: nothing is committed (§10.3 step 7)."""

    def __init__(self, status: int, reason: str | None = None, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(status, reason)
        self.status, self.reason, self.headers = status, reason, tuple(headers)


class Registrar:
    """Keeps the bindings of the users of `domains`, authenticated by digest when an authenticator is given."""

    def __init__(
        self,
        store: BindingStore,
        clock: Clock,
        *,
        domains: Iterable[str] | None,
        authenticator: DigestAuthenticator | None = None,
        credentials: CredentialLookup | None = None,
        policy: ExpiresPolicy | None = None,
        may_register: Callable[[str, SipUri], bool] = same_user,
        max_bindings: int = 10,
        tag_factory: Callable[[], str] = _new_tag,
    ) -> None:
        if (authenticator is None) != (credentials is None):
            raise ValueError("an authenticator needs a credential lookup, and the other way round")
        self.store = store
        self.clock = clock
        # None serves any domain: a node with one tenant, reached by IP address or by any name.
        self.domains = None if domains is None else frozenset(d.lower() for d in domains)
        self.authenticator = authenticator
        self.credentials = credentials
        self.policy = policy or ExpiresPolicy()
        self.may_register = may_register
        self.max_bindings = max_bindings
        self.new_tag = tag_factory

    def handle(self, request: Request, *, source: Destination | None = None, transport: str = "UDP") -> Response:
        """The final response to a REGISTER; `source` and `transport` are where it came from (kept for NAT)."""
        if request.method != "REGISTER":
            raise ValueError(f"a registrar handles REGISTER, not {request.method}")
        to_tag = self.new_tag()
        try:
            return self._register(request, to_tag, source, transport.upper())
        except _Refusal as refusal:
            status, reason, extra = refusal.status, refusal.reason, refusal.headers
        except SipParseError as exc:
            status, reason, extra = 400, f"Bad {exc.field}", ()
        logger.info("REGISTER refused with %d %s", status, reason or "")
        response = Response.for_request(request, status, reason, to_tag=to_tag)
        for name, value in extra:
            response.headers.add(name, value)
        return response

    def _register(self, request: Request, to_tag: str, source: Destination | None, transport: str) -> Response:
        # Step 1: the Request-URI names a domain of ours (we are no proxy to forward it on).
        if not isinstance(request.uri, SipUri) or not self._serves(request.uri.host):
            raise _Refusal(404, "Domain Not Served")
        # Step 3: authentication. Step 2 (Require) is the user-agent core's §8.2.2.3 check.
        username: str | None = None
        if self.authenticator is not None and self.credentials is not None:
            result = self.authenticator.authenticate(request, self.credentials)
            if not result.ok:
                logger.info("REGISTER challenged: %s (%s)", result.reason, result.username)
                stale = result.outcome is AuthOutcome.STALE
                return self.authenticator.challenge_response(request, stale=stale, to_tag=to_tag)
            username = result.username
        # Steps 4 and 5: the AOR is the To URI; the authenticated user may change it; it is in our domains.
        to = request.headers.to
        if to is None or not isinstance(to.uri, SipUri):
            raise _Refusal(404)
        if username is not None and not self.may_register(username, to.uri):
            raise _Refusal(403, "Not Your Address-of-Record")
        if not self._serves(to.uri.host) or not to.uri.user:
            raise _Refusal(404)
        aor = aor_of(to.uri)
        # Steps 6 and 7: the Contact list, applied all at once or not at all.
        now = self.clock.now()
        self.store.update(aor, self._updated(request, aor, now, source, transport))
        return self._ok(request, to_tag, self.store.lookup(aor), now)

    def _serves(self, host: str) -> bool:
        return self.domains is None or host.lower() in self.domains

    def _updated(
        self, request: Request, aor: str, now: float, source: Destination | None, transport: str
    ) -> list[Binding]:
        headers = request.headers
        call_id, cseq = headers.call_id or "", headers.cseq.number if headers.cseq else 0
        current = {b.key[1]: b for b in self.store.lookup(aor)}

        def check_order(binding: Binding) -> None:
            # §10.3 step 7: an older (or the same) REGISTER of the same Call-ID must not undo a later one.
            if binding.call_id == call_id and binding.cseq >= cseq:
                raise _Refusal(500, "Out Of Order REGISTER", [("Retry-After", "1")])

        if headers.contact_is_wildcard:
            if headers.expires != 0:
                raise _Refusal(400, "Contact * Needs Expires 0")
            for binding in current.values():
                check_order(binding)
            return []
        updated = dict(current)
        for contact in headers.contact:
            expires = self._expires(contact, headers.expires)
            key = contact_key(contact.uri)
            if key in current:
                check_order(current[key])
            if expires == 0:
                updated.pop(key, None)
                continue
            updated[key] = Binding(
                aor=aor,
                contact=_without_expires(contact),
                expires_at=now + expires,
                call_id=call_id,
                cseq=cseq,
                registered_at=now,
                q=contact.q if contact.q is not None else DEFAULT_Q,
                source=source,
                transport=transport,
                user_agent=headers.get("User-Agent"),
                instance_id=_instance_id(contact),
                path=tuple(headers.get_all("Path")),
            )
        if len(updated) > self.max_bindings:
            raise _Refusal(403, "Too Many Contacts")
        return list(updated.values())

    def _expires(self, contact: NameAddr, header: int | None) -> int:
        """The contact's expires parameter, else the Expires header, else the default (§10.3 step 7)."""
        expires = contact.expires
        if expires is None:
            expires = header if header is not None else self.policy.default
        if 0 < expires < self.policy.minimum:
            raise _Refusal(423, None, [("Min-Expires", str(self.policy.minimum))])
        return min(expires, self.policy.maximum)

    def _ok(self, request: Request, to_tag: str, bindings: list[Binding], now: float) -> Response:
        """200 OK listing every current binding with the seconds it has left (§10.3 step 8)."""
        response = Response.for_request(request, 200, to_tag=to_tag)
        for binding in bindings:
            response.headers.add("Contact", str(binding.contact.with_param("expires", str(binding.remaining(now)))))
        for path in request.headers.get_all("Path"):  # RFC 3327 §5.3: echoed in the order received
            response.headers.add("Path", path)
        response.headers.add("Date", format_date(datetime.fromtimestamp(now, UTC)))
        return response


def _without_expires(contact: NameAddr) -> NameAddr:
    kept = tuple(p for p in contact.params if p[0].lower() != "expires")
    return NameAddr(contact.uri, contact.display_name, kept)


def _instance_id(contact: NameAddr) -> str | None:
    value = contact.param("+sip.instance")
    return value.removeprefix("<").removesuffix(">") if value else None
