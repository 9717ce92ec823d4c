"""An offer rings its agent: the worker's registered phones ring in parallel for as long as the reservation
lasts, or, for a worker whose phone is the browser (`Offer.phone == "webrtc"`), their browser line; a refusal
is reported to the engine (busy or declined, or unreachable), and a ring that nobody answers
is left to the engine to time out. For an inbound caller's task and for a callback alike."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from callboard.core.errors import CallboardError
from callboard.voice.calls.desk_leg import DeskLeg
from callboard.voice.calls.errors import DialError
from callboard.voice.calls.events import HangupCause
from callboard.voice.calls.leg import Leg
from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.ports import Offer, RoutingPort
from callboard.voice.calls.ringing import RING_GRACE, ring_all
from callboard.voice.calls.webrtc_line import Ring
from callboard.voice.calls.webrtc_lines import WebRtcLines

if TYPE_CHECKING:
    from callboard.voice.calls.desk_phones import DeskPhones
from callboard.voice.sip.uri import NameAddr, SipUri
from callboard.voice.sip.user_agent import UserAgent

__all__ = ["reject_offer", "ring_agent"]

logger = logging.getLogger(__name__)

DECLINED = (HangupCause.BUSY, HangupCause.REJECTED)
WEBRTC = "webrtc"


async def ring_agent(
    routing: RoutingPort,
    ua: UserAgent,
    settings: MediaSettings,
    workspace_sid: str,
    offer: Offer,
    *,
    call_sid: str,
    from_: NameAddr,
    lines: WebRtcLines | None = None,
    desks: DeskPhones | None = None,
) -> Leg | None:
    """The agent's answered leg, or None once the engine has been told why not (no answer: nothing to tell,
    the reservation times out). The INVITE names the call and the task (`X-Callboard-*`). A desk phone's leg
    is a `DeskLeg`, shown ringing on the agent's page while it rings when `desks` is given."""
    res = offer.reservation_sid
    ringing: Awaitable[Leg]
    caller = (from_.uri.user if isinstance(from_.uri, SipUri) else None) or str(from_.uri)
    ring = Ring(res, offer.task_sid, call_sid, caller, from_.display_name, workspace_sid)
    shown: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if offer.phone == WEBRTC:
        line = lines.get(offer.worker_sid) if lines is not None else None
        if line is None:
            logger.info("call %s: worker %s has no browser line open", call_sid, offer.worker_sid)
            await reject_offer(routing, workspace_sid, res, unreachable=True)
            return None
        ringing = line.ring(ring, offer.ring_seconds + RING_GRACE)
    else:
        contacts = await routing.contacts(workspace_sid, offer.worker_sid)
        if not contacts:
            logger.info("call %s: worker %s has no phone registered", call_sid, offer.worker_sid)
            await reject_offer(routing, workspace_sid, res, unreachable=True)
            return None
        ringing = ring_all(
            ua,
            [(contact.uri, contact.destination) for contact in contacts],
            settings,
            ring_seconds=offer.ring_seconds + RING_GRACE,
            from_=from_,
            headers=[("X-Callboard-Call", call_sid), ("X-Callboard-Task", offer.task_sid)],
            leg_type=DeskLeg,
        )
        if desks is not None:
            shown = desks.ringing(offer.worker_sid, ring)
    try:
        with shown:
            return await ringing
    except DialError as exc:
        if exc.cause is not HangupCause.NO_ANSWER:
            await reject_offer(routing, workspace_sid, res, unreachable=exc.cause not in DECLINED)
    except (CallboardError, OSError) as exc:  # no RTP port, the transport failed...
        logger.info("call %s: ringing worker %s failed: %s", call_sid, offer.worker_sid, exc)
        await reject_offer(routing, workspace_sid, res, unreachable=True)
    return None


async def reject_offer(routing: RoutingPort, workspace_sid: str, reservation_sid: str, *, unreachable: bool) -> None:
    """Rejects the offer, unless it ended meanwhile."""
    try:
        await routing.reject(workspace_sid, reservation_sid, unreachable=unreachable)
    except CallboardError as exc:
        logger.info("reservation %s not rejected: %s", reservation_sid, exc)
