"""Typed header field values (RFC 3261 §20): Via, CSeq, Content-Type, digest challenges and credentials, dates."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import SipParseError
from .syntax import (
    WS,
    Params,
    find_param,
    format_params,
    is_token,
    quote,
    read_params,
    read_quoted,
    read_token,
    skip_ws,
    split_list,
    unquote_value,
)
from .uri import check_host, format_host, parse_port

MAX_CSEQ = 2**31 - 1  # RFC 3261 §8.1.1.5: the sequence number MUST be less than 2**31
MAX_DELTA_SECONDS = 2**32 - 1


def parse_number(text: str, field: str, offset: int = 0, maximum: int = MAX_DELTA_SECONDS) -> int:
    """1*DIGIT within [0, maximum]: the rule of CSeq, Max-Forwards, Content-Length, Expires (RFC 4475 §3.1.2.4)."""
    if not text.isascii() or not text.isdigit():
        raise SipParseError(field, f"expected a number, got {text!r}", offset)
    if len(text.lstrip("0")) > 12 or int(text) > maximum:
        raise SipParseError(field, f"{text} is out of range 0-{maximum}", offset)
    return int(text)


_SENT_PROTOCOL = re.compile(r"([^\s/]+)[ \t]*/[ \t]*([^\s/]+)[ \t]*/[ \t]*([^\s/;]+)[ \t]+")


@dataclass(frozen=True)
class Via:
    """One via-parm: `SIP/2.0/UDP host:port;branch=z9hG4bK...` (RFC 3261 §20.42, §18.2.1 received/rport §3581)."""

    transport: str
    host: str
    port: int | None = None
    params: Params = ()
    protocol: str = "SIP"
    version: str = "2.0"

    @classmethod
    def parse(cls, text: str, field: str = "Via", offset: int = 0) -> Via:
        start = skip_ws(text, 0)
        match = _SENT_PROTOCOL.match(text, start)
        if not match or not all(is_token(g) for g in match.groups()):
            raise SipParseError(field, "bad sent-protocol", offset + start)
        pos = match.end()
        end = pos
        if text.startswith("[", pos):
            end = text.find("]", pos) + 1
            if end == 0:
                raise SipParseError(field, "bad IPv6 reference in sent-by", offset + pos)
        while end < len(text) and text[end] not in WS + ";:":
            end += 1
        host = text[pos:end]
        if not host:
            raise SipParseError(field, "missing sent-by", offset + pos)
        check_host(host, field, offset + pos)
        port = None
        pos = skip_ws(text, end)
        if pos < len(text) and text[pos] == ":":
            pos = skip_ws(text, pos + 1)
            end = pos
            while end < len(text) and text[end] not in WS + ";":
                end += 1
            port = parse_port(text[pos:end], field, offset + pos)
            pos = end
        params, pos = read_params(text, pos, field, offset)
        if pos != len(text):
            raise SipParseError(field, "unexpected text in via-parm", offset + pos)
        via = cls(match.group(3), host, port, params, match.group(1), match.group(2))
        via._check_params(field, offset)
        return via

    def _check_params(self, field: str, offset: int) -> None:
        ttl = self.param("ttl")
        if ttl is not None:
            parse_number(ttl, field, offset, 255)
        received = self.param("received")
        if received is not None:
            # received = IPv4address / IPv6address (RFC 3261 §20.42), brackets tolerated
            try:
                ipaddress.ip_address(received.removeprefix("[").removesuffix("]"))
            except ValueError:
                raise SipParseError(field, f"received is not an address: {received!r}", offset) from None
        rport = self.param("rport")
        if rport is not None:
            parse_port(rport, field, offset)

    def param(self, name: str) -> str | None:
        return find_param(self.params, name)[1]

    def has_param(self, name: str) -> bool:
        return find_param(self.params, name)[0]

    @property
    def branch(self) -> str | None:
        return self.param("branch")

    @property
    def received(self) -> str | None:
        return self.param("received")

    @property
    def rport(self) -> int | None:
        """The rport value a server filled in (RFC 3581); `has_param("rport")` tells a client's empty request."""
        value = self.param("rport")
        return None if value is None else int(value)

    @property
    def maddr(self) -> str | None:
        return self.param("maddr")

    @property
    def ttl(self) -> int | None:
        value = self.param("ttl")
        return None if value is None else int(value)

    @property
    def sent_protocol(self) -> str:
        return f"{self.protocol}/{self.version}/{self.transport}"

    def __str__(self) -> str:
        return f"{self.sent_protocol} {format_host(self.host, self.port)}{format_params(self.params)}"


@dataclass(frozen=True)
class CSeq:
    """`CSeq: 4711 INVITE` (RFC 3261 §20.16)."""

    number: int
    method: str

    @classmethod
    def parse(cls, text: str, field: str = "CSeq", offset: int = 0) -> CSeq:
        parts = text.split()
        if len(parts) != 2 or not is_token(parts[1]):
            raise SipParseError(field, "expected sequence number and method", offset)
        return cls(parse_number(parts[0], field, offset, MAX_CSEQ), parts[1])

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


