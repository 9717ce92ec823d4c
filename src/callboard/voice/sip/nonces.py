"""Stateless digest nonces (RFC 7616 §3.3, §5.4) and the bounded memory of nonce-counts that stops replays."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum

from callboard.core.clock import Clock

_TIME_BYTES = 8
_SALT_BYTES = 8
_MAC_BYTES = 16
_NONCE_BYTES = _TIME_BYTES + _SALT_BYTES + _MAC_BYTES
_NONCE_CHARS = 43  # base64url of 32 bytes, unpadded


class NonceStatus(Enum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass(frozen=True)
class NonceCheck:
    """What a nonce says about itself: whether we issued it and it is fresh, and when (ms since the epoch)."""

    status: NonceStatus
    issued_ms: int = 0


class NonceIssuer:
    """Issues nonces that carry their issue time and an HMAC, so any node holding the secret validates them.

    Layout: 8 bytes of issue time (ms), 8 random bytes (each challenge gets its own nonce, hence its own
    nonce-count sequence), then 16 bytes of HMAC-SHA-256 over both and the realm; base64url without padding.
    """

    def __init__(self, realm: str, clock: Clock, *, secret: bytes, ttl: float) -> None:
        if len(secret) < 16:
            raise ValueError("a nonce secret needs at least 16 bytes")
        if ttl <= 0:
            raise ValueError("a nonce lifetime must be positive")
        self._realm = realm.encode("utf-8")
        self._clock = clock
        self._secret = secret
        self._ttl_ms = int(ttl * 1000)

    def _mac(self, payload: bytes) -> bytes:
        message = b"callboard-digest-nonce\0" + self._realm + b"\0" + payload
        return hmac.digest(self._secret, message, hashlib.sha256)[:_MAC_BYTES]

    def _now_ms(self) -> int:
        return int(self._clock.now() * 1000)

    def issue(self) -> str:
        payload = self._now_ms().to_bytes(_TIME_BYTES, "big") + secrets.token_bytes(_SALT_BYTES)
        return base64.urlsafe_b64encode(payload + self._mac(payload)).rstrip(b"=").decode("ascii")

    def check(self, nonce: str) -> NonceCheck:
        if len(nonce) != _NONCE_CHARS or not nonce.isascii():
            return NonceCheck(NonceStatus.INVALID)
        try:
            raw = base64.b64decode(nonce + "=", altchars=b"-_", validate=True)
        except binascii.Error:
            return NonceCheck(NonceStatus.INVALID)
        # Only the canonical spelling is accepted: a variant with other trailing bits would decode to the same
        # bytes and, as a different string, start a fresh nonce-count sequence (a replay).
        if len(raw) != _NONCE_BYTES or base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != nonce:
            return NonceCheck(NonceStatus.INVALID)
        payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(payload)):
            return NonceCheck(NonceStatus.INVALID)
        issued_ms = int.from_bytes(payload[:_TIME_BYTES], "big")
        age = self._now_ms() - issued_ms
        if age > self._ttl_ms or age < -self._ttl_ms:
            # Far in the future means a clock that went back or a node whose clock is off: not to be trusted.
            return NonceCheck(NonceStatus.EXPIRED, issued_ms)
        return NonceCheck(NonceStatus.VALID, issued_ms)


class CountCheck(Enum):
    ACCEPTED = "accepted"
    REPLAYED = "replayed"  # not above the last count accepted for this nonce
    FORGOTTEN = "forgotten"  # the nonce may have been used, but its count was pushed out of the table


class NonceCounts:
    """The last nonce-count accepted for each recently used nonce, in a bounded LRU (RFC 7616 §3.4, §5.5).

    A nonce pushed out of the table is not forgotten into a fresh one: every nonce issued no later than the
    newest one evicted and not in the table is refused, so a replay never passes; at worst a client is asked
    to take a new nonce (stale).
    """

    def __init__(self, capacity: int = 4096) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._last: OrderedDict[str, tuple[int, int]] = OrderedDict()  # nonce -> (last nc, issue time in ms)
        self._evicted_up_to_ms = -1

    def __len__(self) -> int:
        return len(self._last)

    def advance(self, nonce: str, issued_ms: int, nc: int) -> CountCheck:
        """Records `nc` for `nonce` if it is higher than any accepted before."""
        known = self._last.get(nonce)
        if known is None and issued_ms <= self._evicted_up_to_ms:
            return CountCheck.FORGOTTEN
        if known is not None and nc <= known[0]:
            return CountCheck.REPLAYED
        self._last[nonce] = (nc, issued_ms)
        self._last.move_to_end(nonce)
        while len(self._last) > self._capacity:
            _, (_, evicted_ms) = self._last.popitem(last=False)
            self._evicted_up_to_ms = max(self._evicted_up_to_ms, evicted_ms)
        return CountCheck.ACCEPTED
