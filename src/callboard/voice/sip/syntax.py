"""Lexical rules shared by URIs and header fields (RFC 3261 §25.1): tokens, quoted strings, escapes, lists."""

from __future__ import annotations

import string
from urllib.parse import quote_from_bytes, unquote_to_bytes

from .errors import SipParseError

ALPHANUM = string.ascii_letters + string.digits
# token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
TOKEN_CHARS = frozenset(ALPHANUM + "-.!%*_+`'~")
WS = " \t"
HEX = frozenset(string.hexdigits)

Params = tuple[tuple[str, str | None], ...]


def is_token(text: str) -> bool:
    return bool(text) and all(c in TOKEN_CHARS for c in text)


def skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in WS:
        pos += 1
    return pos


def read_token(text: str, pos: int) -> tuple[str, int]:
    end = pos
    while end < len(text) and text[end] in TOKEN_CHARS:
        end += 1
    return text[pos:end], end


def read_quoted(text: str, pos: int, field: str, base: int = 0) -> tuple[str, int]:
    """Reads the quoted-string starting at `pos`; returns its unescaped content and the position after it."""
    assert text[pos] == '"'
    out: list[str] = []
    i = pos + 1
    while i < len(text):
        c = text[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\":
            # quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
            if i + 1 >= len(text) or ord(text[i + 1]) > 0x7F or text[i + 1] in "\r\n":
                raise SipParseError(field, "bad quoted-pair", base + i)
            out.append(text[i + 1])
            i += 2
            continue
        if (ord(c) < 0x20 and c != "\t") or c == "\x7f":
            raise SipParseError(field, "control character in quoted string", base + i)
        out.append(c)
        i += 1
    raise SipParseError(field, "unterminated quoted string", base + pos)


def quote(text: str) -> str:
    """The quoted-string for `text`, escaping what qdtext does not allow."""
    out = ['"']
    for c in text:
        if c in "\r\n":
            raise ValueError("a quoted string cannot hold CR or LF")
        if c in '"\\' or (ord(c) < 0x20 and c != "\t") or c == "\x7f":
            out.append("\\")
        out.append(c)
    out.append('"')
    return "".join(out)


def unquote_value(value: str) -> str:
    """A parameter value as meant: quoted strings unescaped, tokens as they are."""
    if value.startswith('"'):
        return read_quoted(value, 0, "")[0]
    return value


def split_list(text: str, field: str, base: int = 0) -> list[tuple[str, int]]:
    """Splits a comma-separated header value, ignoring commas in quoted strings and in <...>; items keep offsets.

    Items are stripped; empty items are kept, so that the caller can reject them where the grammar has no room.
    """
    items: list[tuple[str, int]] = []
    start = 0
    i = 0
    in_angle = False
    while i < len(text):
        c = text[i]
        if c == '"':
            i = read_quoted(text, i, field, base)[1]
            continue
        if c == "<":
            in_angle = True
        elif c == ">":
            in_angle = False
        elif c == "," and not in_angle:
            items.append(_stripped(text, start, i))
            start = i + 1
        i += 1
    items.append(_stripped(text, start, len(text)))
    return items


def _stripped(text: str, start: int, end: int) -> tuple[str, int]:
    while start < end and text[start] in WS:
        start += 1
    while end > start and text[end - 1] in WS:
        end -= 1
    return text[start:end], start


def read_params(text: str, pos: int, field: str, base: int = 0) -> tuple[Params, int]:
    """Reads `*( SEMI generic-param )` from `pos`; values keep their quotes so that they print back unchanged."""
    params: list[tuple[str, str | None]] = []
    while True:
        pos = skip_ws(text, pos)
        if pos >= len(text) or text[pos] != ";":
            return tuple(params), pos
        pos = skip_ws(text, pos + 1)
        name, end = read_token(text, pos)
        if not name:
            raise SipParseError(field, "empty parameter", base + pos)
        pos = skip_ws(text, end)
        value: str | None = None
        if pos < len(text) and text[pos] == "=":
            pos = skip_ws(text, pos + 1)
            if pos < len(text) and text[pos] == '"':
                end = read_quoted(text, pos, field, base)[1]
            else:
                end = pos
                # gen-value = token / host / quoted-string; a host may be an IPv6 reference
                while end < len(text) and (text[end] in TOKEN_CHARS or text[end] in "[]:"):
                    end += 1
                if end == pos:
                    raise SipParseError(field, f"missing value of parameter {name}", base + pos)
            value = text[pos:end]
            pos = end
        params.append((name, value))


def format_params(params: Params) -> str:
    return "".join(f";{name}" if value is None else f";{name}={value}" for name, value in params)


def find_param(params: Params, name: str) -> tuple[bool, str | None]:
    """Whether the (case-insensitive) parameter is there, and its value."""
    lowered = name.lower()
    for key, value in params:
        if key.lower() == lowered:
            return True, value
    return False, None


def check_chars(text: str, allowed: frozenset[str], field: str, base: int, what: str) -> None:
    """Checks that `text` holds only `allowed` characters and well-formed %HH escapes."""
    for i, c in enumerate(text):
        if c == "%":
            pair = text[i + 1 : i + 3]
            if len(pair) != 2 or not set(pair) <= HEX:
                raise SipParseError(field, f"bad escape in {what}", base + i)
        elif c not in allowed:
            raise SipParseError(field, f"invalid character {c!r} in {what}", base + i)


def unescape(text: str) -> str:
    """Percent-decodes checked text; octets that are not UTF-8 survive as surrogates and print back the same."""
    if "%" not in text:
        return text
    return unquote_to_bytes(text).decode("utf-8", "surrogateescape")


def escape(text: str, allowed: frozenset[str]) -> str:
    """Percent-encodes every character of `text` outside `allowed`."""
    if all(c in allowed for c in text):
        return text
    return quote_from_bytes(text.encode("utf-8", "surrogateescape"), safe="".join(sorted(allowed)))
