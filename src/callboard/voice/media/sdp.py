"""SDP session descriptions (RFC 8866, formerly RFC 4566): the lines a contact center's audio needs, typed,
and every other line kept verbatim in order. Offer/answer lives in `offer_answer.py`."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

# RFC 8866 §5: the order of line types in the session part and in each media part.
_SESSION_ORDER = "vosiuepcbtrzka"
_MEDIA_ORDER = "micbka"


class SdpParseError(ValueError):
    """A body that is not a valid SDP description; `line` is 1-based (0: the body as a whole)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"invalid SDP at line {line}: {message}")
        self.line = line


class Direction(enum.Enum):
    """The media direction attributes of RFC 8866 §6.7 (RFC 3264 §5.1)."""

    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"

    @property
    def sends(self) -> bool:
        return self in (Direction.SENDRECV, Direction.SENDONLY)

    @property
    def receives(self) -> bool:
        return self in (Direction.SENDRECV, Direction.RECVONLY)

    @classmethod
    def of(cls, *, sends: bool, receives: bool) -> Direction:
        if sends:
            return cls.SENDRECV if receives else cls.SENDONLY
        return cls.RECVONLY if receives else cls.INACTIVE


@dataclass(frozen=True, slots=True)
class Origin:
    """o= (RFC 8866 §5.2)."""

    username: str = "-"
    session_id: str = "0"
    session_version: int = 0
    net_type: str = "IN"
    addr_type: str = "IP4"
    address: str = "0.0.0.0"

    def __str__(self) -> str:
        return (
            f"{self.username} {self.session_id} {self.session_version} {self.net_type} {self.addr_type} {self.address}"
        )


@dataclass(frozen=True, slots=True)
class Connection:
    """c= (RFC 8866 §5.7); `address` keeps any /ttl or /count suffix."""

    address: str
    net_type: str = "IN"
    addr_type: str = "IP4"

    def __str__(self) -> str:
        return f"{self.net_type} {self.addr_type} {self.address}"

    @property
    def is_hold_address(self) -> bool:
        """RFC 2543 hold: c=0.0.0.0, still sent by old equipment (RFC 3264 §8.4 asks answerers to accept it)."""
        return self.address.split("/")[0] in ("0.0.0.0", "::")


@dataclass(frozen=True, slots=True)
class RtpMap:
    """a=rtpmap:<pt> <name>/<rate>[/<channels>] (RFC 8866 §6.6)."""

    payload_type: int
    encoding_name: str
    clock_rate: int
    channels: int | None = None

    def __str__(self) -> str:
        suffix = f"/{self.channels}" if self.channels is not None else ""
        return f"{self.payload_type} {self.encoding_name}/{self.clock_rate}{suffix}"


@dataclass(frozen=True, slots=True)
class RtcpAttribute:
    """a=rtcp:<port> [<nettype> <addrtype> <address>] (RFC 3605)."""

    port: int
    connection: Connection | None = None

    def __str__(self) -> str:
        return f"{self.port} {self.connection}" if self.connection else str(self.port)


@dataclass(slots=True)
class MediaDescription:
    """One m= section with its typed attributes; `attributes` holds the others as (name, value) in order,
    and `lines` the other line types (i=, b=, k=) as (type, value)."""

    media: str
    port: int
    protocol: str
    formats: list[str]
    port_count: int | None = None
    connection: Connection | None = None
    rtpmaps: dict[int, RtpMap] = field(default_factory=dict)
    fmtps: dict[str, str] = field(default_factory=dict)
    ptime: int | None = None
    maxptime: int | None = None
    direction: Direction | None = None
    rtcp: RtcpAttribute | None = None
    attributes: list[tuple[str, str | None]] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)

    @property
    def payload_types(self) -> list[int]:
        return [int(f) for f in self.formats if f.isdigit()]

    def rtpmap(self, payload_type: int) -> RtpMap | None:
        """The payload's rtpmap, or its RFC 3551 static assignment when none is given."""
        return self.rtpmaps.get(payload_type) or STATIC_PAYLOAD_TYPES.get(payload_type)

    def to_lines(self) -> list[str]:
        port = f"{self.port}/{self.port_count}" if self.port_count is not None else str(self.port)
        typed: list[tuple[str, str]] = [("c", str(self.connection))] if self.connection else []
        attrs: list[str] = []
        for fmt in self.formats:
            rtpmap = self.rtpmaps.get(int(fmt)) if fmt.isdigit() else None
            if rtpmap is not None:
                attrs.append(f"rtpmap:{rtpmap}")
            if fmt in self.fmtps:
                attrs.append(f"fmtp:{fmt} {self.fmtps[fmt]}")
        attrs += [f"ptime:{self.ptime}"] if self.ptime is not None else []
        attrs += [f"maxptime:{self.maxptime}"] if self.maxptime is not None else []
        attrs += [f"rtcp:{self.rtcp}"] if self.rtcp is not None else []
        attrs += [name if value is None else f"{name}:{value}" for name, value in self.attributes]
        attrs += [self.direction.value] if self.direction is not None else []
        ordered = sorted(typed + self.lines, key=lambda line: _MEDIA_ORDER.index(line[0]))
        head = f"m={self.media} {port} {self.protocol} {' '.join(self.formats)}".rstrip()
        return [head, *(f"{t}={v}" for t, v in ordered), *(f"a={a}" for a in attrs)]


