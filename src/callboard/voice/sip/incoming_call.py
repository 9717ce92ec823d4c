"""The callee's side of a call (RFC 3261 §13.3): ring, early media, answer or reject, and the caller's CANCEL."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from .call_events import Answered, CallListener, HangupCause
from .dialog import Dialog
from .invite_session import CallState, InviteSession
from .message import Request
from .server_transaction import ServerTransaction

if TYPE_CHECKING:
    from .user_agent import UserAgent

__all__ = ["IncomingCall"]

S = CallState


class IncomingCall(InviteSession):
    """An INVITE we received; its owner calls `ring`, `early_media`, `answer` or `reject` when it is ready.

    `offer` is the caller's SDP (empty for an offerless INVITE, whose answer then comes in the ACK). `replaces` is
    the call of ours this one takes over (its INVITE had a Replaces, RFC 3891: a transfer completed, or a pickup):
    the owner swaps it in, then hangs the replaced call up; nothing here does that on its own.
    """

    def __init__(
        self,
        ua: UserAgent,
        tx: ServerTransaction,
        invite: Request,
        listener: CallListener,
        *,
        replaces: InviteSession | None = None,
    ) -> None:
        super().__init__(ua, invite, listener, ua.new_tag())
        self.tx = tx
        self.offer = invite.body
        self.replaces = replaces
        self.authenticated_user: str | None = None  # set by the user agent's `authorize` hook

    @functools.cached_property
    def invite_key(self) -> tuple[str | None, str | None, int | None]:
        """Call-ID, From tag and CSeq number: what tells a retransmitted or merged INVITE (§8.2.2.2)."""
        from_, cseq = self.invite.headers.from_, self.invite.headers.cseq
        return self.call_id, from_.tag if from_ else None, cseq.number if cseq else None

    def invite_again(self, tx: ServerTransaction, request: Request) -> None:
        """The same INVITE in a new server transaction: the 2xx again while it waits for its ACK, else 482."""
        if self._ok is not None:
            tx.send_response(self._ok.response)
        else:
            self.ua.respond(tx, request, 482)

    def _ensure_dialog(self) -> Dialog:
        if self.dialog is None:
            self.dialog = Dialog.for_uas(self.invite, self.local_tag, local_contact=self.ua.contact)
            self.ua.register_dialog(self.dialog.id, self)
        return self.dialog

    def ring(self) -> None:
        """180 Ringing: the caller hears ringback; the dialog is early (§12.1.1)."""
        self._provisional(180)

    def early_media(self, sdp: bytes = b"") -> None:
        """183 Session Progress, with an SDP answer when media flows before the answer."""
        self._provisional(183, sdp)

    def _provisional(self, status_code: int, sdp: bytes = b"") -> None:
        self._require(S.INITIAL, S.EARLY, action=f"send {status_code}")
        self._ensure_dialog()
        self.tx.send_response(self._invite_response(self.invite, status_code, sdp))
        if self.state is S.INITIAL:
            self._set_state(S.EARLY)

    def answer(self, sdp: bytes) -> None:
        """200 OK with our SDP, resent until the caller's ACK; `Answered` is reported when the ACK arrives."""
        self._require(S.INITIAL, S.EARLY, action="answer")
        self._ensure_dialog().confirm()
        self._send_2xx(self.tx, self._invite_response(self.invite, 200, sdp))
        self._set_state(S.CONFIRMED)

    def reject(self, status_code: int = 486, reason: str | None = None) -> None:
        """A final 4xx-6xx; the INVITE server transaction retransmits it and absorbs the ACK (§17.2.1)."""
        if not 400 <= status_code < 700:
            raise ValueError(f"{status_code} does not reject a call")
        self._require(S.INITIAL, S.EARLY, action="reject")
        response = self._invite_response(self.invite, status_code)
        if reason is not None:
            response.reason = reason
        self.tx.send_response(response)
        self._end(HangupCause.REJECTED, remote=False, status_code=status_code)

    def hangup(self) -> None:
        if self.state in (S.INITIAL, S.EARLY):
            self.reject(480)
        else:
            super().hangup()

    def cancelled(self) -> None:
        """The caller's CANCEL (already answered 200 by the user agent): 487 to the INVITE (§9.2)."""
        if self.state in (S.INITIAL, S.EARLY):
            self.tx.send_response(self._invite_response(self.invite, 487))
            self._end(HangupCause.CANCELED, remote=True, status_code=487)

    def _remote_bye(self) -> None:
        if self.state in (S.INITIAL, S.EARLY):
            # A BYE on an early dialog (§15): the INVITE still needs its final response.
            self.tx.send_response(self._invite_response(self.invite, 487))
        super()._remote_bye()

    def _acknowledged(self, ack: Request) -> None:
        cseq, invite_cseq = ack.headers.cseq, self.invite.headers.cseq
        if cseq is not None and invite_cseq is not None and cseq.number == invite_cseq.number:
            self._emit(Answered(self._now(), ack.body))
