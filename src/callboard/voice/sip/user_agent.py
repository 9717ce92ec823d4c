"""The user-agent core (RFC 3261 §8): UAS checks and answers, and the calls and dialogs it routes requests to.

It sits on a `TransactionLayer` as its TU: new requests arrive as server transactions, a 2xx's ACK and stray
responses arrive outside any transaction; calls (`IncomingCall`, `OutgoingCall`) do the INVITE work.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from typing import Protocol

from callboard.core.clock import Clock

from .call_events import CallListener
from .caller_id import CallerId
from .client_transaction import ClientTransaction
from .dialog import DialogId
from .digest import DigestClient
from .errors import SipParseError
from .fields import Via
from .headers import Header, Headers
from .incoming_call import IncomingCall
from .invite_session import CallState, InviteSession
from .message import Request, Response
from .outgoing_call import OutgoingCall
from .refer import ReplacesTarget
from .registrar import Registrar
from .scheduler import Scheduler
from .server_transaction import ServerTransaction
from .transaction import DEFAULT_TIMERS, ClientTransactionUser, TimerSettings, Transaction
from .transaction_layer import TransactionLayer
from .transport_port import Destination, SipTransportError, Transport
from .transports.via import response_destination
from .uri import AbsoluteUri, NameAddr, SipUri, Uri, parse_uri

__all__ = ["ACCEPT", "ALLOW", "SUPPORTED", "UserAgent", "UserAgentUser", "resolve_uri"]

logger = logging.getLogger(__name__)

ALLOW = ("INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "INFO", "REFER", "NOTIFY")
ACCEPT = ("application/sdp",)
# Extensions served whatever the owner adds: INVITEs that replace a call (RFC 3891).
SUPPORTED = ("replaces",)


class UserAgentUser(CallListener, Protocol):
    """The owner of the calls: told of each new incoming call (it may set `call.listener`), then of their events."""

    def on_incoming_call(self, call: IncomingCall) -> None: ...


def resolve_uri(uri: Uri) -> Destination:
    """maddr or host, and port (5060, 5061 for sips): no DNS lookup (RFC 3263 is for a later resolver)."""
    if not isinstance(uri, SipUri):
        raise ValueError(f"cannot send a request to {uri}")
    host = uri.param("maddr") or uri.host
    return host.removeprefix("[").removesuffix("]"), uri.port or (5061 if uri.scheme == "sips" else 5060)


def new_tag() -> str:
    return os.urandom(5).hex()


class UserAgent:
    """One SIP user agent: answers OPTIONS, rejects what it cannot serve (§8.2), and runs calls both ways."""

    def __init__(
        self,
        user: UserAgentUser,
        *,
        scheduler: Scheduler,
        clock: Clock,
        timers: TimerSettings = DEFAULT_TIMERS,
        user_part: str = "callboard",
        supported: Iterable[str] = (),
        tag_factory: Callable[[], str] = new_tag,
        resolve: Callable[[Uri], Destination] = resolve_uri,
        registrar: Registrar | None = None,
        admit: Callable[[], int | None] | None = None,
        authorize: Callable[[Request], Response | str | None] | None = None,
    ) -> None:
        self.user = user
        self.scheduler = scheduler
        self.clock = clock
        self.timers = timers
        self.user_part = user_part
        self.supported = tuple(dict.fromkeys([*SUPPORTED, *supported]))
        self.new_tag = tag_factory
        self.resolve = resolve
        self.registrar = registrar
        self.admit = admit
        # Who places a new call: None for an outside caller, the user name of one of ours who proved it (digest),
        # or the response (a 401 challenge, a 403) that refuses the INVITE.
        self.authorize = authorize
        self.refused = 0  # new INVITEs answered 503 because `admit` said the node is overloaded
        self.layer = TransactionLayer(self, scheduler=scheduler, clock=clock, timers=timers)
        self._transport: Transport | None = None
        self._sent_by: Destination = ("invalid", 5060)
        self._transport_name = "UDP"
        self._dialogs: dict[DialogId, InviteSession] = {}
        self._invites: dict[ServerTransaction, IncomingCall] = {}
        # Indexes, so that neither a new INVITE nor the end of a call walks every call in progress.
        self._dialog_ids: dict[InviteSession, list[DialogId]] = {}
        self._by_invite_key: dict[tuple[str | None, str | None, int | None], IncomingCall] = {}
        self._outgoing: dict[tuple[str, str], OutgoingCall] = {}

    def bind(self, transport: Transport, *, sent_by: Destination, name: str = "UDP") -> None:
        """The transport new requests leave by, and the host, port and protocol written in their Via and Contact."""
        self._transport, self._sent_by, self._transport_name = transport, sent_by, name.upper()

    @property
    def sent_by(self) -> Destination:
        """The host and port written in the Via and Contact of our requests."""
        return self._sent_by

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            raise RuntimeError("UserAgent.bind() was not called")
        return self._transport

    @property
    def contact(self) -> NameAddr:
        host, port = self._sent_by
        params = () if self._transport_name == "UDP" else (("transport", self._transport_name.lower()),)
        return NameAddr(SipUri(host, self.user_part, port=port, params=params))

    @property
    def allow(self) -> tuple[str, ...]:
        """The methods served: REGISTER only with a registrar."""
        return (*ALLOW, "REGISTER") if self.registrar is not None else ALLOW

    @property
    def calls(self) -> list[InviteSession]:
        return list({id(s): s for s in self._dialogs.values()}.values())

    # Inbound, from a transport (MessageHandler) or a test link.

    def on_message(self, message: Request | Response, source: Destination, transport: Transport) -> None:
        self.receive(message, transport, source)

    def receive(self, message: Request | Response, transport: Transport, source: Destination) -> None:
        if isinstance(message, Request) and not transport.reliable and message.headers.via:
            source = response_destination(message.headers.via[0], source)  # §18.2.2, RFC 3581
        self.layer.receive(message, transport, source)

    # TransactionLayerUser.

    def on_request(self, tx: ServerTransaction, request: Request) -> None:
        status, extra = self._check(request)
        if status is not None:
            self.respond(tx, request, status, headers=extra)
            return
        if request.method == "CANCEL":
            self._receive_cancel(tx, request)
            return
        to = request.headers.to
        if to is not None and to.tag:
            session = self._dialogs.get(DialogId.of_request(request))
            if session is None:
                self.respond(tx, request, 481)
            else:
                session.receive_request(tx, request)
        elif request.method == "INVITE":
            same = self._same_invite(request)
            if same is not None:
                same.invite_again(tx, request)
                return
            retry_after = self.admit() if self.admit is not None else None
            if retry_after is not None:  # RFC 3261 §21.5.4: overloaded, try again later
                self.refused += 1
                self.respond(tx, request, 503, headers=[("Retry-After", str(retry_after))])
                return
            replaced: InviteSession | None = None
            if "Replaces" in request.headers:
                status, replaced = self._replaced(request)
                if status is not None:
                    self.respond(tx, request, status)
                    return
            user = self.authorize(request) if self.authorize is not None else None
            if isinstance(user, Response):
                tx.send_response(user)
                return
            call = IncomingCall(self, tx, request, self.user, replaces=replaced)
            call.authenticated_user = user
            self._invites[tx] = call
            self._by_invite_key[call.invite_key] = call
            self.user.on_incoming_call(call)
        elif request.method == "OPTIONS":
            self.respond(tx, request, 200, headers=self.capabilities())
        elif request.method == "REGISTER" and self.registrar is not None:
            transport = "TCP" if tx.transport.reliable else "UDP"
            tx.send_response(self.registrar.handle(request, source=tx.destination, transport=transport))
        elif request.method == "REFER":
            self.respond(tx, request, 403, reason="Out-Of-Dialog REFER Not Allowed")
        else:
            self.respond(tx, request, 481)  # BYE, INFO, NOTIFY outside a dialog

    def on_ack(self, request: Request, transport: Transport, source: Destination) -> None:
        session = self._dialogs.get(DialogId.of_request(request))
        if session is not None:
            session.receive_ack(request)

    def on_stray_response(self, response: Response, transport: Transport, source: Destination) -> None:
        cseq = response.headers.cseq
        if cseq is None or cseq.method != "INVITE" or not 200 <= response.status_code < 300:
            return
        dialog_id = DialogId.of_response(response)
        session: InviteSession | None = self._dialogs.get(dialog_id)
        if session is None:
            session = self._outgoing.get((dialog_id.call_id, dialog_id.local_tag))
        if session is not None:
            session.receive_stray_2xx(response)

    def on_timeout(self, tx: Transaction) -> None:
        pass  # timer H (no ACK for a non-2xx) or J: nothing to undo

    def on_transport_error(self, tx: Transaction) -> None:
        pass

    def on_terminated(self, tx: Transaction) -> None:
        if isinstance(tx, ServerTransaction):
            call = self._invites.pop(tx, None)
            if call is not None and call not in self._dialog_ids:  # refused: no dialog will forget it
                self._drop_invite_key(call)

    def _same_invite(self, request: Request) -> IncomingCall | None:
        """A call made by an INVITE with the same Call-ID, From tag and CSeq (§8.2.2.2): a retransmission arriving
        after the 2xx ended the first transaction (the gap RFC 6026 closes), or a copy merged by a forking proxy."""
        from_, cseq = request.headers.from_, request.headers.cseq
        key = (request.headers.call_id, from_.tag if from_ else None, cseq.number if cseq else None)
        return self._by_invite_key.get(key)

    def _drop_invite_key(self, call: IncomingCall) -> None:
        if self._by_invite_key.get(call.invite_key) is call:
            del self._by_invite_key[call.invite_key]

    # Replaces (RFC 3891 §3).

    def find_replaced(self, target: ReplacesTarget) -> InviteSession | None:
        """The call of ours a Replaces names (its to-tag is our tag), whatever its state; None if there is none."""
        return self._dialogs.get(DialogId(target.call_id, target.to_tag, target.from_tag))

    def _replaced(self, request: Request) -> tuple[int | None, InviteSession | None]:
        """The call a new INVITE's Replaces takes over, or the status refusing it (RFC 3891 §3)."""
        values = request.headers.get_all("Replaces")
        try:
            if len(values) != 1:
                raise SipParseError("Replaces", "more than one", 0)
            target = ReplacesTarget.parse(values[0])
        except SipParseError:
            return 400, None
        session = self.find_replaced(target)
        if session is None:
            return 481, None
        if session.state in (CallState.TERMINATING, CallState.TERMINATED):
            return 603, None
        if isinstance(session, OutgoingCall) and session.state is not CallState.CONFIRMED:
            return 481, None  # an early dialog we started is left alone
        if target.early_only and session.state is CallState.CONFIRMED:
            return 486, None
        return None, session

    # §8.2 checks, in the RFC's order, with loop protection first.

    def _check(self, request: Request) -> tuple[int | None, list[tuple[str, str]]]:
        if request.headers.max_forwards == 0 and request.method != "OPTIONS":
            return 483, []
        if request.method not in self.allow:
            return 405, [("Allow", ", ".join(self.allow))]
        if isinstance(request.uri, AbsoluteUri):
            return 416, []
        if request.method not in ("ACK", "CANCEL"):
            unsupported = [tag for tag in request.headers.get_all("Require") if tag not in self.supported]
            if unsupported:
                return 420, [("Unsupported", ", ".join(unsupported))]
        return None, []

    def capabilities(self) -> list[tuple[str, str]]:
        """Allow, Accept and Supported: what OPTIONS (§11.2) and a 2xx to INVITE tell the peer."""
        allow, supported = ", ".join(self.allow), ", ".join(self.supported)
        return [("Allow", allow), ("Accept", ", ".join(ACCEPT)), ("Supported", supported)]

    def _receive_cancel(self, tx: ServerTransaction, request: Request) -> None:
        invite_tx = self.layer.find_cancelled(request)
        call = self._invites.get(invite_tx) if invite_tx is not None else None
        if call is None:
            self.respond(tx, request, 481)
            return
        self.respond(tx, request, 200, to_tag=call.local_tag)  # §9.2: the CANCEL is answered first
        call.cancelled()

    def respond(
        self,
        tx: ServerTransaction,
        request: Request,
        status: int,
        *,
        to_tag: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
        reason: str | None = None,
    ) -> Response:
        response = Response.for_request(request, status, reason, to_tag=to_tag or self.new_tag())
        for name, value in headers:
            response.headers.add(name, value)
        tx.send_response(response)
        return response

    # Outbound.

    def invite(
        self,
        target: Uri | str,
        *,
        sdp: bytes = b"",
        listener: CallListener | None = None,
        from_: NameAddr | None = None,
        destination: Destination | None = None,
        headers: Iterable[tuple[str, str]] = (),
        caller_id: CallerId | None = None,
        credentials: DigestClient | None = None,
    ) -> OutgoingCall:
        """Starts a call to `target`, sent to `destination` (default: the target's host and port).

        `caller_id` sets From (unless `from_` is given, which wins) and adds P-Asserted-Identity and Privacy.
        `credentials` answer a trunk's 401/407 to the INVITE.
        """
        uri = parse_uri(target, "target") if isinstance(target, str) else target
        host = self._sent_by[0]
        if caller_id is not None:
            headers = [*caller_id.headers(host), *headers]
            from_ = from_ or caller_id.from_address(host)
        local = from_ or NameAddr(SipUri(host, self.user_part))
        request_headers = Headers()
        request_headers.add("Max-Forwards", "70")
        request_headers.add("From", str(local.with_tag(self.new_tag())))
        request_headers.add("To", str(NameAddr(uri)))
        request_headers.add("Call-ID", f"{os.urandom(10).hex()}@{self._sent_by[0]}")
        request_headers.add("CSeq", "1 INVITE")
        request_headers.add("Contact", str(self.contact))
        supported = [("Supported", ", ".join(self.supported))] if self.supported else []
        for name, value in [("Allow", ", ".join(ALLOW)), *supported, *headers]:
            request_headers.add(name, value)
        if sdp:
            request_headers.add("Content-Type", "application/sdp")
        invite = Request("INVITE", uri, request_headers, sdp)
        call = OutgoingCall(self, invite, listener or self.user, credentials=credentials)
        self._outgoing[(call.call_id, call.local_tag)] = call
        call.start(destination or self.resolve(uri))
        return call

    def send_request(
        self, request: Request, tu: ClientTransactionUser, destination: Destination, *, add_via: bool = True
    ) -> ClientTransaction:
        """Sends `request` in a client transaction, on top of a fresh Via unless it has its Via (a CANCEL)."""
        if add_via:
            self._add_via(request)
        return self.layer.send_request(request, self.transport, destination, tu)

    def send_ack(self, ack: Request, destination: Destination) -> None:
        """An ACK of a 2xx goes outside any transaction (§13.2.2.4, §17.1.1.3)."""
        if not ack.headers.via:
            self._add_via(ack)
        try:
            self.transport.send(ack, destination)
        except (SipTransportError, OSError) as exc:
            logger.info("ACK to %s failed: %s", destination, exc)

    def _add_via(self, request: Request) -> None:
        host, port = self._sent_by
        via = Via(self._transport_name, host, port, (("branch", self.layer.new_branch()), ("rport", None)))
        request.headers = Headers([Header("Via", str(via)), *request.headers])

    # Book-keeping for the calls.

    def register_dialog(self, dialog_id: DialogId, session: InviteSession) -> None:
        self._dialogs[dialog_id] = session
        self._dialog_ids.setdefault(session, []).append(dialog_id)

    def forget(self, session: InviteSession) -> None:
        for dialog_id in self._dialog_ids.pop(session, []):
            if self._dialogs.get(dialog_id) is session:
                del self._dialogs[dialog_id]
        if isinstance(session, IncomingCall):
            self._drop_invite_key(session)
            self._invites.pop(session.tx, None)  # its transaction may stay 64*T1 more (RFC 6026); the call need not
        if isinstance(session, OutgoingCall):
            # Kept 64*T1 more so that a retransmitted 2xx is acknowledged again (§13.2.2.4).
            key = (session.call_id, session.local_tag)

            def drop() -> None:
                self._outgoing.pop(key, None)

            self.scheduler.call_at(self.clock.now() + self.timers.timeout, drop)
