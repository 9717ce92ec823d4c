"""The calls on agents' desk phones as the page sees and steers them, by worker: an offer ringing the phone
(`ringing`, while `ring_agent` rings it), then the caller talking to the agent's `DeskLeg` (`talking`, from
when the owner bridges them until the leg ends). The server does not own the phone: answering, declining and
muting stay on the phone (409 `answer_on_phone`, `mute_on_phone`); the rest is done by the server on the legs
(hold, hang-up, transfers, consultation, conference, digits toward the caller).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from callboard.core.errors import InvalidStateError, ValidationError
from callboard.voice.calls.consult import Consultation
from callboard.voice.calls.desk_leg import DeskLeg
from callboard.voice.calls.events import DTMF_SYMBOLS, Hangup, LegEvent
from callboard.voice.calls.leg import Leg, LegState
from callboard.voice.calls.webrtc_line import Ring

if TYPE_CHECKING:
    from callboard.voice.calls.monitoring import Monitoring

__all__ = ["DeskCall", "DeskPhones", "DeskState"]

logger = logging.getLogger(__name__)

MAX_DIGITS = 32
DIGIT_GAP = 0.1  # seconds between digits sent to the caller, after each digit's own 100 ms


class DeskState(enum.Enum):
    RINGING = "ringing"  # the offer rings the phone
    TALKING = "talking"  # the phone answered and the caller is with the agent (or held, or consulting)


@dataclass(eq=False)
class DeskCall:
    """A call of one agent's desk phone: as it rang, and the agent's leg once answered."""

    worker_sid: str
    ring: Ring
    state: DeskState = DeskState.RINGING
    leg: DeskLeg | None = None


class DeskPhones:
    """Each agent's current desk-phone call, and the page's call control on it."""

    def __init__(self) -> None:
        self.calls: dict[str, DeskCall] = {}
        self.monitoring: Monitoring | None = None  # the calls' conferences (the B2BUA's)
        # calls a colleague, a queue or a number for a consultation (the B2BUA's `dial_colleague`)
        self.dial_colleague: Callable[[Ring, str], Awaitable[Leg]] | None = None

    def get(self, worker_sid: str) -> DeskCall | None:
        return self.calls.get(worker_sid)

    @contextlib.contextmanager
    def ringing(self, worker_sid: str, ring: Ring) -> Iterator[None]:
        """The offer `ring` rings the worker's phone for the duration of the block."""
        entry = DeskCall(worker_sid, ring)
        current = self.calls.get(worker_sid)
        if current is None or current.state is DeskState.RINGING:
            self.calls[worker_sid] = entry
        try:
            yield
        finally:
            if self.calls.get(worker_sid) is entry:
                del self.calls[worker_sid]

    def talking(self, worker_sid: str, leg: DeskLeg, ring: Ring) -> None:
        """The caller of `ring` talks to the agent on `leg` until it ends."""
        if leg.state is LegState.ENDED:
            return
        entry = self.calls[worker_sid] = DeskCall(worker_sid, ring, DeskState.TALKING, leg)

        def ended(event: LegEvent) -> None:
            if isinstance(event, Hangup) and self.calls.get(worker_sid) is entry:
                del self.calls[worker_sid]

        leg.subscribe(ended)
        logger.info("worker %s talks to %s on the desk phone (%s)", worker_sid, ring.caller, ring.call_sid)

    def view(self, worker_sid: str) -> dict[str, Any]:
        """The desk phone's line as the page shows it (idle between calls): the shape of a browser line's."""
        entry = self.calls.get(worker_sid)
        leg = entry.leg if entry is not None else None
        audio = leg.media.audio if leg is not None else None
        consult = leg.consultation if leg is not None else None
        ringing = entry is not None and entry.state is DeskState.RINGING
        return {
            "worker_sid": worker_sid,
            "device": "sip",
            "state": "idle" if entry is None else entry.state.value,
            "codec": audio.codec.name.upper() if audio is not None else None,
            "connection": None,
            "ringing": entry.ring.view() if entry is not None and ringing else None,
            "call": entry.ring.view() if entry is not None else None,
            "held": leg is not None and leg.held_by_far_end,
            "muted": False,
            "consult": None if consult is None or consult.state == "ended" else consult.view(),
        }

    def line_view(self, worker_sid: str) -> dict[str, Any]:
        return self.view(worker_sid)

    def _call(self, worker_sid: str) -> tuple[DeskLeg, Ring]:
        entry = self.calls.get(worker_sid)
        leg = entry.leg if entry is not None else None
        if entry is None or leg is None or leg.state is LegState.ENDED:
            state = entry.state.value if entry is not None else "idle"
            message = f"worker {worker_sid}: no call on the desk phone"
            raise InvalidStateError(message, error_id="line_not_talking", state=state)
        return leg, entry.ring

    # -- what stays on the phone

    def answer(self, worker_sid: str) -> dict[str, Any]:
        raise _on_phone(worker_sid, "answer_on_phone", "answer or decline the call on the desk phone")

    def reject(self, worker_sid: str) -> dict[str, Any]:
        raise _on_phone(worker_sid, "answer_on_phone", "answer or decline the call on the desk phone")

    def mute(self, worker_sid: str, muted: bool) -> dict[str, Any]:
        raise _on_phone(worker_sid, "mute_on_phone", "mute the desk phone on the phone itself")

    # -- what the server does on the legs

    async def hang_up(self, worker_sid: str) -> dict[str, Any]:
        """BYE to the phone; the call's owner then ends the caller's side (the agent goes to wrap-up)."""
        leg, _ = self._call(worker_sid)
        leg.end_by_agent()
        await leg.wait_ended()
        return self.view(worker_sid)

    def hold(self, worker_sid: str, held: bool) -> dict[str, Any]:
        """The caller hears music on hold and the phone silence (no re-INVITE: the phone need not agree)."""
        self._call(worker_sid)[0].hold_caller(held)
        return self.view(worker_sid)

    async def dtmf(self, worker_sid: str, digits: str) -> dict[str, Any]:
        """Sends RFC 4733 digits to the caller, one after the other."""
        leg, _ = self._call(worker_sid)
        if not digits or len(digits) > MAX_DIGITS or any(d not in DTMF_SYMBOLS for d in digits.upper()):
            raise ValidationError("digits are 0-9, *, #, A-D", error_id="invalid_digits", field="digits")
        caller = leg.peer
        if caller is None or caller.state is not LegState.BRIDGED:
            raise InvalidStateError(f"{leg!r}: the caller is on hold", error_id="caller_on_hold", state="held")
        for index, digit in enumerate(digits.upper()):
            if index:
                await asyncio.sleep(DIGIT_GAP)
            await caller.session.send_dtmf(digit)
        return self.view(worker_sid)

    async def transfer(self, worker_sid: str, target: str) -> int:
        """A blind transfer of the caller to an agent, a queue or a number: the outcome's status (see
        `WebRtcLines.transfer`); after a success the phone gets a BYE."""
        return await self._call(worker_sid)[0].ask_transfer(target)

    async def consult(self, worker_sid: str, target: str) -> dict[str, Any]:
        """Holds the caller and calls `target`, then connects it to the desk phone; returns once it answered."""
        leg, ring = self._call(worker_sid)
        dial = self.dial_colleague
        if dial is None:
            raise InvalidStateError("this node cannot place calls", error_id="consult_failed", state="idle")
        await Consultation.start(leg, target, lambda: dial(ring, target))
        return self.view(worker_sid)

    async def consult_cancel(self, worker_sid: str) -> dict[str, Any]:
        await Consultation.of(self._call(worker_sid)[0]).cancel()
        return self.view(worker_sid)

    async def consult_complete(self, worker_sid: str) -> int:
        return await Consultation.of(self._call(worker_sid)[0]).complete()

    def conference(self, worker_sid: str) -> dict[str, Any]:
        leg, ring = self._call(worker_sid)
        consultation = Consultation.of(leg)
        monitoring = self.monitoring
        if monitoring is None:
            raise InvalidStateError(f"{leg!r}: no conference here", error_id="consult_failed", state="talking")
        consultation.join(lambda customer: monitoring.conference(ring.call_sid, customer))
        return self.view(worker_sid)


def _on_phone(worker_sid: str, error_id: str, message: str) -> InvalidStateError:
    return InvalidStateError(f"worker {worker_sid}: {message}", error_id=error_id, state="sip")
