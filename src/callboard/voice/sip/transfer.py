"""The REFER usages of one INVITE dialog (RFC 3515, RFC 5057 §2): transfers the far end asks of us, whose progress
we report in NOTIFYs, and transfers we ask of it, whose NOTIFYs become `TransferProgress` events.

Each REFER creates an implicit subscription named by its CSeq number (the `id` of the Event header, RFC 3515
§2.4.6, sent on every NOTIFY so that several transfers in one dialog stay apart).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from .call_events import TransferProgress, TransferRequested
from .client_transaction import ClientTransaction
from .errors import SipParseError
from .message import Request, Response
from .reasons import reason_phrase
from .refer import SIPFRAG, EventHeader, ReferTo, ReplacesTarget, SubscriptionState, parse_sipfrag, sipfrag
from .server_transaction import ServerTransaction
from .transaction import Transaction
from .uri import NameAddr, Uri

if TYPE_CHECKING:
    from .invite_session import InviteSession

__all__ = ["REFER_EXPIRES", "ReferUsages", "SubscriptionPhase"]

logger = logging.getLogger(__name__)

# The lifetime our NOTIFYs give a REFER subscription; a transfer is settled well within it.
REFER_EXPIRES = 180


class SubscriptionPhase(Enum):
    """An implicit REFER subscription: Active until its final status is sent (or heard), then Terminated."""

    ACTIVE = "Active"
    TERMINATED = "Terminated"


@dataclass
class _Notifier:
    """A REFER we accepted: its progress goes out as NOTIFYs, one at a time (a later status waits, or replaces
    a waiting one, so that the far end never sees them out of order)."""

    refer_id: int
    phase: SubscriptionPhase = SubscriptionPhase.ACTIVE
    final_reported: bool = False
    in_flight: Request | None = None
    waiting: tuple[int, str] | None = None


@dataclass
class _Referral:
    """A REFER we sent: the NOTIFYs of its subscription tell how the far end's call goes."""

    refer_id: int
    request: Request
    phase: SubscriptionPhase = SubscriptionPhase.ACTIVE


