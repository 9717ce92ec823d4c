"""SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966), other absolute URIs, and name-addr / addr-spec (§20.10)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace

from .errors import SipParseError
from .syntax import (
    ALPHANUM,
    WS,
    Params,
    check_chars,
    escape,
    find_param,
    format_params,
    is_token,
    quote,
    read_params,
    read_quoted,
    skip_ws,
    unescape,
    unquote_value,
)

# RFC 3261 §25.1
UNRESERVED = ALPHANUM + "-_.!~*'()"
USER_CHARS = frozenset(UNRESERVED + "&=+$,;?/")
PASSWORD_CHARS = frozenset(UNRESERVED + "&=+$,")
PARAM_CHARS = frozenset(UNRESERVED + "[]/:&+$")
HEADER_CHARS = frozenset(UNRESERVED + "[]/?:+$")
URIC_CHARS = frozenset(UNRESERVED + ";/?:@&=+$,")
TEL_NUMBER = re.compile(r"\+?[0-9A-Fa-f*#().\-]*[0-9A-Fa-f*#][0-9A-Fa-f*#().\-]*")
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"(?:{_LABEL}\.)*[A-Za-z](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.?")
IPV4 = re.compile(r"[0-9.]+")


def check_host(host: str, field: str, offset: int) -> None:
    """host = hostname / IPv4address / IPv6reference (RFC 3261 §25.1)."""
    try:
        if host.startswith("[") and host.endswith("]"):
            ipaddress.IPv6Address(host[1:-1])
            return
        if IPV4.fullmatch(host):
            ipaddress.IPv4Address(host)
            return
    except ValueError:
        raise SipParseError(field, f"bad address {host!r}", offset) from None
    if not HOSTNAME.fullmatch(host):
        raise SipParseError(field, f"bad host {host!r}", offset)


def parse_port(text: str, field: str, offset: int) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 5 or int(text) > 65535:
        raise SipParseError(field, f"bad port {text!r}", offset)
    return int(text)


def format_host(host: str, port: int | None) -> str:
    return host if port is None else f"{host}:{port}"


@dataclass(frozen=True)
class SipUri:
    """A sip: or sips: URI; user, password, parameters and headers are held unescaped."""

    host: str
    user: str | None = None
    password: str | None = None
    port: int | None = None
    params: Params = ()
    headers: tuple[tuple[str, str], ...] = ()
    scheme: str = "sip"

    @classmethod
    def parse(cls, text: str, field: str = "uri", offset: int = 0) -> SipUri:
        uri = parse_uri(text, field, offset)
        if not isinstance(uri, SipUri):
            raise SipParseError(field, "not a sip or sips URI", offset)
        return uri

    def param(self, name: str) -> str | None:
        return find_param(self.params, name)[1]

    def has_param(self, name: str) -> bool:
        return find_param(self.params, name)[0]

    @property
    def transport(self) -> str | None:
        return self.param("transport")

    def __str__(self) -> str:
        out = [self.scheme, ":"]
        if self.user is not None:
            out.append(escape(self.user, USER_CHARS))
            if self.password is not None:
                out += [":", escape(self.password, PASSWORD_CHARS)]
            out.append("@")
        out.append(format_host(self.host, self.port))
        for name, value in self.params:
            out += [";", escape(name, PARAM_CHARS)]
            if value is not None:
                out += ["=", escape(value, PARAM_CHARS)]
        for i, (name, value) in enumerate(self.headers):
            out += ["?" if i == 0 else "&", escape(name, HEADER_CHARS), "=", escape(value, HEADER_CHARS)]
        return "".join(out)


def _parse_sip(scheme: str, rest: str, field: str, base: int) -> SipUri:
    user = password = None
    at = rest.find("@")
    if at >= 0:
        userinfo = rest[:at]
        user_raw, colon, password_raw = userinfo.partition(":")
        if not user_raw:
            raise SipParseError(field, "empty user", base)
        check_chars(user_raw, USER_CHARS, field, base, "user")
        user = unescape(user_raw)
        if colon:
            check_chars(password_raw, PASSWORD_CHARS, field, base + len(user_raw) + 1, "password")
            password = unescape(password_raw)
        base += at + 1
        rest = rest[at + 1 :]
    end = len(rest)
    for stop in ";?":
        found = rest.find(stop)
        if found >= 0:
            end = min(end, found)
    hostport, tail = rest[:end], rest[end:]
    if hostport.startswith("["):
        close = hostport.find("]")
        host, port_text = hostport[: close + 1], hostport[close + 1 :]
        if close < 0 or (port_text and not port_text.startswith(":")):
            raise SipParseError(field, "bad IPv6 reference", base)
        port_text = port_text[1:] if port_text else ""
        has_port = bool(hostport[close + 1 :])
    else:
        host, colon, port_text = hostport.partition(":")
        has_port = bool(colon)
    check_host(host, field, base)
    port = parse_port(port_text, field, base + len(host) + 1) if has_port else None
    base += len(hostport)
    query = tail.find("?")
    params_text, headers_text = (tail, "") if query < 0 else (tail[:query], tail[query + 1 :])
    params: list[tuple[str, str | None]] = []
    for item in params_text.split(";")[1:]:
        name, eq, value = item.partition("=")
        if not name or (eq and not value):
            raise SipParseError(field, "empty URI parameter", base)
        check_chars(item, PARAM_CHARS | {"="}, field, base, "URI parameter")
        params.append((unescape(name), unescape(value) if eq else None))
        base += len(item) + 1
    headers: list[tuple[str, str]] = []
    if query >= 0:
        for item in headers_text.split("&"):
            name, eq, value = item.partition("=")
            if not name or not eq:
                raise SipParseError(field, "bad URI header", base)
            check_chars(item, HEADER_CHARS | {"="}, field, base, "URI header")
            headers.append((unescape(name), unescape(value)))
    return SipUri(host, user, password, port, tuple(params), tuple(headers), scheme)


@dataclass(frozen=True)
class TelUri:
    """A tel: URI (RFC 3966): the number as written (global `+...` or local) and its parameters."""

    number: str
    params: Params = ()

    def param(self, name: str) -> str | None:
        return find_param(self.params, name)[1]

    def __str__(self) -> str:
        return (
            "tel:"
            + self.number
            + "".join(
                f";{escape(n, PARAM_CHARS)}" + ("" if v is None else f"={escape(v, PARAM_CHARS)}")
                for n, v in self.params
            )
        )


def _parse_tel(rest: str, field: str, base: int) -> TelUri:
    number, *items = rest.split(";")
    if not TEL_NUMBER.fullmatch(number):
        raise SipParseError(field, f"bad telephone number {number!r}", base)
    params: list[tuple[str, str | None]] = []
    for item in items:
        name, eq, value = item.partition("=")
        if not name or (eq and not value):
            raise SipParseError(field, "empty tel parameter", base)
        check_chars(item, PARAM_CHARS | {"="}, field, base, "tel parameter")
        params.append((unescape(name), unescape(value) if eq else None))
    return TelUri(number, tuple(params))


@dataclass(frozen=True)
class AbsoluteUri:
    """A URI of a scheme this stack does not interpret (RFC 4475 §3.3.2 unkscm): kept, printed back as it came."""

    scheme: str
    opaque: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.opaque}"


Uri = SipUri | TelUri | AbsoluteUri


def parse_uri(text: str, field: str = "uri", offset: int = 0) -> Uri:
    """Parses an absolute URI; sip, sips and tel are understood, other schemes are kept opaque."""
    scheme, colon, rest = text.partition(":")
    if not colon or not SCHEME.fullmatch(scheme):
        raise SipParseError(field, "missing or bad URI scheme", offset)
    base = offset + len(scheme) + 1
    lowered = scheme.lower()
    if lowered in ("sip", "sips"):
        return _parse_sip(lowered, rest, field, base)
    if lowered == "tel":
        return _parse_tel(rest, field, base)
    if not rest:
        raise SipParseError(field, "empty URI", base)
    check_chars(rest, URIC_CHARS, field, base, "URI")
    return AbsoluteUri(scheme, rest)


@dataclass(frozen=True)
class NameAddr:
    """The value of From, To, Contact, Route, Record-Route...: `"Display" <uri>;params` (RFC 3261 §20.10).

    Header parameters (`tag`, `expires`, `q`) belong to the header, not the URI; values keep their quotes.
    """

    uri: Uri
    display_name: str | None = None
    params: Params = ()

    @classmethod
    def parse(cls, text: str, field: str = "name-addr", offset: int = 0) -> NameAddr:
        pos = skip_ws(text, 0)
        display: str | None = None
        if pos < len(text) and text[pos] == '"':
            display, pos = read_quoted(text, pos, field, offset)
            pos = skip_ws(text, pos)
            if pos >= len(text) or text[pos] != "<":
                raise SipParseError(field, "expected < after display name", offset + pos)
        elif "<" in text:
            lt = text.index("<")
            words = text[pos:lt].split()
            if not all(is_token(word) for word in words):
                raise SipParseError(field, "display name must be tokens or a quoted string", offset + pos)
            display = " ".join(words) if words else None
            pos = lt
        if pos < len(text) and text[pos] == "<":
            gt = text.find(">", pos)
            if gt < 0:
                raise SipParseError(field, "missing >", offset + pos)
            uri_text = text[pos + 1 : gt]
            if not uri_text or uri_text[0] in WS or uri_text[-1] in WS:
                raise SipParseError(field, "whitespace inside <...>", offset + pos + 1)
            uri = parse_uri(uri_text, field, offset + pos + 1)
            pos = gt + 1
        else:
            # addr-spec: the URI ends at the first ";", and the parameters after it are the header's (§20.10).
            end = text.find(";", pos)
            end = len(text) if end < 0 else end
            uri_text = text[pos:end].rstrip(WS)
            if any(c in uri_text for c in ",?" + WS) or not uri_text:
                raise SipParseError(field, "a URI with ',' '?' or spaces must be inside <...>", offset + pos)
            uri = parse_uri(uri_text, field, offset + pos)
            pos = end
        params, pos = read_params(text, pos, field, offset)
        if skip_ws(text, pos) != len(text):
            raise SipParseError(field, "unexpected text after parameters", offset + pos)
        return cls(uri, display, params)

    def param(self, name: str) -> str | None:
        """A header parameter's value, unquoted."""
        value = find_param(self.params, name)[1]
        return None if value is None else unquote_value(value)

    def has_param(self, name: str) -> bool:
        return find_param(self.params, name)[0]

    @property
    def tag(self) -> str | None:
        return self.param("tag")

    @property
    def expires(self) -> int | None:
        """A Contact's expires parameter (RFC 3261 §10.2.1.1); None when absent or not a number."""
        value = self.param("expires")
        return int(value) if value is not None and value.isascii() and value.isdigit() else None

    @property
    def q(self) -> float | None:
        """A Contact's preference, 0 to 1 (RFC 3261 §20.10); None when absent or not a number."""
        value = self.param("q")
        try:
            return None if value is None else float(value)
        except ValueError:
            return None

    def with_param(self, name: str, value: str | None) -> NameAddr:
        kept = tuple(p for p in self.params if p[0].lower() != name.lower())
        return replace(self, params=(*kept, (name, value)))

    def with_tag(self, tag: str) -> NameAddr:
        return self.with_param("tag", tag)

    def __str__(self) -> str:
        display = "" if self.display_name is None else quote(self.display_name) + " "
        return f"{display}<{self.uri}>{format_params(self.params)}"
