"""Registrar bindings (RFC 3261 §10): an address-of-record's contacts, kept in memory with a persistence port.

The store is synchronous: the registrar answers a REGISTER inside the server transaction's callback, and lookups
for routing must not wait. Durability is a write-through port (`BindingPersistence`) that the application backs
with its store (it may queue the writes); at start the in-memory store is rebuilt from `load_all()`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from callboard.core.clock import Clock

from .transport_port import Destination
from .uri import NameAddr, SipUri, Uri

__all__ = ["Binding", "BindingPersistence", "BindingStore", "MemoryBindingStore", "aor_of", "contact_key"]

DEFAULT_Q = 1.0  # a contact without q ranks with the most preferred (RFC 3261 §10.2.1.2 leaves it open)

# URI parameters that take part in comparing two URIs even when only one of them has them (RFC 3261 §19.1.4).
_ALWAYS_COMPARED = ("user", "ttl", "method", "maddr", "transport")


def aor_of(uri: SipUri) -> str:
    """The canonical address-of-record `sip:user@host` (RFC 3261 §10.3 step 5): no port, parameters or headers."""
    user = uri.user or ""
    return f"{uri.scheme}:{user}@{uri.host.lower()}" if user else f"{uri.scheme}:{uri.host.lower()}"


def contact_key(uri: Uri) -> str:
    """A text that two Contact URIs share when they are equivalent (RFC 3261 §19.1.4), for matching bindings.

    Valueless flags (`;ob`, `;lr`) are left out; a valued parameter in only one URI still tells them apart, which
    is stricter than §19.1.4 (a key cannot ignore what only one side has) but keeps the same phone's refreshes
    together, since a UA sends its Contact the same way each time.
    """
    if not isinstance(uri, SipUri):
        return str(uri)
    params = sorted(
        (name.lower(), (value or "").lower())
        for name, value in uri.params
        if name.lower() in _ALWAYS_COMPARED or value is not None
    )
    headers = sorted((name.lower(), value) for name, value in uri.headers)
    return repr((uri.scheme, uri.user, uri.password, uri.host.lower(), uri.port, params, headers))


@dataclass(frozen=True)
class Binding:
    """One contact of an address-of-record, until `expires_at` (clock seconds).

    `source` and `transport` are where the REGISTER really came from (behind NAT, the address to send requests
    to); `path` is the Path the proxies in front of us recorded (RFC 3327).
    """

    aor: str
    contact: NameAddr
    expires_at: float
    call_id: str
    cseq: int
    registered_at: float
    q: float = DEFAULT_Q
    source: Destination | None = None
    transport: str = "UDP"
    user_agent: str | None = None
    instance_id: str | None = None  # +sip.instance (RFC 5626 §4.1), without its quotes
    path: tuple[str, ...] = field(default=())

    @property
    def key(self) -> tuple[str, str]:
        """What identifies the binding in its store and in the persistence port."""
        return self.aor, contact_key(self.contact.uri)

    def remaining(self, now: float) -> int:
        """Whole seconds left, as the expires parameter of a 200 OK tells them."""
        return max(0, math.ceil(self.expires_at - now))

    def is_live(self, now: float) -> bool:
        return self.expires_at > now

    def as_record(self) -> dict[str, object]:
        """A JSON-ready form for the persistence port; `from_record` reads it back."""
        return {
            "aor": self.aor,
            "contact": str(self.contact),
            "expires_at": self.expires_at,
            "call_id": self.call_id,
            "cseq": self.cseq,
            "registered_at": self.registered_at,
            "q": self.q,
            "source": list(self.source) if self.source is not None else None,
            "transport": self.transport,
            "user_agent": self.user_agent,
            "instance_id": self.instance_id,
            "path": list(self.path),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> Binding:
        """Raises ValueError (SipParseError for the contact) on a record `as_record` did not write."""
        source = record.get("source")
        path = record.get("path") or []
        if source is not None and not (isinstance(source, list | tuple) and len(source) == 2):
            raise ValueError(f"bad binding source {source!r}")
        if not isinstance(path, list | tuple):
            raise ValueError(f"bad binding path {path!r}")
        return cls(
            aor=str(record["aor"]),
            contact=NameAddr.parse(str(record["contact"]), "Contact"),
            expires_at=float(str(record["expires_at"])),
            call_id=str(record["call_id"]),
            cseq=int(str(record["cseq"])),
            registered_at=float(str(record["registered_at"])),
            q=float(str(record.get("q", DEFAULT_Q))),
            source=(str(source[0]), int(source[1])) if source is not None else None,
            transport=str(record.get("transport", "UDP")),
            user_agent=_optional(record.get("user_agent")),
            instance_id=_optional(record.get("instance_id")),
            path=tuple(str(p) for p in path),
        )


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


class BindingPersistence(Protocol):
    """The port through which bindings outlive the process (the application backs it with its store)."""

    def save(self, binding: Binding) -> None:
        """Adds the binding, or replaces the one with the same `key`."""
        ...

    def delete(self, binding: Binding) -> None: ...

    def load_all(self) -> Iterable[Binding]: ...


class BindingStore(Protocol):
    """The registrar's bindings: looked up by routing, updated a whole AOR at a time by the registrar."""

    def lookup(self, aor: str) -> list[Binding]:
        """The live bindings of `aor`, most preferred (q) first, then most recently registered first."""
        ...

    def update(self, aor: str, bindings: Iterable[Binding]) -> None:
        """Makes `bindings` the bindings of `aor`, all at once (RFC 3261 §10.3 step 7 commits all or nothing)."""
        ...

    def purge(self, now: float) -> list[Binding]:
        """Forgets the bindings expired at `now` and returns them."""
        ...


def _rank(binding: Binding) -> tuple[float, float]:
    return -binding.q, -binding.registered_at


class MemoryBindingStore:
    """Bindings in a dict keyed by AOR, written through to an optional persistence port and reloaded from it."""

    def __init__(self, clock: Clock, persistence: BindingPersistence | None = None) -> None:
        self.clock = clock
        self.persistence = persistence
        self._by_aor: dict[str, dict[str, Binding]] = {}
        if persistence is not None:
            for binding in persistence.load_all():
                self._by_aor.setdefault(binding.aor, {})[binding.key[1]] = binding
            self.purge(clock.now())  # what expired while the process was down

    def lookup(self, aor: str) -> list[Binding]:
        now = self.clock.now()
        return sorted((b for b in self._by_aor.get(aor, {}).values() if b.is_live(now)), key=_rank)

    def update(self, aor: str, bindings: Iterable[Binding]) -> None:
        new = {b.key[1]: b for b in bindings}
        if any(b.aor != aor for b in new.values()):
            raise ValueError(f"a binding given for {aor} belongs to another AOR")
        old = self._by_aor.pop(aor, {})
        if new:
            self._by_aor[aor] = new
        if self.persistence is None:
            return
        for key, binding in old.items():
            if key not in new:
                self.persistence.delete(binding)
        for key, binding in new.items():
            if old.get(key) != binding:
                self.persistence.save(binding)

    def purge(self, now: float) -> list[Binding]:
        expired: list[Binding] = []
        for aor in list(self._by_aor):
            bindings = self._by_aor[aor]
            gone = [key for key, b in bindings.items() if not b.is_live(now)]
            expired += [bindings.pop(key) for key in gone]
            if not bindings:
                del self._by_aor[aor]
        if self.persistence is not None:
            for binding in expired:
                self.persistence.delete(binding)
        return expired

    @property
    def aors(self) -> list[str]:
        return sorted(self._by_aor)
