"""The transaction layer (RFC 3261 §17): matches messages to transactions, creates server transactions for new
requests, hands what no transaction absorbs to the TU core, and forgets transactions once they terminate."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Hashable
from typing import Any, Protocol

from callboard.core.clock import Clock

from .client_transaction import ClientTransaction
from .errors import SipParseError
from .message import Request, Response
from .scheduler import Scheduler
from .server_transaction import InviteServerTransaction, ServerTransaction
from .transaction import (
    DEFAULT_TIMERS,
    MAGIC_COOKIE,
    ClientTransactionUser,
    ServerTransactionUser,
    TimerSettings,
    Transaction,
    is_rfc3261_branch,
)
from .transport_port import Destination, Transport

__all__ = ["TransactionLayer", "TransactionLayerUser", "new_branch"]

logger = logging.getLogger(__name__)


class TransactionLayerUser(ServerTransactionUser, Protocol):
    """The TU core: new requests (as server transactions), plus what arrives outside any transaction."""

    def on_ack(self, request: Request, transport: Transport, source: Destination) -> None:
        """An ACK matching no transaction: the ACK of a 2xx, which the dialog handles (§17.2.3, §13.3.1.4)."""
        ...

    def on_stray_response(self, response: Response, transport: Transport, source: Destination) -> None:
        """A response matching no client transaction, such as a retransmitted or forked 2xx (§17.1.1.2, §18.1.2)."""
        ...


def new_branch() -> str:
    """A branch unique in space and time, starting with the magic cookie (§8.1.1.7)."""
    return MAGIC_COOKIE + os.urandom(12).hex()


class TransactionLayer:
    """Every live transaction of one SIP element, keyed as §17.1.3 and §17.2.3 say."""

    def __init__(
        self,
        user: TransactionLayerUser,
        *,
        scheduler: Scheduler,
        clock: Clock,
        timers: TimerSettings = DEFAULT_TIMERS,
        branch_factory: Callable[[], str] = new_branch,
    ) -> None:
        self.user = user
        self.scheduler = scheduler
        self.clock = clock
        self.timers = timers
        self._branch_factory = branch_factory
        self._clients: dict[Hashable, ClientTransaction] = {}
        self._servers: dict[Hashable, ServerTransaction] = {}
        # One bound method shared by every transaction (a closure per transaction would be objects more).
        self._ended = self._forget

    def new_branch(self) -> str:
        return self._branch_factory()

    def __len__(self) -> int:
        return len(self._clients) + len(self._servers)

    @property
    def transactions(self) -> list[Transaction]:
        return [*self._clients.values(), *self._servers.values()]

    # Client side.

    def send_request(
        self, request: Request, transport: Transport, destination: Destination, tu: ClientTransactionUser
    ) -> ClientTransaction:
        """Starts a client transaction for `request`, whose top Via must carry a fresh RFC 3261 branch."""
        vias = request.headers.via
        if not vias or not is_rfc3261_branch(vias[0].branch):
            raise ValueError(f"{request.method}: the top Via needs a branch starting with {MAGIC_COOKIE}")
        key = _client_key(vias[0].branch or "", request.method)
        if key in self._clients:
            raise ValueError(f"a {request.method} client transaction with branch {vias[0].branch} already exists")
        tx = ClientTransaction.create(
            request,
            transport,
            destination,
            tu,
            scheduler=self.scheduler,
            clock=self.clock,
            timers=self.timers,
            on_end=self._ended,
        )
        tx.key = key
        self._clients[key] = tx
        tx.start()
        return tx

    # Receiving.

    def receive(self, message: Request | Response, transport: Transport, source: Destination) -> None:
        """A message from the transport layer (§18.1.2, §18.2.1), already parsed and checked."""
        try:
            if isinstance(message, Response):
                self._receive_response(message, transport, source)
            else:
                self._receive_request(message, transport, source)
        except SipParseError as exc:
            logger.info("dropped a message whose Via or CSeq cannot be read: %s", exc)

    def _receive_response(self, response: Response, transport: Transport, source: Destination) -> None:
        vias = response.headers.via
        cseq = response.headers.cseq
        if len(vias) != 1 or cseq is None:
            # §8.1.3.3: a response with more than one Via was misrouted to this UAC.
            logger.info("dropped a response with %d Via values", len(vias))
            return
        tx = self._clients.get(_client_key(vias[0].branch or "", cseq.method))
        if tx is None:
            self.user.on_stray_response(response, transport, source)
        else:
            tx.receive_response(response)

    def _receive_request(self, request: Request, transport: Transport, source: Destination) -> None:
        tx = self.find_server(request)
        if tx is not None and not (request.method == "ACK" and isinstance(tx, InviteServerTransaction) and tx.accepted):
            tx.receive_request(request)
        elif request.method == "ACK":
            # An ACK matching an Accepted transaction acknowledges its 2xx: the TU's (RFC 6026 §7.1). It rarely
            # matches, since a 2xx's ACK has a branch of its own (§17.1.1.3), but RFC 2543 peers reuse theirs.
            self.user.on_ack(request, transport, source)
        else:
            self._new_server(request, transport, source)

    def _new_server(self, request: Request, transport: Transport, source: Destination) -> ServerTransaction:
        key = _server_key(request)
        tx = ServerTransaction.create(
            request,
            transport,
            source,
            self.user,
            scheduler=self.scheduler,
            clock=self.clock,
            timers=self.timers,
            on_end=self._ended,
        )
        tx.key = key
        self._servers[key] = tx
        tx.start()
        return tx

    def find_server(self, request: Request) -> ServerTransaction | None:
        """The server transaction a request belongs to (§17.2.3); an ACK matches its INVITE's transaction."""
        tx = self._servers.get(_server_key(request))
        if tx is None or request.method != "ACK" or is_rfc3261_branch(_top_branch(request)):
            return tx
        # §17.2.3 for RFC 2543 peers: an ACK matches if its To tag is the one of the response it acknowledges.
        sent = tx.last_response.headers.to if tx.last_response is not None else None
        to = request.headers.to
        return tx if sent is not None and to is not None and sent.tag == to.tag else None

    def _forget(self, tx: Transaction) -> None:
        table: dict[Hashable, Any] = self._clients if isinstance(tx, ClientTransaction) else self._servers
        if table.get(tx.key) is tx:
            del table[tx.key]

    def find_cancelled(self, cancel: Request) -> InviteServerTransaction | None:
        """The INVITE server transaction a CANCEL is for (§9.2): the same key but for the method."""
        tx = self._servers.get(_server_key(cancel, "INVITE"))
        return tx if isinstance(tx, InviteServerTransaction) else None


def _client_key(branch: str, method: str) -> Hashable:
    # §17.1.3: the branch of the top Via and the CSeq method (a CANCEL has its own transaction).
    return (branch, "INVITE" if method == "ACK" else method)


def _top_branch(request: Request) -> str | None:
    vias = request.headers.via
    return vias[0].branch if vias else None


def _server_key(request: Request, method: str | None = None) -> Hashable:
    vias = request.headers.via
    if not vias:
        raise SipParseError("Via", "missing")
    top = vias[0]
    method = method or ("INVITE" if request.method == "ACK" else request.method)
    if is_rfc3261_branch(top.branch):
        default_port = 5061 if top.transport.upper() in ("TLS", "WSS") else 5060
        return ("3261", top.branch, top.host.lower(), top.port or default_port, method)
    # §17.2.3 for RFC 2543 peers: Request-URI, From tag, Call-ID, CSeq number and the top Via; the To tag is
    # checked by `find_server` for an ACK (it carries the tag of the response, the INVITE did not).
    from_ = request.headers.from_
    cseq = request.headers.cseq
    return (
        "2543",
        str(request.uri),
        from_.tag if from_ is not None else None,
        request.headers.call_id,
        cseq.number if cseq is not None else None,
        str(top),
        method,
    )