@dataclass(slots=True)
class SessionDescription:
    """A whole SDP body: `parse()` from bytes or text, `__bytes__`/`__str__` with CRLF line ends."""

    origin: Origin = field(default_factory=Origin)
    session_name: str = "-"
    connection: Connection | None = None
    timing: tuple[int, int] = (0, 0)
    direction: Direction | None = None
    attributes: list[tuple[str, str | None]] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)
    media: list[MediaDescription] = field(default_factory=list)

    def media_direction(self, media: MediaDescription) -> Direction:
        """The direction in force for `media`: its own attribute, else the session's, else sendrecv."""
        return media.direction or self.direction or Direction.SENDRECV

    def media_connection(self, media: MediaDescription) -> Connection | None:
        return media.connection or self.connection

    def __str__(self) -> str:
        typed = [("o", str(self.origin)), ("s", self.session_name), ("t", f"{self.timing[0]} {self.timing[1]}")]
        if self.connection is not None:
            typed.append(("c", str(self.connection)))
        ordered = sorted(typed + self.lines, key=lambda line: _SESSION_ORDER.index(line[0]))
        out = ["v=0", *(f"{t}={v}" for t, v in ordered)]
        out += [f"a={n}" if v is None else f"a={n}:{v}" for n, v in self.attributes]
        out += [f"a={self.direction.value}"] if self.direction is not None else []
        for media in self.media:
            out += media.to_lines()
        return "\r\n".join(out) + "\r\n"

    def __bytes__(self) -> bytes:
        return str(self).encode()

    @classmethod
    def parse(cls, data: bytes | str) -> SessionDescription:
        """Parse a body; CRLF or bare LF line ends and blank lines are tolerated (RFC 8866 §5 robustness)."""
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SdpParseError(0, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
        return _Parser(data).run()


STATIC_PAYLOAD_TYPES = {
    0: RtpMap(0, "PCMU", 8000),
    3: RtpMap(3, "GSM", 8000),
    4: RtpMap(4, "G723", 8000),
    8: RtpMap(8, "PCMA", 8000),
    9: RtpMap(9, "G722", 8000),
    18: RtpMap(18, "G729", 8000),
}  # RFC 3551 §6, the audio types still seen on trunks


class _Parser:
    def __init__(self, text: str) -> None:
        self.lines = [(n, line.rstrip("\r")) for n, line in enumerate(text.split("\n"), 1) if line.strip()]
        self.number = 0

    def fail(self, message: str) -> SdpParseError:
        return SdpParseError(self.number, message)

    def run(self) -> SessionDescription:
        if not self.lines:
            raise SdpParseError(0, "empty body")
        session = SessionDescription()
        seen: set[str] = set()
        current: MediaDescription | None = None
        for number, line in self.lines:
            self.number = number
            if len(line) < 2 or line[1] != "=" or not ("a" <= line[0] <= "z"):
                raise self.fail(f"expected '<type>=<value>', got {line[:40]!r}")
            kind, value = line[0], line[2:]
            if not seen and kind != "v":
                raise self.fail("the first line must be v=")
            if kind == "m":
                current = self.media(value)
                session.media.append(current)
            elif current is not None:
                self.media_line(current, kind, value)
            else:
                self.session_line(session, kind, value, seen)
            seen.add(kind)
        for required in "os":
            if required not in seen:
                raise SdpParseError(0, f"missing {required}= line")
        return session

    def session_line(self, session: SessionDescription, kind: str, value: str, seen: set[str]) -> None:
        if kind == "v":
            if value != "0" or seen:
                raise self.fail(f"expected v=0 as the first line, got v={value}")
        elif kind == "o":
            parts = value.split()
            if len(parts) != 6 or not parts[2].isdigit():
                raise self.fail(f"o= needs 6 fields with a numeric version, got {value!r}")
            session.origin = Origin(parts[0], parts[1], int(parts[2]), parts[3], parts[4], parts[5])
        elif kind == "s":
            session.session_name = value
        elif kind == "c":
            session.connection = self.connection(value)
        elif kind == "t" and "t" not in seen:
            start, _, stop = value.partition(" ")
            if not start.isdigit() or not stop.isdigit():
                raise self.fail(f"t= needs two integers, got {value!r}")
            session.timing = (int(start), int(stop))
        elif kind == "a":
            name, direction = self.attribute(value)
            if direction is not None:
                session.direction = direction
            else:
                session.attributes.append(name)
        elif kind in _SESSION_ORDER:
            session.lines.append((kind, value))
        else:
            raise self.fail(f"{kind}= is not a session-level line")

    def media(self, value: str) -> MediaDescription:
        parts = value.split()
        if len(parts) < 3:
            raise self.fail(f"m= needs media, port, protocol and formats, got {value!r}")
        port_text, _, count_text = parts[1].partition("/")
        if not port_text.isdigit() or int(port_text) > 0xFFFF or (count_text and not count_text.isdigit()):
            raise self.fail(f"invalid m= port {parts[1]!r}")
        formats = parts[3:]
        if "RTP/" in parts[2] and not all(f.isdigit() and int(f) <= 127 for f in formats):
            raise self.fail(f"RTP payload types must be 0-127, got {' '.join(formats)!r}")
        count = int(count_text) if count_text else None
        return MediaDescription(parts[0], int(port_text), parts[2], formats, port_count=count)

    def media_line(self, media: MediaDescription, kind: str, value: str) -> None:
        if kind == "c":
            media.connection = self.connection(value)
        elif kind == "a":
            name, direction = self.attribute(value)
            if direction is not None:
                media.direction = direction
            elif not self.media_attribute(media, *name):
                media.attributes.append(name)
        elif kind in _MEDIA_ORDER:
            media.lines.append((kind, value))
        else:
            raise self.fail(f"{kind}= is not a media-level line")

    def media_attribute(self, media: MediaDescription, name: str, value: str | None) -> bool:
        """Fill a typed attribute; False for one kept verbatim."""
        if value is None:
            return False
        if name == "rtpmap":
            pt, _, encoding = value.partition(" ")
            fields = encoding.strip().split("/")
            if not pt.isdigit() or int(pt) > 127 or len(fields) not in (2, 3) or not fields[0]:
                raise self.fail(f"rtpmap must be '<pt> <name>/<rate>[/<channels>]', got {value!r}")
            if not all(f.isdigit() for f in fields[1:]):
                raise self.fail(f"rtpmap clock rate and channels must be integers, got {value!r}")
            channels = int(fields[2]) if len(fields) == 3 else None
            media.rtpmaps[int(pt)] = RtpMap(int(pt), fields[0], int(fields[1]), channels)
        elif name == "fmtp":
            fmt, _, params = value.partition(" ")
            if not fmt:
                raise self.fail(f"fmtp must be '<format> <parameters>', got {value!r}")
            media.fmtps[fmt] = params.strip()
        elif name in ("ptime", "maxptime"):
            if not value.isdigit():
                raise self.fail(f"{name} must be an integer number of milliseconds, got {value!r}")
            setattr(media, name, int(value))
        elif name == "rtcp":
            parts = value.split()
            if not parts or not parts[0].isdigit() or int(parts[0]) > 0xFFFF or len(parts) not in (1, 4):
                raise self.fail(f"rtcp must be '<port> [<nettype> <addrtype> <address>]', got {value!r}")
            connection = Connection(parts[3], parts[1], parts[2]) if len(parts) == 4 else None
            media.rtcp = RtcpAttribute(int(parts[0]), connection)
        else:
            return False
        return True

    def attribute(self, value: str) -> tuple[tuple[str, str | None], Direction | None]:
        name, colon, rest = value.partition(":")
        if not name:
            raise self.fail("empty attribute name")
        if not colon:
            try:
                return (name, None), Direction(name)
            except ValueError:
                return (name, None), None
        return (name, rest), None

    def connection(self, value: str) -> Connection:
        parts = value.split()
        if len(parts) != 3:
            raise self.fail(f"c= needs '<nettype> <addrtype> <address>', got {value!r}")
        return Connection(parts[2], parts[0], parts[1])
