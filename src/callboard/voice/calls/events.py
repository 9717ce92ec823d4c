"""What a leg tells its owner (STYLE item 5): call-control events with a monotonic time, and no SIP in them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "Answered",
    "Dtmf",
    "DtmfSource",
    "FarEndHeld",
    "FarEndResumed",
    "Hangup",
    "HangupCause",
    "Held",
    "LegEvent",
    "Resumed",
    "Ringing",
    "TransferRequest",
    "digit_of_info",
]

DTMF_SYMBOLS = frozenset("0123456789*#ABCD")


class HangupCause(StrEnum):
    """Why a leg ended: the SIP layer's causes (same values) plus what the media side can end a leg for."""

    NORMAL = "normal"
    CANCELED = "canceled"
    BUSY = "busy"
    REJECTED = "rejected"
    NO_ANSWER = "no_answer"
    TIMEOUT = "timeout"
    NO_ACK = "no_ack"
    TRANSPORT_ERROR = "transport_error"
    NOT_FOUND = "not_found"  # refused: nothing here answers the number called
    MEDIA_TIMEOUT = "media_timeout"  # no RTP for the session's timeout while not on hold
    INCOMPATIBLE_MEDIA = "incompatible_media"  # no usable audio in the offer or answer


class DtmfSource(enum.Enum):
    RFC4733 = "rfc4733"  # telephone-event RTP packets
    INFO = "info"  # a SIP INFO (application/dtmf-relay or application/dtmf)


@dataclass(frozen=True, slots=True)
class Ringing:
    """The far end is alerting (outbound), or we sent ringing (inbound)."""

    at: float


@dataclass(frozen=True, slots=True)
class Answered:
    """The leg is up: media flows."""

    at: float


@dataclass(frozen=True, slots=True)
class Dtmf:
    """One digit the far end pressed."""

    at: float
    digit: str
    source: DtmfSource = DtmfSource.RFC4733


@dataclass(frozen=True, slots=True)
class Held:
    """We put the far end on hold (it hears music on hold, if any)."""

    at: float


@dataclass(frozen=True, slots=True)
class Resumed:
    """The far end is off hold again."""

    at: float


@dataclass(frozen=True, slots=True)
class FarEndHeld:
    """The far end put us on hold (a re-INVITE with sendonly or inactive): it no longer listens."""

    at: float


@dataclass(frozen=True, slots=True)
class FarEndResumed:
    """The far end took us off hold (a re-INVITE with sendrecv again)."""

    at: float


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """The far end asks us to connect it... to someone else in its place (a REFER): the owner decides, and tells
    how it goes with `leg.report_transfer(status, refer_id)`. `target` is the URI to call; `user` its user part
    (an extension, a queue, a number); `attended` when the far end wants its own call with `target` replaced."""

    at: float
    target: str
    user: str | None
    attended: bool
    refer_id: int


@dataclass(frozen=True, slots=True)
class Hangup:
    """The leg is over; `remote` when the far end (or the network) ended it."""

    at: float
    cause: HangupCause
    remote: bool = True


LegEvent = Ringing | Answered | Dtmf | Held | Resumed | FarEndHeld | FarEndResumed | TransferRequest | Hangup


def digit_of_info(body: bytes, content_type: str | None) -> str | None:
    """The digit in an INFO body: `Signal=5` lines (application/dtmf-relay) or a bare `5` (application/dtmf)."""
    kind = (content_type or "").lower()
    text = body.decode("ascii", "replace").strip()
    if kind == "application/dtmf-relay":
        for line in text.splitlines():
            name, _, value = line.partition("=")
            if name.strip().lower() == "signal":
                text = value.strip()
                break
        else:
            return None
    elif kind != "application/dtmf":
        return None
    digit = text.upper()
    return digit if len(digit) == 1 and digit in DTMF_SYMBOLS else None
