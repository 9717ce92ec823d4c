"""Caller ID on a trunk: the number and name a call presents (From), asserts (P-Asserted-Identity, RFC 3325) and
withholds (Privacy: id, RFC 3323 and RFC 3325 §9.3)."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import SipParseError
from .message import Request
from .uri import NameAddr, SipUri, TelUri

__all__ = ["ANONYMOUS", "CallerId"]

# RFC 3323 §4.1.1.3: the From of a call whose caller is withheld.
ANONYMOUS = NameAddr(SipUri("anonymous.invalid", "anonymous"), "Anonymous")


@dataclass(frozen=True)
class CallerId:
    """Who an outbound call says is calling: `number` (the user part, `+15551234567`) and `name`.

    `host` is the domain of the URIs (by default the user agent's address; some trunks want theirs). With `asserted`
    the identity also goes in P-Asserted-Identity, which a trunk that trusts us bills and presents. With `withheld`
    the far end is asked not to show it (Privacy: id) and From becomes anonymous; the asserted identity stays, for
    the trunk, which removes it before it leaves the trusted network (RFC 3325 §7).
    """

    number: str
    name: str | None = None
    host: str | None = None
    asserted: bool = True
    withheld: bool = False

    def __post_init__(self) -> None:
        if not self.number:
            raise ValueError("a caller ID needs a number")

    def identity(self, host: str) -> NameAddr:
        """The caller's address: `"name" <sip:number@host>`."""
        return NameAddr(SipUri(self.host or host, self.number), self.name)

    def from_address(self, host: str) -> NameAddr:
        return ANONYMOUS if self.withheld else self.identity(host)

    def headers(self, host: str) -> list[tuple[str, str]]:
        """P-Asserted-Identity and Privacy, as this caller ID needs them."""
        headers: list[tuple[str, str]] = []
        if self.asserted:
            headers.append(("P-Asserted-Identity", str(self.identity(host))))
        if self.withheld:
            headers.append(("Privacy", "id"))
        return headers

    @classmethod
    def of_request(cls, request: Request, *, trust_asserted: bool = True) -> CallerId | None:
        """The caller ID an INVITE presents: its P-Asserted-Identity when `trust_asserted` (from a trunk that is
        trusted to set it, RFC 3325 §5), else its From; None when neither names a user."""
        headers = request.headers
        address: NameAddr | None = None
        asserted = False
        if trust_asserted:
            for value in headers.get_all("P-Asserted-Identity"):
                try:
                    address = NameAddr.parse(value, "P-Asserted-Identity")
                except SipParseError:
                    continue
                asserted = True
                break
        if address is None:
            try:
                address = headers.from_
            except SipParseError:
                address = None
        number, host = _number_of(address)
        if address is None or not number:
            return None
        privacy = {p.strip().lower() for v in headers.get_all("Privacy") for p in v.split(";")}
        return cls(number, address.display_name, host, asserted=asserted, withheld="id" in privacy)


def _number_of(address: NameAddr | None) -> tuple[str | None, str | None]:
    if address is None:
        return None, None
    uri = address.uri
    if isinstance(uri, SipUri):
        return (None, None) if uri == ANONYMOUS.uri else (uri.user, uri.host)
    if isinstance(uri, TelUri):
        return uri.number, None
    return None, None