@dataclass(frozen=True)
class ContentType:
    """`application/sdp`, `multipart/mixed;boundary=...` (RFC 3261 §20.15); type and subtype compare lowered."""

    type: str
    subtype: str
    params: Params = ()

    @classmethod
    def parse(cls, text: str, field: str = "Content-Type", offset: int = 0) -> ContentType:
        pos = skip_ws(text, 0)
        type_, pos = read_token(text, pos)
        pos = skip_ws(text, pos)
        if not type_ or not text.startswith("/", pos):
            raise SipParseError(field, "expected type/subtype", offset + pos)
        subtype, pos = read_token(text, skip_ws(text, pos + 1))
        if not subtype:
            raise SipParseError(field, "missing subtype", offset + pos)
        params, pos = read_params(text, pos, field, offset)
        if skip_ws(text, pos) != len(text):
            raise SipParseError(field, "unexpected text", offset + pos)
        return cls(type_.lower(), subtype.lower(), params)

    @property
    def mime_type(self) -> str:
        return f"{self.type}/{self.subtype}"

    def param(self, name: str) -> str | None:
        value = find_param(self.params, name)[1]
        return None if value is None else unquote_value(value)

    def __str__(self) -> str:
        return self.mime_type + format_params(self.params)


@dataclass(frozen=True)
class AuthParam:
    """One auth-param; `quoted` remembers the form so that a digest prints back as the peer expects (RFC 2617)."""

    name: str
    value: str
    quoted: bool = True

    def __str__(self) -> str:
        return f"{self.name}={quote(self.value) if self.quoted else self.value}"


@dataclass(frozen=True)
class Challenge:
    """WWW-Authenticate / Proxy-Authenticate: `Digest realm="...", nonce="..."` (RFC 3261 §20.44, §25.1)."""

    scheme: str
    params: tuple[AuthParam, ...] = ()

    @classmethod
    def parse(cls, text: str, field: str = "WWW-Authenticate", offset: int = 0) -> Challenge:
        pos = skip_ws(text, 0)
        scheme, pos = read_token(text, pos)
        if not scheme:
            raise SipParseError(field, "missing auth scheme", offset + pos)
        rest = text[pos:]
        if rest and rest[0] not in WS:
            raise SipParseError(field, "expected whitespace after auth scheme", offset + pos)
        params: list[AuthParam] = []
        for item, at in split_list(rest, field, offset + pos) if rest.strip() else []:
            name, eq, value = item.partition("=")
            name, value = name.rstrip(WS), value.lstrip(WS)
            if not is_token(name) or not eq or not value:
                raise SipParseError(field, "bad auth-param", offset + pos + at)
            if value.startswith('"'):
                unquoted, end = read_quoted(value, 0, field, offset + pos + at)
                if end != len(value):
                    raise SipParseError(field, "text after quoted auth-param", offset + pos + at)
                params.append(AuthParam(name, unquoted, True))
            elif is_token(value):
                params.append(AuthParam(name, value, False))
            else:
                raise SipParseError(field, f"bad value of auth-param {name}", offset + pos + at)
        return cls(scheme, tuple(params))

    def param(self, name: str) -> str | None:
        lowered = name.lower()
        return next((p.value for p in self.params if p.name.lower() == lowered), None)

    def __str__(self) -> str:
        return self.scheme + (" " + ", ".join(str(p) for p in self.params) if self.params else "")


class Credentials(Challenge):
    """Authorization / Proxy-Authorization: `Digest username="...", response="..."` (RFC 3261 §20.7)."""

    @classmethod
    def parse(cls, text: str, field: str = "Authorization", offset: int = 0) -> Credentials:
        challenge = Challenge.parse(text, field, offset)
        return cls(challenge.scheme, challenge.params)


_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_RFC1123 = re.compile(rf"({'|'.join(_WEEKDAYS)}), (\d\d) ({'|'.join(_MONTHS)}) (\d{{4}}) (\d\d):(\d\d):(\d\d) GMT")


def parse_date(text: str, field: str = "Date", offset: int = 0) -> datetime:
    """SIP-date: RFC 1123 form, always GMT (RFC 3261 §20.17; RFC 4475 §3.1.2.12 baddate)."""
    match = _RFC1123.fullmatch(text.strip())
    if not match:
        raise SipParseError(field, "expected an RFC 1123 date in GMT", offset)
    _, day, month, year, hour, minute, second = match.groups()
    try:
        return datetime(int(year), _MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    except ValueError:
        raise SipParseError(field, "no such date", offset) from None


def format_date(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return f"{_WEEKDAYS[utc.weekday()]}, {utc:%d} {_MONTHS[utc.month - 1]} {utc:%Y %H:%M:%S} GMT"
