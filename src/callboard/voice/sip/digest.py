"""SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760): challenging and verifying, and answering.

Only qop=auth is verified (auth-int, the -sess algorithms and userhash are not supported). A client also answers
the legacy RFC 2069 form when a challenge offers no qop.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from callboard.core.clock import Clock

from .errors import SipParseError
from .fields import AuthParam, Challenge, Credentials
from .message import Request, Response
from .nonces import CountCheck, NonceCounts, NonceIssuer, NonceStatus
from .uri import Uri, parse_uri


class Algorithm(Enum):
    """The digest algorithms, named as in the `algorithm` parameter (RFC 7616 §3.3, RFC 8760 §2.3)."""

    SHA_256 = "SHA-256"
    MD5 = "MD5"

    @classmethod
    def from_param(cls, value: str | None) -> Algorithm | None:
        """The algorithm a parameter names (absent means MD5, RFC 7616 §3.3); None for one not supported."""
        if value is None:
            return cls.MD5
        return next((a for a in cls if a.value.lower() == value.lower()), None)

    def hash(self, text: str) -> str:
        data = text.encode("utf-8")
        if self is Algorithm.MD5:
            return hashlib.md5(data, usedforsecurity=False).hexdigest()
        return hashlib.sha256(data).hexdigest()


def ha1(username: str, realm: str, password: str, algorithm: Algorithm = Algorithm.MD5) -> str:
    """H(username:realm:password), what a registrar may store instead of the password (RFC 7616 §3.4.2)."""
    return algorithm.hash(f"{username}:{realm}:{password}")


def request_digest(
    algorithm: Algorithm,
    ha1_hex: str,
    nonce: str,
    method: str,
    uri: str,
    *,
    qop: str | None = None,
    nc: str = "",
    cnonce: str = "",
) -> str:
    """The `response` parameter (RFC 7616 §3.4.1); without qop, the RFC 2069 form H(HA1:nonce:HA2)."""
    ha2 = algorithm.hash(f"{method}:{uri}")
    if qop is None:
        return algorithm.hash(f"{ha1_hex}:{nonce}:{ha2}")
    return algorithm.hash(f"{ha1_hex}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


@dataclass(frozen=True)
class Password:
    """A cleartext password, as a credential lookup returns it."""

    value: str = field(repr=False)


@dataclass(frozen=True)
class Ha1:
    """A stored H(username:realm:password) in hex for one algorithm, as a credential lookup returns it."""

    value: str = field(repr=False)


class CredentialLookup(Protocol):
    """The port a registrar or proxy gives the authenticator: the secret of a user in a realm, or None."""

    def __call__(self, username: str, realm: str, algorithm: Algorithm) -> Password | Ha1 | None: ...


class AuthOutcome(Enum):
    OK = "ok"
    STALE = "stale"  # right credentials on an expired nonce: challenge again with stale=true
    FAILED = "failed"


@dataclass(frozen=True)
class AuthResult:
    """What verifying credentials gave; `reason` is for logs, never for the peer."""

    outcome: AuthOutcome
    reason: str = ""
    username: str | None = None
    algorithm: Algorithm | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is AuthOutcome.OK


def _failed(reason: str, username: str | None = None) -> AuthResult:
    return AuthResult(AuthOutcome.FAILED, reason, username)


def _same_uri(text: str, uri: Uri | str) -> bool:
    """Whether the `uri` parameter names the Request-URI (RFC 3261 §22.4 item 3, RFC 7616 §3.4.6)."""
    if text == str(uri):
        return True
    try:
        return parse_uri(text) == (parse_uri(uri) if isinstance(uri, str) else uri)
    except SipParseError:
        return False


def _is_nc(text: str) -> bool:
    return len(text) == 8 and text.isascii() and all(c in "0123456789abcdefABCDEF" for c in text)


class DigestAuthenticator:
    """The server side of digest: issues challenges for one realm and verifies the credentials sent back.

    Nonces are stateless (see `nonces.py`); only the last nonce-count of recently used nonces is kept. ACK and
    CANCEL are never challenged (RFC 3261 §22.1): that is the caller's rule.
    """

    def __init__(
        self,
        realm: str,
        clock: Clock,
        *,
        secret: bytes,
        nonce_ttl: float = 300.0,
        algorithms: Iterable[Algorithm] = (Algorithm.SHA_256, Algorithm.MD5),
        max_nonces: int = 4096,
    ) -> None:
        self.realm = realm
        self.algorithms = tuple(algorithms)
        if not self.algorithms:
            raise ValueError("at least one algorithm is needed")
        self._nonces = NonceIssuer(realm, clock, secret=secret, ttl=nonce_ttl)
        self._counts = NonceCounts(max_nonces)
        mac = hmac.digest(secret, b"callboard-digest-opaque\0" + realm.encode("utf-8"), hashlib.sha256)
        self.opaque = mac[:16].hex()

    def challenges(self, *, stale: bool = False) -> list[Challenge]:
        """One challenge per algorithm, strongest first (RFC 8760 §2.4), sharing one fresh nonce."""
        nonce = self._nonces.issue()
        result = []
        for algorithm in self.algorithms:
            params = [
                AuthParam("realm", self.realm),
                AuthParam("nonce", nonce),
                AuthParam("opaque", self.opaque),
                AuthParam("algorithm", algorithm.value, quoted=False),
                AuthParam("qop", "auth"),
            ]
            if stale:
                params.append(AuthParam("stale", "true", quoted=False))
            result.append(Challenge("Digest", tuple(params)))
        return result

    def challenge_response(
        self, request: Request, *, proxy: bool = False, stale: bool = False, to_tag: str | None = None
    ) -> Response:
        """The 401 (or 407 from a proxy) carrying the challenges (RFC 3261 §22.1, §22.3)."""
        response = Response.for_request(request, 407 if proxy else 401, to_tag=to_tag)
        name = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
        for challenge in self.challenges(stale=stale):
            response.headers.add(name, str(challenge))
        return response

    def authenticate(self, request: Request, lookup: CredentialLookup, *, proxy: bool = False) -> AuthResult:
        """Verifies the request's Authorization (or Proxy-Authorization) for this realm (RFC 3261 §22.3)."""
        # Parsed one by one: credentials for another realm or scheme (Basic's token68 does not parse as
        # auth-params) must not hide ours.
        error: SipParseError | None = None
        for header in request.headers.fields("Proxy-Authorization" if proxy else "Authorization"):
            try:
                credentials = Credentials.parse(header.value, header.name, header.offset)
            except SipParseError as exc:
                error = error or exc
                continue
            if credentials.scheme.lower() == "digest" and credentials.param("realm") == self.realm:
                return self.verify(credentials, request.method, request.uri, lookup)
        if error is not None:
            return _failed(f"malformed credentials: {error.reason}")
        return _failed("no credentials for this realm")

    def verify(self, credentials: Credentials, method: str, uri: Uri | str, lookup: CredentialLookup) -> AuthResult:
        """Checks digest credentials sent with a request of `method` to `uri` (RFC 7616 §3.4, RFC 3261 §22.4)."""
        if credentials.scheme.lower() != "digest":
            return _failed(f"scheme {credentials.scheme} is not Digest")
        values: dict[str, str] = {}
        for name in ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce"):
            value = credentials.param(name)
            if value is None:
                return _failed(f"missing {name}", values.get("username"))
            values[name] = value
        username = values["username"]
        if values["realm"] != self.realm:
            return _failed("wrong realm", username)
        algorithm = Algorithm.from_param(credentials.param("algorithm"))
        if algorithm is None or algorithm not in self.algorithms:
            return _failed("algorithm not offered", username)
        if values["qop"].lower() != "auth":
            return _failed("qop is not auth", username)
        if not _is_nc(values["nc"]):
            return _failed("bad nonce count", username)
        if (credentials.param("userhash") or "false").lower() != "false":
            return _failed("userhash is not supported", username)
        if not hmac.compare_digest((credentials.param("opaque") or "").encode(), self.opaque.encode()):
            return _failed("opaque does not match", username)
        if not _same_uri(values["uri"], uri):
            return _failed("uri does not match the Request-URI", username)
        nonce = self._nonces.check(values["nonce"])
        if nonce.status is NonceStatus.INVALID:
            return _failed("nonce not issued here", username)
        secret = lookup(username, self.realm, algorithm)
        if secret is None:
            return _failed("unknown user", username)
        stored = secret.value.lower() if isinstance(secret, Ha1) else ha1(username, self.realm, secret.value, algorithm)
        expected = request_digest(
            algorithm,
            stored,
            values["nonce"],
            method,
            values["uri"],
            qop=values["qop"],
            nc=values["nc"],
            cnonce=values["cnonce"],
        )
        if not hmac.compare_digest(expected.encode(), values["response"].lower().encode()):
            return _failed("wrong response", username)
        # Only a right response may say stale (RFC 7616 §3.3) or move the count, so that a forged request
        # cannot push a client's count ahead.
        if nonce.status is NonceStatus.EXPIRED:
            return AuthResult(AuthOutcome.STALE, "nonce expired", username, algorithm)
        counted = self._counts.advance(values["nonce"], nonce.issued_ms, int(values["nc"], 16))
        if counted is CountCheck.FORGOTTEN:
            return AuthResult(AuthOutcome.STALE, "nonce count forgotten", username, algorithm)
        if counted is CountCheck.REPLAYED:
            return _failed("nonce count replayed", username)
        return AuthResult(AuthOutcome.OK, "", username, algorithm)


