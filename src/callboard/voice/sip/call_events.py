"""Call-control events a SIP call reports to its owner (STYLE item 5): no SIP above this line, only what happened.

SDP travels as opaque bytes; the media layer's offer/answer interprets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .invite_session import InviteSession

__all__ = [
    "Answered",
    "CallEvent",
    "CallListener",
    "EarlyMedia",
    "Hangup",
    "HangupCause",
    "Info",
    "OfferAnswered",
    "OfferRejected",
    "RemoteOffer",
    "Ringing",
    "cause_of_status",
]


class HangupCause(StrEnum):
    """Why a call ended, in call-control words."""

    NORMAL = "normal"  # a BYE, from either side
    CANCELED = "canceled"  # the caller gave up before the answer
    BUSY = "busy"
    REJECTED = "rejected"
    NO_ANSWER = "no_answer"
    TIMEOUT = "timeout"  # no response at all (timer B or F)
    NO_ACK = "no_ack"  # a 2xx never acknowledged (§13.3.1.4)
    TRANSPORT_ERROR = "transport_error"


@dataclass(frozen=True)
class Ringing:
    """The far end is alerting (a 180)."""

    at: float


@dataclass(frozen=True)
class EarlyMedia:
    """The far end sends media before the answer (a 183 with SDP)."""

    at: float
    sdp: bytes


@dataclass(frozen=True)
class Answered:
    """The call is up: for a caller, the answer's SDP; for the callee, its answer was acknowledged (any ACK body)."""

    at: float
    sdp: bytes = b""


@dataclass(frozen=True)
class Hangup:
    """The call is over; `status_code` is the SIP final response behind it, when there was one."""

    at: float
    cause: HangupCause
    remote: bool = True
    status_code: int | None = None


@dataclass(frozen=True)
class RemoteOffer:
    """The far end offers a new session description (hold, unhold...); answer with `accept_offer`/`reject_offer`."""

    at: float
    sdp: bytes


@dataclass(frozen=True)
class OfferAnswered:
    """Our new offer (`reinvite`) was accepted with this answer."""

    at: float
    sdp: bytes


@dataclass(frozen=True)
class OfferRejected:
    """Our new offer was refused; the previous session description stays."""

    at: float
    status_code: int


@dataclass(frozen=True)
class Info:
    """Application data inside the call (an INFO: DTMF relay, call data...)."""

    at: float
    body: bytes
    content_type: str | None


CallEvent = Ringing | EarlyMedia | Answered | Hangup | RemoteOffer | OfferAnswered | OfferRejected | Info


class CallListener(Protocol):
    """The owner of a call (a leg, the B2BUA): hears everything that happens to it."""

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None: ...


def cause_of_status(status_code: int) -> HangupCause:
    """The call-control cause of a final non-2xx response to an INVITE."""
    if status_code in (486, 600):
        return HangupCause.BUSY
    if status_code == 487:
        return HangupCause.CANCELED
    if status_code in (408, 480):
        return HangupCause.NO_ANSWER
    return HangupCause.REJECTED