class ReferUsages:
    """The transfers of one call, both ways; the session hands it REFER, NOTIFY and their responses."""

    def __init__(self, session: InviteSession) -> None:
        # The session owns these usages: a weak reference back leaves no cycle, so an ended call is freed at once.
        self.session = weakref.proxy(session)
        self._notifiers: dict[int, _Notifier] = {}
        self._referrals: dict[int, _Referral] = {}
        self._sending: _Referral | None = None  # a REFER inside send_request, whose failure must wait to be told

    @property
    def pending(self) -> list[int]:
        """The ids of the transfers asked of us whose final status is not reported yet."""
        return [n.refer_id for n in self._notifiers.values() if not n.final_reported]

    def end(self) -> None:
        """The call is over: its subscriptions end with it."""
        self._notifiers.clear()
        self._referrals.clear()

    # Transfers asked of us (we are the transferee).

    def receive_refer(self, tx: ServerTransaction, request: Request) -> None:
        session, ua = self.session, self.session.ua
        values = request.headers.get_all("Refer-To")
        if len(values) != 1:
            ua.respond(tx, request, 400, reason="Missing Refer-To" if not values else "More Than One Refer-To")
            return
        try:
            refer_to = ReferTo.parse(values[0])
        except SipParseError as exc:
            ua.respond(tx, request, 400, reason=f"Bad Refer-To: {exc.reason}")
            return
        if refer_to.method != "INVITE":
            ua.respond(tx, request, 501, reason="Only INVITE Referrals")
            return
        cseq = request.headers.cseq
        refer_id = cseq.number if cseq is not None else 0
        ua.respond(tx, request, 202, to_tag=session.local_tag)
        notifier = self._notifiers[refer_id] = _Notifier(refer_id)
        self._notify(notifier, 100, "Trying")  # RFC 3515 §2.4.4: the subscription's state at once
        event = TransferRequested(ua.clock.now(), refer_to.target, refer_to.replaces, _referred_by(request), refer_id)
        session._emit(event)

    def report(self, status_code: int, reason: str | None = None, refer_id: int | None = None) -> bool:
        """Sends the status of the call made for a transfer; False when nobody is listening any more."""
        if not 100 <= status_code < 700:
            raise ValueError(f"{status_code} is not a SIP status")
        if refer_id is None:
            pending = self.pending
            refer_id = pending[-1] if pending else None
        notifier = self._notifiers.get(refer_id) if refer_id is not None else None
        if notifier is None or notifier.final_reported or not self.session.in_dialog:
            logger.info("call %s: transfer %s: status %d not sent", self.session.call_id, refer_id, status_code)
            return False
        self._notify(notifier, status_code, reason or reason_phrase(status_code))
        return True

    def _notify(self, notifier: _Notifier, status_code: int, reason: str) -> None:
        notifier.final_reported = notifier.final_reported or status_code >= 200
        if notifier.in_flight is not None:
            notifier.waiting = (status_code, reason)
            return
        final = status_code >= 200
        state = "terminated;reason=noresource" if final else f"active;expires={REFER_EXPIRES}"
        headers = [("Event", f"refer;id={notifier.refer_id}"), ("Subscription-State", state)]
        notifier.in_flight = self.session._dialog().create_request(
            "NOTIFY", body=sipfrag(status_code, reason), content_type=SIPFRAG, headers=headers
        )
        self.session.ua.send_request(notifier.in_flight, self.session, self.session._next_hop())

    def _notify_done(self, notifier: _Notifier, response: Response | None) -> None:
        notifier.in_flight = None
        if response is None or response.status_code >= 300:
            # RFC 6665 §4.2.2: a failed NOTIFY (481 above all) ends the subscription; so does no answer.
            self._terminate_notifier(notifier)
            return
        if notifier.waiting is not None:
            waiting, notifier.waiting = notifier.waiting, None
            self._notify(notifier, *waiting)
        elif notifier.final_reported:
            self._terminate_notifier(notifier)

    def _terminate_notifier(self, notifier: _Notifier) -> None:
        notifier.phase = SubscriptionPhase.TERMINATED
        self._notifiers.pop(notifier.refer_id, None)

    # Transfers we ask (we are the transferor).

    def refer(
        self,
        target: Uri,
        *,
        replaces: ReplacesTarget | None = None,
        referred_by: NameAddr | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> int:
        extra = [("Refer-To", ReferTo.format(target, replaces))]
        if referred_by is not None:
            extra.append(("Referred-By", str(referred_by)))
        request = self.session._dialog().create_request("REFER", headers=[*extra, *headers])
        cseq = request.headers.cseq
        refer_id = cseq.number if cseq is not None else 0
        self._referrals[refer_id] = self._sending = _Referral(refer_id, request)
        try:
            self.session.ua.send_request(request, self.session, self.session._next_hop())
        finally:
            self._sending = None
        return refer_id

    def receive_notify(self, tx: ServerTransaction, request: Request) -> None:
        ua = self.session.ua
        try:
            event = EventHeader.parse(request.headers.get("Event") or "")
            state = SubscriptionState.parse(request.headers.get("Subscription-State") or "")
        except SipParseError as exc:
            ua.respond(tx, request, 400, reason=f"Bad {exc.field}")
            return
        if event.package != "refer":
            ua.respond(tx, request, 489)  # RFC 6665 §8.3.1: not an event package of this dialog
            return
        referral = self._referral_for(event.id)
        if referral is None:
            ua.respond(tx, request, 481, reason="Subscription Does Not Exist")
            return
        try:
            status_code, _ = parse_sipfrag(request.body)
        except SipParseError:
            ua.respond(tx, request, 400, reason="Bad message/sipfrag")
            return
        ua.respond(tx, request, 200, to_tag=self.session.local_tag)
        final = status_code >= 200 or state.terminated
        if final:
            referral.phase = SubscriptionPhase.TERMINATED
            self._referrals.pop(referral.refer_id, None)
        self.session._emit(TransferProgress(ua.clock.now(), status_code, final, referral.refer_id))

    def _referral_for(self, id_param: str | None) -> _Referral | None:
        if id_param is None:
            # RFC 3515 §2.4.6: the id may be left out while the dialog has had one REFER only.
            return next(reversed(self._referrals.values()), None)
        if not id_param.isdigit():
            return None
        return self._referrals.get(int(id_param))

    # Responses to our REFERs and NOTIFYs; False when the transaction is not one of ours.

    def on_response(self, tx: ClientTransaction, response: Response) -> bool:
        if response.status_code < 200:
            return self._owns(tx)
        return self._finished(tx, response, response.status_code)

    def on_failure(self, tx: Transaction, status_code: int) -> bool:
        """No answer to one of our requests (408), or a transport error (503, RFC 3261 §8.1.3.1)."""
        return self._finished(tx, None, status_code)

    def _owns(self, tx: Transaction) -> bool:
        return any(n.in_flight is tx.request for n in self._notifiers.values()) or any(
            r.request is tx.request for r in self._referrals.values()
        )

    def _finished(self, tx: Transaction, response: Response | None, code: int) -> bool:
        for notifier in list(self._notifiers.values()):
            if notifier.in_flight is tx.request:
                self._notify_done(notifier, response)
                return True
        for referral in list(self._referrals.values()):
            if referral.request is tx.request:
                if code >= 300:
                    # Refused (or unanswered): no subscription, so nothing more will come.
                    self._referrals.pop(referral.refer_id, None)
                    referral.phase = SubscriptionPhase.TERMINATED
                    self._progress(referral, code, later=referral is self._sending)
                return True
        return False

    def _progress(self, referral: _Referral, code: int, *, later: bool) -> None:
        ua = self.session.ua
        event = TransferProgress(ua.clock.now(), code, True, referral.refer_id)
        if later:
            # Failed inside transfer(): told once it has returned the id its caller waits on.
            ua.scheduler.call_at(ua.clock.now(), lambda: self.session._emit(event))
        else:
            self.session._emit(event)


def _referred_by(request: Request) -> NameAddr | None:
    value = request.headers.get("Referred-By")
    if value is None:
        return None
    try:
        return NameAddr.parse(value, "Referred-By")
    except SipParseError:
        return None
