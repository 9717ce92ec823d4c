"""The errors of call control, each with a stable `error_id` (STYLE item 8)."""

from __future__ import annotations

from callboard.core.errors import CallboardError, InvalidStateError
from callboard.voice.calls.events import HangupCause

__all__ = ["DialError", "LegEndedError", "OfferRejectedError", "TransferFailedError"]


class LegEndedError(InvalidStateError):
    """The leg ended while (or before) an operation waited on it."""

    error_id = "leg_ended"


class DialError(CallboardError):
    """An outbound leg that was not answered; `cause` says why."""

    error_id = "dial_failed"

    def __init__(self, cause: HangupCause) -> None:
        super().__init__(f"the call was not answered: {cause.value}", cause=cause.value)
        self.cause = cause


class OfferRejectedError(CallboardError):
    """The far end refused our re-INVITE (hold or resume); the previous media stays."""

    error_id = "offer_rejected"


class TransferFailedError(CallboardError):
    """The far end did not complete the transfer we asked of it; `status` is the SIP status it reported."""

    error_id = "transfer_failed"

    def __init__(self, status: int) -> None:
        super().__init__(f"the transfer failed with {status}", status=status)
        self.status = status