@dataclass
class _Session:
    """A challenge being answered: reused for later requests with the nonce-count going up (RFC 7616 §3.4)."""

    header: str
    challenge: Challenge
    algorithm: Algorithm
    qop: str | None
    nc: int = 0


def _random_cnonce() -> str:
    return secrets.token_hex(8)


class DigestClient:
    """The client side of digest: answers 401/407 challenges and signs later requests with the same nonce."""

    def __init__(
        self,
        username: str,
        password: str,
        *,
        algorithms: Iterable[Algorithm] = (Algorithm.SHA_256, Algorithm.MD5),
        cnonce: Callable[[], str] = _random_cnonce,
    ) -> None:
        self.username = username
        self._password = password
        self._algorithms = tuple(algorithms)
        self._cnonce = cnonce
        self._sessions: dict[tuple[str, str], _Session] = {}  # (header, realm) -> session

    def select(self, challenges: Iterable[Challenge]) -> Challenge | None:
        """The challenge to answer: the first of the preferred algorithm (SHA-256 before MD5, RFC 8760 §2.4)."""
        usable = [c for c in challenges if self._usable(c)]
        for algorithm in self._algorithms:
            for challenge in usable:
                if Algorithm.from_param(challenge.param("algorithm")) is algorithm:
                    return challenge
        return None

    def _usable(self, challenge: Challenge) -> bool:
        if challenge.scheme.lower() != "digest" or challenge.param("realm") is None or not challenge.param("nonce"):
            return False
        return _qop_of(challenge) != ""

    def handle(self, response: Response) -> bool:
        """Takes the challenges of a 401 or 407; False when there is nothing to retry with.

        A realm that challenges again without stale=true after being answered has refused these credentials
        (RFC 3261 §22.2): retrying would loop.
        """
        if response.status_code == 401:
            header, challenges = "Authorization", response.headers.www_authenticate
        elif response.status_code == 407:
            header, challenges = "Proxy-Authorization", response.headers.proxy_authenticate
        else:
            return False
        by_realm: dict[str, list[Challenge]] = {}
        for challenge in challenges:
            by_realm.setdefault(challenge.param("realm") or "", []).append(challenge)
        taken = False
        for realm, offered in by_realm.items():
            chosen = self.select(offered)
            if chosen is None:
                continue
            previous = self._sessions.get((header, realm))
            if previous is not None and previous.nc > 0 and (chosen.param("stale") or "").lower() != "true":
                return False
            algorithm = Algorithm.from_param(chosen.param("algorithm"))
            assert algorithm is not None
            self._sessions[(header, realm)] = _Session(header, chosen, algorithm, _qop_of(chosen))
            taken = True
        return taken

    def new_session(self) -> DigestClient:
        """A client with the same credentials and no challenge taken, for requests of their own (one call)."""
        return DigestClient(self.username, self._password, algorithms=self._algorithms, cnonce=self._cnonce)

    def forget(self) -> None:
        """Drops every challenge taken: the next 401/407 is answered whatever its stale flag.

        For a client starting a new round of requests (a registration refresh) whose old nonce a server rejects
        without saying stale=true, as many do once a nonce has aged; within one round `handle` still refuses a second
        challenge, so wrong credentials do not loop.
        """
        self._sessions.clear()

    @property
    def challenged(self) -> bool:
        """Whether a challenge was taken, so that `authorize` has credentials to add."""
        return bool(self._sessions)

    def answer(self, challenge: Challenge, method: str, uri: Uri | str) -> Credentials:
        """Credentials answering one challenge for a fresh request (nonce-count 1)."""
        algorithm = Algorithm.from_param(challenge.param("algorithm"))
        if algorithm is None or not self._usable(challenge):
            raise ValueError("this challenge cannot be answered")
        return self._sign(_Session("Authorization", challenge, algorithm, _qop_of(challenge)), method, str(uri))

    def authorize(self, request: Request) -> None:
        """Puts credentials for every challenge taken into the request, replacing older ones for the same realm."""
        for (header, realm), session in self._sessions.items():
            credentials = self._sign(session, request.method, str(request.uri))
            others = [h.value for h in request.headers.fields(header) if _realm_of(h.value) != realm]
            request.headers.remove(header)
            for value in [*others, str(credentials)]:
                request.headers.add(header, value)

    def _sign(self, session: _Session, method: str, uri: str) -> Credentials:
        challenge = session.challenge
        realm = challenge.param("realm") or ""
        nonce = challenge.param("nonce") or ""
        secret = ha1(self.username, realm, self._password, session.algorithm)
        params = [
            AuthParam("username", self.username),
            AuthParam("realm", realm),
            AuthParam("nonce", nonce),
            AuthParam("uri", uri),
        ]
        nc = cnonce = ""
        if session.qop is not None:
            session.nc += 1
            nc, cnonce = f"{session.nc:08x}", self._cnonce()
        response = request_digest(session.algorithm, secret, nonce, method, uri, qop=session.qop, nc=nc, cnonce=cnonce)
        params.append(AuthParam("response", response))
        algorithm = challenge.param("algorithm")
        if algorithm is not None:
            params.append(AuthParam("algorithm", algorithm, quoted=False))
        if session.qop is not None:
            params += [
                AuthParam("cnonce", cnonce),
                AuthParam("qop", session.qop, quoted=False),
                AuthParam("nc", nc, quoted=False),
            ]
        opaque = challenge.param("opaque")
        if opaque is not None:
            params.append(AuthParam("opaque", opaque))
        return Credentials("Digest", tuple(params))


def _qop_of(challenge: Challenge) -> str | None:
    """`auth` if offered, None for an RFC 2069 challenge without qop, "" when only other qops are offered."""
    offered = challenge.param("qop")
    if offered is None:
        return None
    return "auth" if "auth" in (q.strip().lower() for q in offered.split(",")) else ""


def _realm_of(value: str) -> str | None:
    try:
        return Credentials.parse(value).param("realm")
    except SipParseError:
        return None
