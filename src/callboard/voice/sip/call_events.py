"""Call-control events a SIP call reports to its owner (STYLE item 5): no SIP above this line, only what happened.

SDP travels as opaque bytes; the media layer's offer/answer interprets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from .refer import ReplacesTarget
from .uri import NameAddr, Uri

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
    "TransferProgress",
    "TransferRequested",
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


@dataclass(frozen=True)
class TransferRequested:
    """The far end asks us to call `refer_to` in its place (a REFER, RFC 3515): a blind transfer, or an attended
    one when `replaces` names the call the new one is to replace at its end (RFC 3891; `UserAgent.find_replaced`
    tells whether that call is one of ours).

    The owner reports how the new call goes with `call.report_transfer(status_code)`: 180 while it rings, 200 once
    answered, the failure's status otherwise; each report reaches the far end as a NOTIFY.
    """

    at: float
    refer_to: Uri
    replaces: ReplacesTarget | None = None
    referred_by: NameAddr | None = None
    refer_id: int = 0


@dataclass(frozen=True)
class TransferProgress:
    """How a transfer we asked for (`call.transfer`) goes: the status of the far end's call to the target (from its
    NOTIFY), or the refusal of the request itself (408 when it went unanswered). `final` once nothing more comes."""

    at: float
    status_code: int
    final: bool
    refer_id: int = 0


CallEvent = (
    Ringing
    | EarlyMedia
    | Answered
    | Hangup
    | RemoteOffer
    | OfferAnswered
    | OfferRejected
    | Info
    | TransferRequested
    | TransferProgress
)


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
