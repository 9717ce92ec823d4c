"""SIP dialogs (RFC 3261 §12): the peer-to-peer state two user agents keep for a call, and its in-dialog requests."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import Enum
from typing import ClassVar

from callboard.core.errors import InvalidStateError

from .fields import MAX_CSEQ
from .headers import Headers
from .message import Request, Response
from .uri import NameAddr, SipUri, Uri

__all__ = ["TARGET_REFRESH_METHODS", "Dialog", "DialogId", "DialogState"]

logger = logging.getLogger(__name__)

# Requests that carry a Contact and so may change the remote target (§12.2, RFC 3311 UPDATE, RFC 6665).
TARGET_REFRESH_METHODS = frozenset({"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY", "REFER"})
# §19.1.1 table 1: what may not appear in a Request-URI built from a strict router's Route (§12.2.1.1).
_NOT_IN_REQUEST_URI = frozenset({"method"})


class DialogState(Enum):
    """§12: a dialog created by a provisional response is Early, by a 2xx Confirmed."""

    EARLY = "Early"
    CONFIRMED = "Confirmed"
    TERMINATED = "Terminated"


@dataclass(frozen=True)
class DialogId:
    """§12: Call-ID, local tag and remote tag; each side sees the tags the other way round."""

    call_id: str
    local_tag: str
    remote_tag: str

    @classmethod
    def of_request(cls, request: Request) -> DialogId:
        """The id a UAS sees in a request it received: the To tag is its own (§12.2.2)."""
        to, from_ = request.headers.to, request.headers.from_
        return cls(request.headers.call_id or "", (to.tag if to else None) or "", (from_.tag if from_ else None) or "")

    @classmethod
    def of_response(cls, response: Response) -> DialogId:
        """The id a UAC sees in a response it received: the From tag is its own."""
        to, from_ = response.headers.to, response.headers.from_
        return cls(response.headers.call_id or "", (from_.tag if from_ else None) or "", (to.tag if to else None) or "")


class Dialog:
    """One dialog: its id, the URIs and target of both ends, the route set, and both CSeq spaces."""

    transitions: ClassVar[dict[DialogState, frozenset[DialogState]]] = {
        DialogState.EARLY: frozenset({DialogState.CONFIRMED, DialogState.TERMINATED}),
        DialogState.CONFIRMED: frozenset({DialogState.TERMINATED}),
        DialogState.TERMINATED: frozenset(),
    }

    def __init__(
        self,
        *,
        call_id: str,
        local_tag: str,
        remote_tag: str,
        local_uri: NameAddr,
        remote_uri: NameAddr,
        remote_target: Uri,
        route_set: Iterable[NameAddr] = (),
        local_cseq: int | None = None,
        remote_cseq: int | None = None,
        secure: bool = False,
        local_contact: NameAddr | None = None,
        state: DialogState = DialogState.EARLY,
    ) -> None:
        self.call_id = call_id
        self.local_tag = local_tag
        self.remote_tag = remote_tag
        self.local_uri = local_uri
        self.remote_uri = remote_uri
        self.remote_target = remote_target
        self.route_set = list(route_set)
        self.local_cseq = local_cseq
        self.remote_cseq = remote_cseq
        self.secure = secure
        self.local_contact = local_contact
        self.state = state

    @classmethod
    def for_uas(
        cls, request: Request, local_tag: str, *, local_contact: NameAddr | None = None, confirmed: bool = False
    ) -> Dialog:
        """§12.1.1: the dialog a UAS creates when it answers `request` with a tagged 1xx or a 2xx."""
        headers = request.headers
        from_, to, cseq = headers.from_, headers.to, headers.cseq
        if from_ is None or to is None or cseq is None or headers.call_id is None:
            raise ValueError("a dialog needs From, To, Call-ID and CSeq")
        return cls(
            call_id=headers.call_id,
            local_tag=local_tag,
            remote_tag=from_.tag or "",
            local_uri=_untagged(to),
            remote_uri=_untagged(from_),
            remote_target=_target(headers.contact, request.method),
            route_set=headers.record_route,  # as received: the UAS sends towards the caller in this order
            remote_cseq=cseq.number,
            secure=_is_sips(request.uri),
            local_contact=local_contact,
            state=DialogState.CONFIRMED if confirmed else DialogState.EARLY,
        )

    @classmethod
    def for_uac(cls, request: Request, response: Response, *, local_contact: NameAddr | None = None) -> Dialog:
        """§12.1.2: the dialog a UAC creates from a tagged 1xx (Early) or a 2xx (Confirmed) to `request`."""
        to, from_, cseq = response.headers.to, request.headers.from_, request.headers.cseq
        if to is None or from_ is None or cseq is None or request.headers.call_id is None:
            raise ValueError("a dialog needs From, To, Call-ID and CSeq")
        code = response.status_code
        if not 101 <= code < 300:
            raise ValueError(f"a {code} does not create a dialog")
        return cls(
            call_id=request.headers.call_id,
            local_tag=from_.tag or "",
            remote_tag=to.tag or "",
            local_uri=_untagged(from_),
            remote_uri=_untagged(to),
            remote_target=_target(response.headers.contact, request.method),
            route_set=reversed(response.headers.record_route),
            local_cseq=cseq.number,
            secure=_is_sips(request.uri),
            local_contact=local_contact,
            state=DialogState.CONFIRMED if code >= 200 else DialogState.EARLY,
        )

    @property
    def id(self) -> DialogId:
        return DialogId(self.call_id, self.local_tag, self.remote_tag)

    @property
    def terminated(self) -> bool:
        return self.state is DialogState.TERMINATED

    def __repr__(self) -> str:
        return f"<Dialog {self.call_id} {self.local_tag}/{self.remote_tag} {self.state.value}>"

    # The one state setter (STYLE item 3).

    def _set_state(self, state: DialogState) -> None:
        old = self.state
        if state not in self.transitions[old]:
            raise InvalidStateError(
                f"dialog {self.call_id} cannot go from {old.value} to {state.value}", state=old.value
            )
        self.state = state
        logger.debug("dialog %s %s/%s: %s -> %s", self.call_id, self.local_tag, self.remote_tag, old.value, state.value)

    def confirm(self, response: Response | None = None) -> None:
        """A 2xx confirms an early dialog; at the UAC its route set and target are taken from the 2xx (§12.1.2)."""
        if response is not None:
            self.route_set = list(reversed(response.headers.record_route))
            self.refresh_target(response)
        if self.state is not DialogState.CONFIRMED:
            self._set_state(DialogState.CONFIRMED)

    def terminate(self) -> None:
        if self.state is not DialogState.TERMINATED:
            self._set_state(DialogState.TERMINATED)

    # Receiving (§12.2.2).

    def receive_request(self, request: Request) -> int | None:
        """Checks and records the remote CSeq of an in-dialog request; returns 500 when it is out of order."""
        cseq = request.headers.cseq
        if cseq is None or request.method in ("ACK", "CANCEL"):
            return None
        if self.remote_cseq is not None and cseq.number < self.remote_cseq:
            logger.info("dialog %s: CSeq %d below %d", self.call_id, cseq.number, self.remote_cseq)
            return 500
        self.remote_cseq = cseq.number
        return None

    def refresh_target(self, message: Request | Response) -> None:
        """A target refresh request or its 2xx replaces the remote target with its Contact (§12.2)."""
        contacts = message.headers.contact
        if contacts:
            self.remote_target = contacts[0].uri

    # Sending (§12.2.1.1).

    @property
    def next_hop(self) -> Uri:
        """Where in-dialog requests are sent: the first route, else the remote target (§8.1.2)."""
        return self.route_set[0].uri if self.route_set else self.remote_target

    def request_target(self) -> tuple[Uri, list[NameAddr]]:
        """The Request-URI and Route values of an in-dialog request: loose routing keeps the target in the
        Request-URI; a strict router (no `lr`) gets it, and the target goes to the end of the Route list."""
        if not self.route_set:
            return self.remote_target, []
        first = self.route_set[0].uri
        if not isinstance(first, SipUri) or first.has_param("lr"):
            return self.remote_target, list(self.route_set)
        params = tuple(p for p in first.params if p[0].lower() not in _NOT_IN_REQUEST_URI)
        return replace(first, params=params, headers=()), [*self.route_set[1:], NameAddr(self.remote_target)]

    def create_request(
        self,
        method: str,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> Request:
        """A new in-dialog request (BYE, re-INVITE, INFO, REFER, NOTIFY...) with the next local CSeq; no Via."""
        if method in ("ACK", "CANCEL"):
            raise ValueError(f"{method} takes the CSeq of the request it belongs to; use create_ack or build it")
        if self.terminated and method != "BYE":
            raise InvalidStateError(f"dialog {self.call_id} is Terminated", state=self.state.value)
        self.local_cseq = 1 if self.local_cseq is None else self.local_cseq + 1
        if self.local_cseq > MAX_CSEQ:
            raise InvalidStateError(f"dialog {self.call_id} ran out of CSeq numbers", state=self.state.value)
        return self._build(method, self.local_cseq, body, content_type, headers)

    def create_ack(self, cseq_number: int, *, body: bytes = b"", content_type: str | None = None) -> Request:
        """The ACK of a 2xx: a request of its own, with the INVITE's CSeq number (§13.2.2.4)."""
        return self._build("ACK", cseq_number, body, content_type, ())

    def _build(
        self, method: str, number: int, body: bytes, content_type: str | None, extra: Iterable[tuple[str, str]]
    ) -> Request:
        uri, routes = self.request_target()
        headers = Headers()
        headers.add("Max-Forwards", "70")
        headers.add("From", str(self.local_uri.with_tag(self.local_tag)) if self.local_tag else str(self.local_uri))
        headers.add("To", str(self.remote_uri.with_tag(self.remote_tag)) if self.remote_tag else str(self.remote_uri))
        headers.add("Call-ID", self.call_id)
        headers.add("CSeq", f"{number} {method}")
        for route in routes:
            headers.add("Route", str(route))
        if self.local_contact is not None and method in TARGET_REFRESH_METHODS:
            headers.add("Contact", str(self.local_contact))
        for name, value in extra:
            headers.add(name, value)
        if body and content_type is not None:
            headers.add("Content-Type", content_type)
        return Request(method, uri, headers, body)


def _untagged(address: NameAddr) -> NameAddr:
    return replace(address, params=tuple(p for p in address.params if p[0].lower() != "tag"))


def _target(contacts: list[NameAddr], method: str) -> Uri:
    if not contacts:
        raise ValueError(f"a dialog-creating {method} or its response has no Contact (§12.1)")
    return contacts[0].uri


def _is_sips(uri: Uri) -> bool:
    return isinstance(uri, SipUri) and uri.scheme == "sips"
