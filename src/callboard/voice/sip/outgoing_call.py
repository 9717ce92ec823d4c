"""The caller's side of a call (RFC 3261 §13.2): provisional responses, the 2xx and its ACK, forks, CANCEL (§9.1)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .call_events import Answered, CallListener, EarlyMedia, HangupCause, Ringing, cause_of_status
from .client_transaction import ClientTransaction
from .dialog import Dialog
from .digest import DigestClient
from .headers import Headers
from .invite_session import CallState, InviteSession
from .message import Request, Response
from .transport_port import Destination

if TYPE_CHECKING:
    from .user_agent import UserAgent

__all__ = ["OutgoingCall"]

logger = logging.getLogger(__name__)
S = CallState


class OutgoingCall(InviteSession):
    """An INVITE we sent (built by `UserAgent.invite`); reports Ringing, EarlyMedia, Answered and Hangup.

    With `credentials`, a 401 or 407 to the INVITE is answered once with the INVITE sent again, authorized, with
    the next CSeq in the same call (RFC 3261 §22.2); its own copy keeps the nonce of this call.
    """

    MAX_CHALLENGES = 2  # a fresh challenge, then a stale one; more would be a loop

    def __init__(
        self, ua: UserAgent, invite: Request, listener: CallListener, *, credentials: DigestClient | None = None
    ) -> None:
        from_ = invite.headers.from_
        super().__init__(ua, invite, listener, (from_.tag if from_ else None) or "")
        self._credentials = credentials.new_session() if credentials is not None else None
        self._challenges = 0
        self.destination: Destination = ("", 0)
        self.tx: ClientTransaction | None = None
        self._provisional_seen = False
        self._cancel_wanted = False
        self._cancel_sent = False
        self._dialogs_by_tag: dict[str, Dialog] = {}  # every dialog a 2xx created, forks included

    @property
    def _invite_cseq(self) -> int:
        cseq = self.invite.headers.cseq
        return cseq.number if cseq is not None else 0

    def start(self, destination: Destination) -> None:
        self._require(S.INITIAL, action="start")
        self.destination = destination
        self.tx = self.ua.send_request(self.invite, self, destination)

    def cancel(self) -> None:
        """Gives up before the answer; the CANCEL waits for a provisional response if none came yet (§9.1)."""
        self._require(S.INITIAL, S.EARLY, action="cancel")
        self._cancel_wanted = True
        if self._provisional_seen:
            self._send_cancel()

    def hangup(self) -> None:
        if self.state in (S.INITIAL, S.EARLY):
            self.cancel()
        else:
            super().hangup()

    def _send_cancel(self) -> None:
        if self._cancel_sent:
            return
        self._cancel_sent = True
        # §9.1: the INVITE's Request-URI, Call-ID, From, To, CSeq number, top Via (same branch) and Route.
        invite = self.invite.headers
        headers = Headers()
        headers.add("Via", str(invite.via[0]))
        for header in invite.fields("Route"):
            headers.add(header.name, header.value)
        headers.add("Max-Forwards", "70")
        for name in ("From", "To", "Call-ID"):
            headers.add(name, invite.get(name) or "")
        headers.add("CSeq", f"{self._invite_cseq} CANCEL")
        self.ua.send_request(Request("CANCEL", self.invite.uri, headers), self, self.destination, add_via=False)

    def _is_initial(self, tx: ClientTransaction) -> bool:
        return tx is self.tx

    def _initial_response(self, response: Response) -> None:
        code = response.status_code
        if code < 200:
            self._provisional_seen = True
            if self._cancel_wanted:
                self._send_cancel()
            else:
                self._receive_provisional(response)
        elif code < 300:
            self._receive_2xx(response)
        elif code in (401, 407) and not self._cancel_wanted and self._answer_challenge(response):
            return
        elif self._cancel_wanted:
            self._end(HangupCause.CANCELED, remote=False, status_code=code)
        else:
            # The transaction acknowledged it (§17.1.1.3).
            self._end(cause_of_status(code), remote=True, status_code=code)

    def _answer_challenge(self, response: Response) -> bool:
        """Sends the INVITE again with credentials for the challenge (the transaction ACKed the 401/407)."""
        if self._credentials is None or self._challenges >= self.MAX_CHALLENGES or self.state is not S.INITIAL:
            return False
        self._challenges += 1
        if not self._credentials.handle(response):
            return False
        dropped = ("via", "authorization", "proxy-authorization")
        headers = Headers([h for h in self.invite.headers if h.name.lower() not in dropped])
        headers.set("CSeq", f"{self._invite_cseq + 1} INVITE")
        invite = Request("INVITE", self.invite.uri, headers, self.invite.body)
        self._credentials.authorize(invite)
        self.invite = invite
        self._provisional_seen = False  # a CANCEL now waits for a provisional response to this INVITE (§9.1)
        self.tx = self.ua.send_request(invite, self, self.destination)
        return True

    def _receive_provisional(self, response: Response) -> None:
        to = response.headers.to
        if response.status_code == 100 or self.state not in (S.INITIAL, S.EARLY):
            return
        if self.dialog is None and to is not None and to.tag and response.headers.contact:
            self.dialog = Dialog.for_uac(self.invite, response, local_contact=self.ua.contact)
            self.ua.register_dialog(self.dialog.id, self)
        if response.body:
            event: Ringing | EarlyMedia = EarlyMedia(self.ua.clock.now(), response.body)
        elif response.status_code == 180:
            event = Ringing(self.ua.clock.now())
        else:
            return
        if self.state is S.INITIAL:
            self._set_state(S.EARLY, event)
        else:
            self._emit(event)

    def _receive_2xx(self, response: Response) -> None:
        to = response.headers.to
        tag = (to.tag if to is not None else None) or ""
        known = self._dialogs_by_tag.get(tag)
        if known is not None:
            self._acknowledge(response, known)  # a retransmission: our ACK was lost
            return
        if self.state in (S.INITIAL, S.EARLY) and not self._cancel_wanted:
            if self.dialog is not None and self.dialog.remote_tag == tag:
                self.dialog.confirm(response)
            else:
                self.dialog = Dialog.for_uac(self.invite, response, local_contact=self.ua.contact)
            self.ua.register_dialog(self.dialog.id, self)
            self._dialogs_by_tag[tag] = self.dialog
            self._acknowledge(response, self.dialog)
            self._set_state(S.CONFIRMED, Answered(self.ua.clock.now(), response.body))
            return
        # §13.2.2.4: another fork's 2xx, or one that crossed our CANCEL: acknowledge it, then end that dialog.
        logger.info("call %s: ending the extra dialog with tag %s", self.call_id, tag)
        extra = self._dialogs_by_tag[tag] = Dialog.for_uac(self.invite, response, local_contact=self.ua.contact)
        self._acknowledge(response, extra)
        self.ua.send_request(extra.create_request("BYE"), self, self.ua.resolve(extra.next_hop))
        extra.terminate()
        if self.state in (S.INITIAL, S.EARLY):
            self._end(HangupCause.CANCELED, remote=False, status_code=response.status_code)

    def receive_stray_2xx(self, response: Response) -> None:
        cseq = response.headers.cseq
        if cseq is not None and cseq.number == self._invite_cseq:
            self._receive_2xx(response)
        else:
            super().receive_stray_2xx(response)
