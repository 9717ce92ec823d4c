"""The header section of a SIP message: ordered fields, case-insensitive names, compact forms, typed accessors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import NamedTuple, TypeVar, cast

from .errors import SipParseError
from .fields import MAX_DELTA_SECONDS, Challenge, ContentType, Credentials, CSeq, Via, parse_date, parse_number
from .syntax import is_token, split_list
from .uri import NameAddr

T = TypeVar("T")


def _words(text: str) -> list[str]:
    return text.split()


# RFC 3261 §7.3.3 and §20, RFC 3265 (o, u), RFC 3515 (r), RFC 3892 (b), RFC 4028 (x)
COMPACT_FORMS = {
    "i": "Call-ID",
    "m": "Contact",
    "e": "Content-Encoding",
    "l": "Content-Length",
    "c": "Content-Type",
    "f": "From",
    "s": "Subject",
    "k": "Supported",
    "t": "To",
    "v": "Via",
    "o": "Event",
    "r": "Refer-To",
    "b": "Referred-By",
    "x": "Session-Expires",
    "u": "Allow-Events",
}

_KNOWN_NAMES = _words("""
Accept Accept-Encoding Accept-Language Alert-Info Allow Allow-Events Authentication-Info Authorization
Call-ID Call-Info Contact Content-Disposition Content-Encoding Content-Language Content-Length Content-Type CSeq Date
Error-Info Event Expires From In-Reply-To Max-Forwards Min-Expires Min-SE MIME-Version Organization Path Priority
Proxy-Authenticate Proxy-Authorization Proxy-Require RAck Reason Record-Route Refer-To Referred-By Reply-To Require
Retry-After Route RSeq Server Service-Route Session-Expires Subject Subscription-State Supported Timestamp To
Unsupported User-Agent Via Warning WWW-Authenticate""")
CANONICAL_NAMES = {name.lower(): name for name in _KNOWN_NAMES}

# Headers whose grammar is `#element`: several lines may be combined into one with commas, and split back.
COMMA_LIST_HEADERS = frozenset(
    _words("""Accept Accept-Encoding Accept-Language Alert-Info Allow Allow-Events Call-Info Contact Content-Encoding
    Content-Language Error-Info In-Reply-To Path Proxy-Require Reason Record-Route Require Route Service-Route
    Supported Unsupported Via Warning""")
)
# RFC 3261 §7.3.1: these carry commas inside one value and are never split (nor combined); neither is any header
# not listed above, from Date and the single-valued fields to the ones this stack does not know.
NON_SPLITTING_HEADERS = frozenset(
    _words("WWW-Authenticate Authorization Proxy-Authenticate Proxy-Authorization Date Retry-After Subject")
)
SINGLE_VALUE_HEADERS = frozenset(
    _words("Call-ID CSeq From To Max-Forwards Content-Length Content-Type Expires Date Min-Expires MIME-Version")
)


def canonical_name(name: str) -> str:
    """`v` -> `Via`, `call-id` -> `Call-ID`; a name this stack does not know keeps its spelling."""
    lowered = name.lower()
    if lowered in COMPACT_FORMS:
        return COMPACT_FORMS[lowered]
    return CANONICAL_NAMES.get(lowered, name)


class Header(NamedTuple):
    """One header field line, unfolded; `offset` is where its value started in the parsed message."""

    name: str
    value: str
    offset: int = 0

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"


# How `Headers` keeps a field: (lower-case name, canonical name, value, offset). A plain tuple of strings and an
# int, which the garbage collector stops tracking after its first collection: a node keeps thousands of messages
# (in transactions waiting out 64*T1), and every tracked object lengthens a full collection.
_Field = tuple[str, str, str, int]


class Headers:
    """Header fields in their order, looked up by any spelling of their name."""

    def __init__(self, fields: Iterable[tuple[str, str] | Header] = ()) -> None:
        self._fields: list[_Field] = []
        # Typed values parsed once (they are frozen), by header name (each name has one parser): a call reads its
        # Via, From and CSeq many times. Every change of the fields empties it.
        self._parsed: dict[str, object] = {}
        for item in fields:
            if isinstance(item, Header):
                self.add(item.name, item.value, item.offset)
            else:
                self.add(*item)

    def add(self, name: str, value: str, offset: int = 0) -> None:
        if not is_token(name):
            raise ValueError(f"bad header name {name!r}")
        if "\r" in value or "\n" in value:
            raise ValueError(f"header {name} value holds CR or LF")
        canonical = canonical_name(name)
        self._fields.append((canonical.lower(), canonical, value.strip(" \t"), offset))
        self._parsed.clear()

    def set(self, name: str, value: str) -> None:
        """Replaces every field of this name by one, where the first was (or at the end)."""
        key = canonical_name(name).lower()
        at = next((i for i, f in enumerate(self._fields) if f[0] == key), len(self._fields))
        self.remove(name)
        self.add(name, value)
        self._fields.insert(at, self._fields.pop())
        self._parsed.clear()

    def remove(self, name: str) -> None:
        key = canonical_name(name).lower()
        self._fields = [f for f in self._fields if f[0] != key]
        self._parsed.clear()

    def fields(self, name: str) -> list[Header]:
        key = canonical_name(name).lower()
        return [Header(n, v, o) for k, n, v, o in self._fields if k == key]

    def get(self, name: str) -> str | None:
        key = canonical_name(name).lower()
        return next((v for k, _, v, _ in self._fields if k == key), None)

    def get_all(self, name: str) -> list[str]:
        """Every value of the header, comma-separated lists split for the headers whose grammar is a list."""
        return [value for value, _ in self._items(name)]

    def _items(self, name: str) -> list[tuple[str, int]]:
        found = self.fields(name)
        if not found or found[0].name not in COMMA_LIST_HEADERS:
            return [(h.value, h.offset) for h in found]
        items: list[tuple[str, int]] = []
        for h in found:
            items += [(value, h.offset + at) for value, at in split_list(h.value, h.name, h.offset)]
        return items

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = canonical_name(name).lower()
        return any(f[0] == key for f in self._fields)

    def __iter__(self) -> Iterator[Header]:
        return (Header(n, v, o) for _, n, v, o in self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def lines(self) -> list[str]:
        """The fields as `Name: value` lines, in order."""
        return [f"{n}: {v}" for _, n, v, _ in self._fields]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return [(f[0], f[2]) for f in self._fields] == [(f[0], f[2]) for f in other._fields]

    def __repr__(self) -> str:
        return f"Headers({[(h.name, h.value) for h in self]!r})"

    def forget_parsed(self) -> None:
        """Drops the typed values parsed so far (they are parsed again if read): for a message kept only in case
        it is retransmitted, whose parsed From, To and Via would otherwise be kept with it."""
        self._parsed = {}

    def copy(self) -> Headers:
        copy = Headers()
        copy._fields = list(self._fields)
        copy._parsed = dict(self._parsed)  # the parsed values are frozen: the copy may share them
        return copy

    # Typed accessors: each raises SipParseError (with the header's name and offset) on a malformed value.

    def _one(self, name: str, parse: Callable[[str, str, int], T]) -> T | None:
        if name in self._parsed:
            return self._parsed[name]  # type: ignore[return-value]
        value = self._parse_one(name, parse)
        self._parsed[name] = value
        return value

    def _parse_one(self, name: str, parse: Callable[[str, str, int], T]) -> T | None:
        found = self.fields(name)
        if not found:
            return None
        if len(found) > 1 and found[0].name in SINGLE_VALUE_HEADERS:
            raise SipParseError(found[0].name, "more than one value", found[1].offset)
        header = found[0]
        return parse(header.value, header.name, header.offset)

    def _list(self, name: str, parse: Callable[[str, str, int], T]) -> list[T]:
        cached = self._parsed.get(name)
        if cached is None:
            cached = self._parsed[name] = tuple(self._parse_list(name, parse))
        return list(cast("tuple[T, ...]", cached))  # a copy: the caller may change its list

    def _parse_list(self, name: str, parse: Callable[[str, str, int], T]) -> list[T]:
        values: list[T] = []
        for value, offset in self._items(name):
            if not value:
                raise SipParseError(canonical_name(name), "empty list element", offset)
            values.append(parse(value, canonical_name(name), offset))
        return values

    @property
    def via(self) -> list[Via]:
        return self._list("Via", Via.parse)

    @property
    def cseq(self) -> CSeq | None:
        return self._one("CSeq", CSeq.parse)

    @property
    def call_id(self) -> str | None:
        return self._one("Call-ID", _parse_call_id)

    @property
    def from_(self) -> NameAddr | None:
        return self._one("From", NameAddr.parse)

    @property
    def to(self) -> NameAddr | None:
        return self._one("To", NameAddr.parse)

    @property
    def contact(self) -> list[NameAddr]:
        """Contact addresses; empty for `Contact: *` (see `contact_is_wildcard`)."""
        if self.contact_is_wildcard:
            return []
        contacts = self._list("Contact", NameAddr.parse)
        for contact, (_, offset) in zip(contacts, self._items("Contact"), strict=True):
            _check_contact_params(contact, offset)
        return contacts

    @property
    def contact_is_wildcard(self) -> bool:
        """`Contact: *` of a REGISTER removing every binding (RFC 3261 §10.2.2)."""
        values = self._items("Contact")
        if any(value == "*" for value, _ in values) and len(values) > 1:
            raise SipParseError("Contact", "* must be the only contact", values[0][1])
        return len(values) == 1 and values[0][0] == "*"

    @property
    def route(self) -> list[NameAddr]:
        return self._list("Route", NameAddr.parse)

    @property
    def record_route(self) -> list[NameAddr]:
        return self._list("Record-Route", NameAddr.parse)

    @property
    def max_forwards(self) -> int | None:
        return self._one("Max-Forwards", _parse_max_forwards)

    @property
    def content_length(self) -> int | None:
        return self._one("Content-Length", _parse_content_length)

    @property
    def content_type(self) -> ContentType | None:
        return self._one("Content-Type", ContentType.parse)

    @property
    def expires(self) -> int | None:
        return self._one("Expires", parse_number)

    @property
    def date(self) -> datetime | None:
        return self._one("Date", parse_date)

    @property
    def authorization(self) -> list[Credentials]:
        return [Credentials.parse(h.value, h.name, h.offset) for h in self.fields("Authorization")]

    @property
    def proxy_authorization(self) -> list[Credentials]:
        return [Credentials.parse(h.value, h.name, h.offset) for h in self.fields("Proxy-Authorization")]

    @property
    def www_authenticate(self) -> list[Challenge]:
        return [Challenge.parse(h.value, h.name, h.offset) for h in self.fields("WWW-Authenticate")]

    @property
    def proxy_authenticate(self) -> list[Challenge]:
        return [Challenge.parse(h.value, h.name, h.offset) for h in self.fields("Proxy-Authenticate")]


# word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" / "(" / ")" / "<" / ">" / ":" /
#           "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}")
_WORD_CHARS = frozenset("-.!%*_+`'~()<>:\\\"/[]?{}")


def _parse_max_forwards(value: str, field: str, offset: int) -> int:
    return parse_number(value, field, offset, 255)


def _parse_content_length(value: str, field: str, offset: int) -> int:
    return parse_number(value, field, offset, 2**31 - 1)


def _parse_call_id(value: str, field: str, offset: int) -> str:
    """callid = word [ "@" word ] (RFC 3261 §25.1)."""
    words = value.split("@")
    if len(words) > 2 or not all(
        w and all(c.isascii() and (c.isalnum() or c in _WORD_CHARS) for c in w) for w in words
    ):
        raise SipParseError(field, "bad Call-ID", offset)
    return value


def _check_contact_params(contact: NameAddr, offset: int) -> None:
    expires = contact.param("expires")
    if expires is not None:
        parse_number(expires, "Contact", offset, MAX_DELTA_SECONDS)
    q = contact.param("q")
    if q is not None and not _is_qvalue(q):
        raise SipParseError("Contact", f"bad q value {q!r}", offset)


def _is_qvalue(text: str) -> bool:
    """qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )."""
    whole, _, fraction = text.partition(".")
    if whole not in ("0", "1") or len(fraction) > 3 or not (fraction.isdigit() or not fraction):
        return False
    return whole == "0" or set(fraction) <= {"0"}
