"""The browser lines of a node's agents, by worker: opened and closed by the agents' pages, rung by offers, and
the call control the page does on the call of its line (the API's phone port, implemented here)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from callboard.core.errors import InvalidStateError, NotFoundError, ValidationError
from callboard.voice.calls.consult import Consultation
from callboard.voice.calls.events import DTMF_SYMBOLS
from callboard.voice.calls.leg import Leg
from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.webrtc_line import IceServer, Ring, WebRtcLine

if TYPE_CHECKING:
    from callboard.voice.calls.monitoring import Monitoring

__all__ = ["WebRtcLines"]

logger = logging.getLogger(__name__)

MAX_DIGITS = 32
DIGIT_GAP = 0.2  # seconds between digits: a 100 ms digit, its end packets and a pause


class WebRtcLines:
    """Each worker's line (one at a time: a new one replaces the old, as when the page is reloaded)."""

    def __init__(self, settings: MediaSettings, *, ice_servers: Sequence[IceServer] = ()) -> None:
        self.settings = settings
        self.ice_servers = tuple(ice_servers)  # the STUN and TURN servers each new line gathers candidates from
        self.lines: dict[str, WebRtcLine] = {}
        self.monitoring: Monitoring | None = None  # supervisors on live calls (the API's monitor port)
        # calls a colleague, a queue or a number for a consultation of a call (the B2BUA's `dial_colleague`)
        self.dial_colleague: Callable[[Ring, str], Awaitable[Leg]] | None = None
        # places a call from the page: workspace, worker, target (the B2BUA's `PageDials.dial`)
        self.place_call: Callable[[str, str, str], Awaitable[dict[str, Any]]] | None = None

    def get(self, worker_sid: str) -> WebRtcLine | None:
        return self.lines.get(worker_sid)

    def line(self, worker_sid: str) -> WebRtcLine:
        found = self.lines.get(worker_sid)
        if found is None:
            raise NotFoundError(f"worker {worker_sid} has no line open", error_id="line_not_open", sid=worker_sid)
        return found

    async def open_line(self, worker_sid: str, offer: str) -> str:
        """Answers the page's offer (SDP) with the new line's answer; an older line of the worker is closed."""
        old = self.lines.pop(worker_sid, None)
        if old is not None:
            await old.close()
        line, answer = await WebRtcLine.open(worker_sid, offer, self.settings, ice_servers=self.ice_servers)
        self.lines[worker_sid] = line
        logger.info("worker %s opened a browser line (%s)", worker_sid, line.codec)
        return answer

    async def close_line(self, worker_sid: str) -> bool:
        line = self.lines.pop(worker_sid, None)
        if line is None:
            return False
        await line.close()
        return True

    def line_view(self, worker_sid: str) -> dict[str, Any]:
        return self.line(worker_sid).view()

    # -- call control from the page

    def answer(self, worker_sid: str) -> dict[str, Any]:
        self.line(worker_sid).answer()
        return self.line_view(worker_sid)

    def reject(self, worker_sid: str) -> dict[str, Any]:
        self.line(worker_sid).reject()
        return self.line_view(worker_sid)

    async def hang_up(self, worker_sid: str) -> dict[str, Any]:
        leg = self.line(worker_sid).talking(connecting=True)
        leg.hang_up_by_agent()
        await leg.wait_ended()
        return self.line_view(worker_sid)

    def hold(self, worker_sid: str, held: bool) -> dict[str, Any]:
        self.line(worker_sid).talking().hold_caller(held)
        return self.line_view(worker_sid)

    def mute(self, worker_sid: str, muted: bool) -> dict[str, Any]:
        line = self.line(worker_sid)
        line.talking()
        line.audio.muted = muted
        return self.line_view(worker_sid)

    async def dtmf(self, worker_sid: str, digits: str) -> dict[str, Any]:
        line = self.line(worker_sid)
        line.talking()
        if not digits or len(digits) > MAX_DIGITS or any(d not in DTMF_SYMBOLS for d in digits.upper()):
            raise ValidationError("digits are 0-9, *, #, A-D", error_id="invalid_digits", field="digits")
        for index, digit in enumerate(digits.upper()):
            if index:
                await asyncio.sleep(DIGIT_GAP)  # one digit at a time into the bridge, as a keypad sends them
            line.audio.press(digit)
        return self.line_view(worker_sid)

    async def transfer(self, worker_sid: str, target: str) -> int:
        """A blind transfer of the caller to an agent, a queue or a number: the outcome's status (200: done;
        404: no such target; 480, 486, 503: the number was not reached)."""
        return await self.line(worker_sid).talking().ask_transfer(target)

    async def dial(self, workspace_sid: str, worker_sid: str, target: str) -> dict[str, Any]:
        """The agent calls a number or a colleague from the page: `{"call_sid", "task_sid", "line"}`."""
        place = self.place_call
        if place is None:
            raise InvalidStateError("this node cannot place calls", error_id="dial_failed", state="idle")
        placed = await place(workspace_sid, worker_sid, target)
        return {**placed, "line": self.line_view(worker_sid)}

    # -- consultative transfer and conference

    async def consult(self, worker_sid: str, target: str) -> dict[str, Any]:
        """Holds the caller and calls `target` (an agent or a number) for the agent to talk to; returns once it
        answered. `DialError` when it did not, `NotFoundError` when there is no such agent or number."""
        line = self.line(worker_sid)
        leg = line.talking()
        dial, ring = self.dial_colleague, line.answered
        if dial is None or ring is None:
            raise InvalidStateError("this node cannot place calls", error_id="consult_failed", state="idle")
        await Consultation.start(leg, target, lambda: dial(ring, target))
        return self.line_view(worker_sid)

    def _consultation(self, worker_sid: str) -> tuple[WebRtcLine, Consultation]:
        line = self.line(worker_sid)
        return line, Consultation.of(line.talking())

    async def consult_cancel(self, worker_sid: str) -> dict[str, Any]:
        await self._consultation(worker_sid)[1].cancel()
        return self.line_view(worker_sid)

    async def consult_complete(self, worker_sid: str) -> int:
        """The caller goes to the consulted target, the agent's call ends: the transfer's final status."""
        return await self._consultation(worker_sid)[1].complete()

    def conference(self, worker_sid: str) -> dict[str, Any]:
        """The caller, the agent and the consulted target together."""
        line, consultation = self._consultation(worker_sid)
        monitoring, ring = self.monitoring, line.answered
        if monitoring is None or ring is None:
            raise InvalidStateError(f"{line!r}: no conference here", error_id="consult_failed", state="talking")
        consultation.join(lambda customer: monitoring.conference(ring.call_sid, customer))
        return self.line_view(worker_sid)

    async def close(self) -> None:
        """The node stops: every line closes."""
        for worker_sid in list(self.lines):
            await self.close_line(worker_sid)
