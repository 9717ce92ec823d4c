"""What an INVITE-created call does the same on both sides: its dialog, BYE, re-INVITE (§14), INFO, 2xx and ACK."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from enum import Enum
from typing import TYPE_CHECKING, ClassVar

from callboard.core.errors import InvalidStateError

from .call_events import CallEvent, CallListener, Hangup, HangupCause, Info, OfferAnswered, OfferRejected, RemoteOffer
from .client_transaction import ClientTransaction
from .dialog import Dialog
from .message import Request, Response
from .ok_retransmitter import OkRetransmitter
from .refer import ReplacesTarget
from .server_transaction import ServerTransaction
from .transaction import Transaction
from .transfer import ReferUsages
from .transport_port import Destination, Transport
from .uri import NameAddr, Uri, parse_uri

if TYPE_CHECKING:
    from .user_agent import UserAgent

__all__ = ["CallState", "InviteSession"]

logger = logging.getLogger(__name__)
SDP = "application/sdp"


class CallState(Enum):
    """A call's life: no dialog yet, early (1xx), confirmed (2xx), hanging up (BYE sent), over."""

    INITIAL = "Initial"
    EARLY = "Early"
    CONFIRMED = "Confirmed"
    TERMINATING = "Terminating"
    TERMINATED = "Terminated"


S = CallState


class _Ended:
    """The listener of a call that has ended: hears nothing more."""

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        pass


_ENDED = _Ended()


