"""SIP requests and responses (RFC 3261 §7): parsing with limits, printing, framing on streams, §8.2 rejections."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import SipParseError
from .headers import Headers
from .reasons import reason_phrase
from .syntax import is_token
from .uri import AbsoluteUri, SipUri, Uri, parse_uri

__all__ = [
    "DEFAULT_LIMITS",
    "ESSENTIAL_HEADERS",
    "Limits",
    "Request",
    "Response",
    "SipParseError",
    "bad_request",
    "parse_message",
    "split_stream",
]

VERSION = "SIP/2.0"
# RFC 3261 §8.1.1: without these a request cannot be answered; responses carry them too.
ESSENTIAL_HEADERS = ("Via", "From", "To", "Call-ID", "CSeq")
_VERSION = re.compile(r"SIP/[0-9]+\.[0-9]+", re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    """What a parser accepts before it gives up on a message; exceeding one is a SipParseError."""

    max_message_size: int = 64 * 1024
    max_headers: int = 100
    max_line_length: int = 8 * 1024


DEFAULT_LIMITS = Limits()


@dataclass
class Request:
    """A SIP request: method, Request-URI, header fields and body."""

    method: str
    uri: Uri
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @classmethod
    def parse(cls, data: bytes, limits: Limits = DEFAULT_LIMITS) -> Request:
        message = parse_message(data, limits)
        if not isinstance(message, Request):
            raise SipParseError("Request-Line", "expected a request, got a response", 0)
        return message

    @property
    def start_line(self) -> str:
        return f"{self.method} {self.uri} {VERSION}"

    def __bytes__(self) -> bytes:
        return _serialize(self.start_line, self.headers, self.body)


@dataclass
class Response:
    """A SIP response: status code, reason phrase, header fields and body."""

    status_code: int
    reason: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @classmethod
    def parse(cls, data: bytes, limits: Limits = DEFAULT_LIMITS) -> Response:
        message = parse_message(data, limits)
        if not isinstance(message, Response):
            raise SipParseError("Status-Line", "expected a response, got a request", 0)
        return message

    @classmethod
    def for_request(
        cls, request: Request, status_code: int, reason: str | None = None, *, to_tag: str | None = None
    ) -> Response:
        """A response copying Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6), with `to_tag` if To has none."""
        headers = Headers()
        for name in ESSENTIAL_HEADERS:
            for header in request.headers.fields(name):
                value = header.value
                if name == "To" and to_tag is not None and not _has_tag(value):
                    value = f"{value};tag={to_tag}"
                headers.add(name, value)
        if status_code == 100:
            for header in request.headers.fields("Timestamp"):  # §8.2.6.1
                headers.add(header.name, header.value)
        return cls(status_code, reason_phrase(status_code) if reason is None else reason, headers)

    @property
    def start_line(self) -> str:
        return f"{VERSION} {self.status_code} {self.reason}"

    def __bytes__(self) -> bytes:
        return _serialize(self.start_line, self.headers, self.body)


def _has_tag(to: str) -> bool:
    from .uri import NameAddr

    try:
        return NameAddr.parse(to).has_param("tag")
    except SipParseError:
        return ";tag=" in to.lower()


def _serialize(start_line: str, headers: Headers, body: bytes) -> bytes:
    # Content-Length always tells the body's size (RFC 3261 §18.3, mandatory on streams); one that already does
    # is printed as it came.
    headers = headers.copy()
    try:
        declared = headers.content_length
    except SipParseError:
        declared = None
    if declared != len(body):
        headers.set("Content-Length", str(len(body)))
    lines = [start_line, *headers.lines(), "", ""]
    return "\r\n".join(lines).encode("utf-8", "surrogateescape") + body


def parse_message(data: bytes, limits: Limits = DEFAULT_LIMITS, *, stream: bool = False) -> Request | Response:
    """Parses one message; with `stream` False (a datagram) a missing Content-Length means the rest is the body.

    Checks the start line, the headers every message must carry (Via, From, To, Call-ID, CSeq), and the syntax of
    the fields this stack types (Max-Forwards, Content-Length, Content-Type, Expires, Contact, Route,
    Record-Route, Date). Other fields are kept as text. Raises SipParseError.
    """
    message, body_offset = _read_head(data, limits)
    headers = message.headers
    for name in ESSENTIAL_HEADERS:
        if name not in headers:
            raise SipParseError(name, "missing", body_offset)
    if not headers.via:
        raise SipParseError("Via", "missing", body_offset)
    headers.from_, headers.to, headers.call_id  # noqa: B018 - parsed for their errors
    cseq = headers.cseq
    if isinstance(message, Request) and cseq is not None and cseq.method != message.method:
        raise SipParseError(
            "CSeq", f"method {cseq.method} does not match {message.method}", headers.fields("CSeq")[0].offset
        )
    headers.max_forwards, headers.content_type, headers.expires, headers.date  # noqa: B018
    headers.contact, headers.route, headers.record_route  # noqa: B018
    declared = headers.content_length
    available = len(data) - body_offset
    if declared is None:
        if stream:
            raise SipParseError("Content-Length", "missing on a stream", body_offset)
        message.body = data[body_offset:]
    elif declared > available:
        offset = headers.fields("Content-Length")[0].offset
        raise SipParseError(
            "Content-Length", f"{declared} is more than the {available} bytes after the headers", offset
        )
    else:
        # §18.3: octets after the declared body in a datagram are discarded (RFC 4475 §3.1.1.8 dblreq).
        message.body = data[body_offset : body_offset + declared]
    return message


def _head_end(data: bytes, pos: int) -> int | None:
    """The offset of the body: after the first empty line (CRLF, or a bare LF from lax peers)."""
    while True:
        newline = data.find(b"\n", pos)
        if newline < 0:
            return None
        if newline == pos or (newline == pos + 1 and data[pos] == 0x0D):
            return newline + 1
        pos = newline + 1


def _skip_crlf(data: bytes, pos: int) -> int:
    # RFC 3261 §7.5 (CRLF before the start line) and RFC 5626 §4.4.1 (CRLF keep-alives on streams).
    while data.startswith(b"\r\n", pos) or data.startswith(b"\n", pos):
        pos += 2 if data[pos] == 0x0D else 1
    return pos


def _read_head(data: bytes, limits: Limits, *, lenient: bool = False) -> tuple[Request | Response, int]:
    """The start line and header fields, unfolded, with their syntax checked; the body is left empty.

    `lenient` accepts a request line whose method is readable but whose Request-URI or version is not, so that
    `bad_request` can answer it.
    """
    if len(data) > limits.max_message_size:
        raise SipParseError("message", f"larger than {limits.max_message_size} bytes", limits.max_message_size, 513)
    start = _skip_crlf(data, 0)
    body_offset = _head_end(data, start)
    if body_offset is None or body_offset == start + (2 if data.startswith(b"\r", start) else 1):
        raise SipParseError("message", "no start line, or no empty line after the headers", len(data))
    lines: list[tuple[str, int]] = []
    pos = start
    while pos < body_offset:
        newline = data.index(b"\n", pos)
        raw = data[pos : newline - 1 if data[newline - 1 : newline] == b"\r" else newline]
        if len(raw) > limits.max_line_length:
            raise SipParseError("line", f"longer than {limits.max_line_length} bytes", pos)
        if b"\r" in raw:
            raise SipParseError("line", "CR not followed by LF", pos + raw.index(b"\r"))
        try:
            lines.append((raw.decode("utf-8"), pos))
        except UnicodeDecodeError as exc:
            raise SipParseError("line", "not UTF-8", pos + exc.start) from None
        pos = newline + 1
    lines.pop()  # the empty line
    try:
        message = _parse_start_line(*lines[0])
    except SipParseError as exc:
        parts = lines[0][0].split(" ")
        if not lenient or exc.field not in ("Request-URI", "SIP-Version") or len(parts) != 3 or not is_token(parts[0]):
            raise
        message = Request(parts[0], AbsoluteUri("unreadable", parts[1] or "-"))
    folded: list[tuple[str, int]] = []
    for text, offset in lines[1:]:
        if text[0] in " \t":
            if not folded:
                raise SipParseError("line", "continuation line before any header", offset)
            previous, at = folded[-1]
            folded[-1] = (previous.rstrip(" \t") + " " + text.lstrip(" \t"), at)
        else:
            folded.append((text, offset))
    if len(folded) > limits.max_headers:
        raise SipParseError("headers", f"more than {limits.max_headers} header fields", folded[limits.max_headers][1])
    for text, offset in folded:
        name, colon, value = text.partition(":")
        name = name.rstrip(" \t")  # HCOLON = *( SP / HTAB ) ":" SWS
        if not colon or not is_token(name):
            raise SipParseError("line", "expected a header field name and a colon", offset)
        value_at = len(text) - len(value.lstrip(" \t"))
        message.headers.add(name, value, offset + len(text[:value_at].encode()))
    return message, body_offset


def _parse_start_line(line: str, offset: int) -> Request | Response:
    if line[:4].upper() == "SIP/":
        version, _, rest = line.partition(" ")
        _check_version(version, "Status-Line", offset)
        code, _, reason = rest.partition(" ")
        if len(code) != 3 or not code.isascii() or not code.isdigit() or code[0] not in "123456":
            raise SipParseError("Status-Code", f"bad status code {code!r}", offset + len(version) + 1)
        if any((ord(c) < 0x20 and c != "\t") or c == "\x7f" for c in reason):
            raise SipParseError("Reason-Phrase", "control character", offset + len(version) + 5)
        return Response(int(code), reason)
    parts = line.split(" ")
    if len(parts) != 3 or not all(parts):
        raise SipParseError("Request-Line", "expected Method SP Request-URI SP SIP-Version", offset)
    method, uri_text, version = parts
    if not is_token(method):
        raise SipParseError("Method", "not a token", offset)
    _check_version(version, "Request-Line", offset + len(method) + len(uri_text) + 2)
    uri = parse_uri(uri_text, "Request-URI", offset + len(method) + 1)
    if isinstance(uri, SipUri) and uri.headers:
        # RFC 3261 §19.1.1 table 1: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11 escruri).
        raise SipParseError("Request-URI", "URI headers are not allowed here", offset + len(method) + 1)
    return Request(method, uri)


def _check_version(version: str, field: str, offset: int) -> None:
    if version.upper() == VERSION:
        return
    if _VERSION.fullmatch(version):
        raise SipParseError("SIP-Version", f"{version} is not supported", offset, 505)
    raise SipParseError(field, f"bad SIP-Version {version!r}", offset)


def split_stream(buffer: bytes, limits: Limits = DEFAULT_LIMITS) -> tuple[list[bytes], bytes]:
    """Cuts the complete messages off a TCP/TLS byte stream, framed by Content-Length (RFC 3261 §18.3).

    Returns them and the bytes still waiting for the rest of a message. CRLF keep-alives between messages are
    dropped. Raises SipParseError when the stream cannot be framed (missing Content-Length, limits exceeded):
    the connection should then be closed, since nothing after it can be trusted.
    """
    messages: list[bytes] = []
    pos = 0
    while True:
        pos = _skip_crlf(buffer, pos)
        if buffer.endswith(b"\r") and pos == len(buffer) - 1:
            break
        body_offset = _head_end(buffer, pos)
        if body_offset is None:
            if len(buffer) - pos > limits.max_message_size:
                raise SipParseError("message", f"no end of headers in {limits.max_message_size} bytes", pos, 513)
            break
        head, _ = _read_head_at(buffer[pos:body_offset], limits, pos)
        declared = head.headers.content_length
        if declared is None:
            raise SipParseError("Content-Length", "missing on a stream", body_offset)
        end = body_offset + declared
        if end - pos > limits.max_message_size:
            raise SipParseError("message", f"larger than {limits.max_message_size} bytes", pos, 513)
        if end > len(buffer):
            break
        messages.append(buffer[pos:end])
        pos = end
    return messages, buffer[pos:]


def _read_head_at(head: bytes, limits: Limits, base: int) -> tuple[Request | Response, int]:
    try:
        return _read_head(head, limits)
    except SipParseError as exc:
        raise exc.relocated(base) from None


def bad_request(data: bytes, error: SipParseError, *, to_tag: str) -> Response | None:
    """The response to a request that failed to parse (RFC 3261 §8.2), or None when it must be dropped.

    A response is possible when the start line is a request other than ACK and Via, From, To, Call-ID and
    CSeq can be read (Via parsed, to route the response; the others once each, copied as they came). The status
    is the error's (400 with `Bad <field>`, 505, 513).
    """
    roomy = Limits(max(len(data), 1), max(len(data), 1), max(len(data), 1))
    try:
        request, _ = _read_head(data, roomy, lenient=True)
        if not isinstance(request, Request) or request.method == "ACK" or not request.headers.via:
            return None
    except SipParseError:
        return None
    if any(len(request.headers.fields(name)) != 1 for name in ESSENTIAL_HEADERS[1:]):
        return None
    reason = f"Bad {error.field}" if error.status_code == 400 and error.field else None
    return Response.for_request(request, error.status_code, reason, to_tag=to_tag)
