"""The wire types of transfers: Replaces (RFC 3891), Refer-To with an embedded Replaces (RFC 3515, RFC 5589),
message/sipfrag status lines (RFC 3420), and the Event and Subscription-State values of a NOTIFY (RFC 6665)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .errors import SipParseError
from .syntax import Params, find_param, format_params, is_token, read_params, read_token, skip_ws
from .uri import NameAddr, SipUri, Uri

if TYPE_CHECKING:
    from .dialog import Dialog

__all__ = ["SIPFRAG", "EventHeader", "ReferTo", "ReplacesTarget", "SubscriptionState", "parse_sipfrag", "sipfrag"]

SIPFRAG = "message/sipfrag;version=2.0"


@dataclass(frozen=True)
class ReplacesTarget:
    """`Replaces: call-id;to-tag=...;from-tag=...[;early-only]`: the dialog a new INVITE takes the place of.

    The tags are seen from the side that receives it: `to_tag` is its local tag, `from_tag` its remote one (§3).
    """

    call_id: str
    to_tag: str
    from_tag: str
    early_only: bool = False

    @classmethod
    def parse(cls, text: str, field: str = "Replaces", offset: int = 0) -> ReplacesTarget:
        text = text.strip()
        semi = text.find(";")
        call_id, rest = (text, "") if semi < 0 else (text[:semi].rstrip(), text[semi:])
        if not call_id or not call_id.isascii() or any(c in call_id for c in ' \t,;"'):
            raise SipParseError(field, "bad Call-ID", offset)
        params, end = read_params(rest, 0, field, offset + max(semi, 0))
        if skip_ws(rest, end) != len(rest):
            raise SipParseError(field, "unexpected text after the parameters", offset + max(semi, 0) + end)
        to_tag, from_tag = _one(params, "to-tag", field, offset), _one(params, "from-tag", field, offset)
        return cls(call_id, to_tag, from_tag, find_param(params, "early-only")[0])

    @classmethod
    def for_dialog(cls, dialog: Dialog, *, early_only: bool = False) -> ReplacesTarget:
        """What names `dialog` to the user agent at its other end: there, our local tag is the remote one."""
        return cls(dialog.call_id, dialog.remote_tag, dialog.local_tag, early_only)

    def __str__(self) -> str:
        early = ";early-only" if self.early_only else ""
        return f"{self.call_id};to-tag={self.to_tag};from-tag={self.from_tag}{early}"


def _one(params: Params, name: str, field: str, offset: int) -> str:
    values = [value for key, value in params if key.lower() == name]
    if len(values) != 1 or not values[0] or not is_token(values[0]):
        raise SipParseError(field, f"needs exactly one {name}", offset)
    return values[0]


@dataclass(frozen=True)
class ReferTo:
    """A Refer-To value (RFC 3515 §2.1): whom to call, and the dialog to replace when it is an attended transfer.

    `target` is the URI without its headers; a `Replaces` among them (RFC 3891 §5) becomes `replaces`. `method` is
    the URI's method parameter (INVITE when absent).
    """

    target: Uri
    replaces: ReplacesTarget | None = None
    method: str = "INVITE"
    address: NameAddr | None = None

    @classmethod
    def parse(cls, text: str, field: str = "Refer-To", offset: int = 0) -> ReferTo:
        address = NameAddr.parse(text, field, offset)
        uri = address.uri
        if not isinstance(uri, SipUri):
            return cls(uri, address=address)
        replaces: ReplacesTarget | None = None
        for name, value in uri.headers:
            if name.lower() == "replaces":
                if replaces is not None:
                    raise SipParseError(field, "more than one Replaces", offset)
                replaces = ReplacesTarget.parse(value, field, offset)
        method = (uri.param("method") or "INVITE").upper()
        target = replace(uri, headers=(), params=tuple(p for p in uri.params if p[0].lower() != "method"))
        return cls(target, replaces, method, address)

    @staticmethod
    def format(target: Uri, replaces: ReplacesTarget | None = None) -> str:
        """The Refer-To value for calling `target`, replacing `replaces` at its end (escaped in the URI)."""
        if replaces is not None:
            if not isinstance(target, SipUri):
                raise ValueError(f"a Replaces needs a SIP URI, not {target}")
            kept = tuple(h for h in target.headers if h[0].lower() != "replaces")
            target = replace(target, headers=(*kept, ("Replaces", str(replaces))))
        return str(NameAddr(target))


def sipfrag(status_code: int, reason: str) -> bytes:
    """A message/sipfrag body of just a status line (RFC 3515 §2.4.5)."""
    return f"SIP/2.0 {status_code} {reason}\r\n".encode()


def parse_sipfrag(body: bytes) -> tuple[int, str]:
    """The status code and reason of a sipfrag's status line; SipParseError when it has none."""
    line = body.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
    version, _, rest = line.partition(" ")
    code, _, reason = rest.partition(" ")
    if version.upper() != "SIP/2.0" or len(code) != 3 or not code.isdigit() or not "100" <= code < "700":
        raise SipParseError("message/sipfrag", f"no status line: {line[:40]!r}", 0)
    return int(code), reason


@dataclass(frozen=True)
class EventHeader:
    """`Event: refer;id=93809824` (RFC 6665 §8.2.1): the event package and its parameters."""

    package: str
    params: Params = ()

    @classmethod
    def parse(cls, text: str, field: str = "Event", offset: int = 0) -> EventHeader:
        pos = skip_ws(text, 0)
        package, pos = read_token(text, pos)
        if not package:
            raise SipParseError(field, "missing event package", offset)
        params, pos = read_params(text, pos, field, offset)
        if skip_ws(text, pos) != len(text):
            raise SipParseError(field, "unexpected text", offset + pos)
        return cls(package.lower(), params)

    @property
    def id(self) -> str | None:
        return find_param(self.params, "id")[1]

    def __str__(self) -> str:
        return self.package + format_params(self.params)


@dataclass(frozen=True)
class SubscriptionState:
    """`Subscription-State: active;expires=60` or `terminated;reason=noresource` (RFC 6665 §8.2.3)."""

    state: str
    params: Params = ()

    @classmethod
    def parse(cls, text: str, field: str = "Subscription-State", offset: int = 0) -> SubscriptionState:
        event = EventHeader.parse(text, field, offset)
        return cls(event.package, event.params)

    @property
    def terminated(self) -> bool:
        return self.state == "terminated"

    @property
    def reason(self) -> str | None:
        return find_param(self.params, "reason")[1]

    def __str__(self) -> str:
        return self.state + format_params(self.params)