class InviteSession:
    """A call made by one INVITE, seen from one side; subclasses handle the initial INVITE of each side."""

    transitions: ClassVar[dict[CallState, frozenset[CallState]]] = {
        S.INITIAL: frozenset({S.EARLY, S.CONFIRMED, S.TERMINATED}),
        S.EARLY: frozenset({S.CONFIRMED, S.TERMINATED}),
        S.CONFIRMED: frozenset({S.TERMINATING, S.TERMINATED}),
        S.TERMINATING: frozenset({S.TERMINATED}),
        S.TERMINATED: frozenset(),
    }

    def __init__(self, ua: UserAgent, invite: Request, listener: CallListener, local_tag: str) -> None:
        self.ua = ua
        self.invite = invite
        self.listener = listener
        self.local_tag = local_tag
        self.call_id = invite.headers.call_id or ""
        self.state = S.INITIAL
        self.dialog: Dialog | None = None
        # Our BYE and re-INVITE, known by their request: a transaction may fail before `send_request` returns it.
        self._bye: Request | None = None
        self._bye_cause = HangupCause.NORMAL
        self._reinvite_out: Request | None = None
        self._reinvite_in: tuple[ServerTransaction, Request] | None = None
        self._ok: OkRetransmitter | None = None  # a 2xx to an INVITE of ours, resent until its ACK
        self._ok_cseq = 0
        self._acks: dict[tuple[str, int], Request] = {}  # (remote tag, CSeq) -> ACK sent, for retransmitted 2xx
        self._refers = ReferUsages(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.call_id} {self.state.value}>"

    @property
    def terminated(self) -> bool:
        return self.state is S.TERMINATED

    @property
    def in_dialog(self) -> bool:
        """Whether requests can go inside the call's dialog: it is early or confirmed, no BYE sent."""
        return self.state in (S.EARLY, S.CONFIRMED) and self.dialog is not None

    # The one state setter (STYLE item 3): logs the move and emits the event that goes with it.

    def _set_state(self, state: CallState, event: CallEvent | None = None) -> None:
        old = self.state
        if state not in self.transitions[old]:
            raise InvalidStateError(f"call {self.call_id} cannot go from {old.value} to {state.value}", state=old.value)
        self.state = state
        logger.debug("call %s: %s -> %s", self.call_id, old.value, state.value)
        if state is S.TERMINATED:
            self._refers.end()
            ok, self._ok = self._ok, None  # it holds this session (`_no_ack`): no cycle left
            if ok is not None:
                ok.stop()
            if self.dialog is not None:
                self.dialog.terminate()
            self.ua.forget(self)
        if event is not None:
            self._emit(event)
        if state is S.TERMINATED:
            # Nothing is reported after the end. Letting go of the owner keeps the transactions and records held
            # for 64*T1 after a call (RFC 6026's Accepted state, retransmitted 2xx) from holding its leg and media.
            self.listener = _ENDED

    def _require(self, *states: CallState, action: str) -> None:
        if self.state not in states:
            raise InvalidStateError(
                f"call {self.call_id} cannot {action} in state {self.state.value}", state=self.state.value
            )

    def _emit(self, event: CallEvent) -> None:
        self.listener.on_call_event(self, event)

    def _now(self) -> float:
        return self.ua.clock.now()

    def _end(self, cause: HangupCause, *, remote: bool, status_code: int | None = None) -> None:
        if not self.terminated:
            self._set_state(S.TERMINATED, Hangup(self._now(), cause, remote, status_code))

    def _dialog(self) -> Dialog:
        if self.dialog is None:
            raise InvalidStateError(f"call {self.call_id} has no dialog yet", state=self.state.value)
        return self.dialog

    def _next_hop(self) -> Destination:
        return self.ua.resolve(self._dialog().next_hop)

    # Requests of ours inside the dialog.

    def hangup(self) -> None:
        """Ends the call: BYE once confirmed; subclasses cancel or reject before that."""
        self._require(S.CONFIRMED, action="hang up")
        self._send_bye(HangupCause.NORMAL)

    def _send_bye(self, cause: HangupCause) -> None:
        self._bye_cause = cause
        self._bye = self._dialog().create_request("BYE")
        self._set_state(S.TERMINATING)
        self.ua.send_request(self._bye, self, self._next_hop())

    def reinvite(self, sdp: bytes) -> None:
        """Offers a new session description (hold: `a=sendonly`); answered by OfferAnswered or OfferRejected."""
        self._require(S.CONFIRMED, action="send a re-INVITE")
        if self._reinvite_out is not None or self._reinvite_in is not None:
            raise InvalidStateError(f"call {self.call_id} has an offer pending", state=self.state.value)
        request = self._dialog().create_request("INVITE", body=sdp, content_type=SDP if sdp else None)
        self._reinvite_out = request
        self.ua.send_request(request, self, self._next_hop())

    def request(
        self,
        method: str,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> ClientTransaction:
        """Any other in-dialog request (INFO, REFER, NOTIFY...); its response is not reported."""
        self._require(S.EARLY, S.CONFIRMED, action=f"send {method}")
        request = self._dialog().create_request(method, body=body, content_type=content_type, headers=headers)
        return self.ua.send_request(request, self, self._next_hop())

    # Transfers (RFC 3515, RFC 3891).

    def transfer(
        self,
        target: Uri | str,
        *,
        replaces: InviteSession | ReplacesTarget | None = None,
        referred_by: NameAddr | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> int:
        """Asks the far end to call `target` in our place (a REFER); returns the transfer's id.

        Blind without `replaces`; attended with it: the far end's call to `target` is to replace that call of ours
        (a session we have with `target`, or its ReplacesTarget) at `target`'s end (RFC 5589 §7). The far end's
        progress comes back as `TransferProgress` events; hanging up once it is final is the owner's choice.
        """
        self._require(S.CONFIRMED, action="transfer")
        uri = parse_uri(target, "target") if isinstance(target, str) else target
        if isinstance(replaces, InviteSession):
            replaces = ReplacesTarget.for_dialog(replaces._dialog())
        return self._refers.refer(uri, replaces=replaces, referred_by=referred_by, headers=headers)

    def report_transfer(self, status_code: int, reason: str | None = None, *, refer_id: int | None = None) -> bool:
        """Tells the far end how the call it asked for (`TransferRequested`) goes: 180, 200, 486... as a NOTIFY.

        `refer_id` picks the transfer (by default the latest one not settled). A 2xx or any final status settles it.
        Returns False when there is no one to tell any more (the call or the transfer is over).
        """
        return self._refers.report(status_code, reason, refer_id)

    # Requests of theirs inside the dialog, matched by the user agent.

    def receive_request(self, tx: ServerTransaction, request: Request) -> None:
        status = self._dialog().receive_request(request)
        if status is not None:
            self.ua.respond(tx, request, status)
            return
        method = request.method
        if method == "BYE":
            self.ua.respond(tx, request, 200)
            self._remote_bye()
        elif method == "INVITE":
            self._receive_reinvite(tx, request)
        elif method == "INFO":
            self.ua.respond(tx, request, 200)
            content_type = request.headers.content_type
            self._emit(Info(self._now(), request.body, content_type.mime_type if content_type else None))
        elif method == "OPTIONS":
            self.ua.respond(tx, request, 200, headers=self.ua.capabilities())
        elif method == "REFER":
            if self.in_dialog:
                self._refers.receive_refer(tx, request)
            else:
                self.ua.respond(tx, request, 481)  # the call is ending: nothing to transfer
        elif method == "NOTIFY":
            self._refers.receive_notify(tx, request)
        else:
            self.ua.respond(tx, request, 405, headers=self.ua.capabilities()[:1])

    def _remote_bye(self) -> None:
        self._end(HangupCause.NORMAL, remote=True)

    def _receive_reinvite(self, tx: ServerTransaction, request: Request) -> None:
        if self._reinvite_out is not None:
            self.ua.respond(tx, request, 491)  # §14.2: glare, both sides retry after a random wait
        elif self._reinvite_in is not None or self._ok is not None or self.state is not S.CONFIRMED:
            self.ua.respond(tx, request, 500, headers=[("Retry-After", "1")])  # §14.2: an earlier INVITE is pending
        else:
            self._dialog().refresh_target(request)
            self._reinvite_in = (tx, request)
            self._emit(RemoteOffer(self._now(), request.body))

    def accept_offer(self, sdp: bytes) -> None:
        """Answers the pending RemoteOffer with a 200 carrying `sdp`."""
        if self._reinvite_in is None:
            raise InvalidStateError(f"call {self.call_id} has no offer to answer", state=self.state.value)
        tx, request = self._reinvite_in
        self._reinvite_in = None
        self._send_2xx(tx, self._invite_response(request, 200, sdp))

    def reject_offer(self, status_code: int = 488) -> None:
        """Refuses the pending RemoteOffer; the session stays as it was (§14.2)."""
        if self._reinvite_in is None:
            raise InvalidStateError(f"call {self.call_id} has no offer to reject", state=self.state.value)
        tx, request = self._reinvite_in
        self._reinvite_in = None
        self.ua.respond(tx, request, status_code, to_tag=self.local_tag)

    # Responses to INVITEs we received: Contact, Record-Route (§12.1.1), capabilities on a 2xx, the SDP.

    def _invite_response(self, request: Request, status_code: int, sdp: bytes = b"") -> Response:
        response = Response.for_request(request, status_code, to_tag=self.local_tag)
        for header in request.headers.fields("Record-Route"):
            response.headers.add(header.name, header.value)
        response.headers.add("Contact", str(self.ua.contact))
        if status_code >= 200:
            response.headers.add("Allow", self.ua.capabilities()[0][1])
        if sdp:
            response.headers.add("Content-Type", SDP)
            response.body = sdp
        return response

    def _send_2xx(self, tx: ServerTransaction, response: Response) -> None:
        """The server transaction sends the 2xx and ends (§17.2.1); this layer resends it until the ACK comes."""
        tx.send_response(response)
        cseq = response.headers.cseq
        self._ok_cseq = cseq.number if cseq is not None else 0
        self._ok = OkRetransmitter(
            response,
            _AlreadySent(tx.transport),
            tx.destination,
            scheduler=self.ua.scheduler,
            clock=self.ua.clock,
            timers=self.ua.timers,
            on_timeout=self._no_ack,
        )
        self._ok.start()

    def receive_ack(self, ack: Request) -> None:
        cseq = ack.headers.cseq
        if self._ok is None or cseq is None or cseq.number != self._ok_cseq:
            return  # a retransmitted ACK, or one for a 2xx already acknowledged
        self._ok.ack_received()
        self._ok = None
        self._acknowledged(ack)

    def _acknowledged(self, ack: Request) -> None:
        """The ACK of a 2xx we sent arrived; the callee reports its answer here."""

    def _no_ack(self, retransmitter: OkRetransmitter) -> None:
        self._ok = None
        if self.state is S.CONFIRMED:
            self._send_bye(HangupCause.NO_ACK)  # §13.3.1.4: the dialog is confirmed, so it ends with a BYE

    # ClientTransactionUser: responses to our requests.

    def on_response(self, tx: ClientTransaction, response: Response) -> None:
        if tx.method == "BYE":
            if tx.request is self._bye and response.status_code >= 200:
                self._end(self._bye_cause, remote=False)
        elif tx.method == "INVITE":
            if tx.request is self._reinvite_out:
                self._reinvite_response(response)
            elif self._is_initial(tx):
                self._initial_response(response)
            elif 200 <= response.status_code < 300:
                self.receive_stray_2xx(response)  # a re-INVITE's 2xx again, through its Accepted transaction
        elif tx.method in ("REFER", "NOTIFY"):
            self._refers.on_response(tx, response)

    def _is_initial(self, tx: ClientTransaction) -> bool:
        """Whether `tx` carries the INVITE that made the call (the caller's side)."""
        return False

    def _initial_response(self, response: Response) -> None:
        """A response to the INVITE that made the call (the caller's side)."""

    def _reinvite_response(self, response: Response) -> None:
        code = response.status_code
        if code < 200:
            return
        self._reinvite_out = None
        if code < 300:
            self._dialog().refresh_target(response)
            self._acknowledge(response)
            self._emit(OfferAnswered(self._now(), response.body))
            return
        self._emit(OfferRejected(self._now(), code))
        if code in (408, 481) and self.state is S.CONFIRMED:
            self._send_bye(HangupCause.NORMAL)  # §14.1: the dialog is gone or unreachable

    def _acknowledge(self, response: Response, dialog: Dialog | None = None) -> None:
        """Sends (or sends again) the ACK of a 2xx to one of our INVITEs."""
        dialog = dialog or self._dialog()
        cseq = response.headers.cseq
        number = cseq.number if cseq is not None else 0
        key = (dialog.remote_tag, number)
        ack = self._acks.get(key)
        if ack is None:
            ack = self._acks[key] = dialog.create_ack(number)
            self.ua.send_ack(ack, self.ua.resolve(dialog.next_hop))
        else:
            self.ua.send_ack(ack, self.ua.resolve(dialog.next_hop))

    def receive_stray_2xx(self, response: Response) -> None:
        """A 2xx retransmitted after its transaction ended: our ACK was lost, send it again."""
        cseq = response.headers.cseq
        to = response.headers.to
        if cseq is not None and to is not None and (to.tag or "", cseq.number) in self._acks:
            self._acknowledge(response)

    def on_timeout(self, tx: Transaction) -> None:
        self._transaction_failed(tx, HangupCause.TIMEOUT)

    def on_transport_error(self, tx: Transaction) -> None:
        self._transaction_failed(tx, HangupCause.TRANSPORT_ERROR)

    def _transaction_failed(self, tx: Transaction, cause: HangupCause) -> None:
        if tx.method in ("REFER", "NOTIFY"):
            self._refers.on_failure(tx, 503 if cause is HangupCause.TRANSPORT_ERROR else 408)
        elif tx.request is self._bye:
            self._end(self._bye_cause, remote=False)
        elif tx.request is self._reinvite_out:
            self._reinvite_out = None
            self._emit(OfferRejected(self._now(), 408))
            if self.state is S.CONFIRMED:
                self._send_bye(HangupCause.NORMAL)
        elif tx.method == "INVITE" and self.state in (S.INITIAL, S.EARLY):
            self._end(cause, remote=False)

    def on_terminated(self, tx: Transaction) -> None:
        pass


class _AlreadySent:
    """Lets an `OkRetransmitter` skip its first send: the server transaction already sent that 2xx."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._first = True

    @property
    def reliable(self) -> bool:
        return self._transport.reliable

    def send(self, message: Request | Response, destination: Destination) -> None:
        if self._first:
            self._first = False
            return
        self._transport.send(message, destination)
