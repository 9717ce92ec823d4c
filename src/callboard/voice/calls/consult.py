"""A consultative (attended) transfer from the agent's page: the caller is put on hold (music), the agent calls a
colleague or a number and talks to them, then completes the transfer (the caller is connected to the one the
agent called, the agent wraps up), cancels it (that call ends, the agent has the caller back), or makes it a
conference (the three together through the conference mixer, until the agent completes or someone hangs up).

The agent's talk with the colleague is a bridge of its own between the line's audio and the colleague's leg, so
the call's legs and its recording (paused while the caller is on hold) are left as a hold leaves them. Completing
asks the call's owner for an attended transfer, as a desk phone's REFER with Replaces does (`transfers`), naming
this consultation's leg as the one the caller goes to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from callboard.core.errors import InvalidStateError
from callboard.voice.calls.conference import CallConference
from callboard.voice.calls.errors import LegEndedError
from callboard.voice.calls.events import Hangup, LegEvent
from callboard.voice.calls.leg import Leg, LegState
from callboard.voice.media.bridge import Bridge
from callboard.voice.media.mixer import Role

if TYPE_CHECKING:
    from callboard.voice.calls.steered_leg import SteeredLeg

__all__ = ["COLLEAGUE", "Consultation"]

logger = logging.getLogger(__name__)

COLLEAGUE = "colleague"


class Consultation:
    """The agent's call to `target` while the caller waits on hold; at most one per agent call."""

    def __init__(self, agent: SteeredLeg, target: str) -> None:
        self.agent = agent
        self.target = target
        self.leg: Leg | None = None
        self.state = "dialing"  # dialing, talking, conference, completing, ended (canceled: while it rang)
        self._bridge: Bridge | None = None
        self.conference: CallConference | None = None
        self._dialing: asyncio.Future[Leg] | None = None  # while the target rings

    @classmethod
    async def start(cls, agent: SteeredLeg, target: str, dial: Callable[[], Awaitable[Leg]]) -> Consultation:
        """The agent's new consultation of `target` (see `call`); `InvalidStateError` while one is going on."""
        going = agent.consultation
        if going is not None and going.state != "ended":
            message = f"{agent!r} is already consulting {going.target}"
            raise InvalidStateError(message, error_id="consult_in_progress", state=going.state)
        consultation = agent.consultation = cls(agent, target)
        await consultation.call(dial)
        return consultation

    @staticmethod
    def of(agent: SteeredLeg) -> Consultation:
        """The agent's consultation going on; `InvalidStateError` (`no_consultation`) when there is none."""
        consultation = agent.consultation
        if consultation is None or consultation.state == "ended":
            raise InvalidStateError(f"{agent!r} consults nobody", error_id="no_consultation", state="none")
        return consultation

    def view(self) -> dict[str, Any]:
        return {"target": self.target, "state": self.state}

    async def call(self, dial: Callable[[], Awaitable[Leg]]) -> None:
        """Holds the caller and calls the target; the agent talks to it once it answers. On failure the caller
        is taken back off hold and the error raised (`DialError`, `NotFoundError`, ...)."""
        self.agent.hold_caller(True)
        dialing = self._dialing = asyncio.ensure_future(dial())
        gone = asyncio.ensure_future(self.agent.wait_ended())
        try:
            await asyncio.wait({dialing, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._dialing = None
            gone.cancel()
            if not dialing.done():  # the call ended while the target rang (or the request went away)
                dialing.cancel()
                await asyncio.gather(dialing, return_exceptions=True)
        if dialing.cancelled():
            if self.state == "canceled" and self.agent.state is not LegState.ENDED:
                self.state = "ended"
                self._resume_caller()
                message = f"{self.agent!r} canceled the consultation while {self.target} rang"
                raise InvalidStateError(message, error_id="consult_canceled", state="ended")
            self.state = "ended"
            raise LegEndedError(f"{self.agent!r} ended while {self.target} rang", state="ended")
        try:
            leg = dialing.result()
        except BaseException:
            self.state = "ended"
            self._resume_caller()
            raise
        if self.agent.state is LegState.ENDED:
            self.state = "ended"
            await leg.hangup()
            raise LegEndedError(f"{self.agent!r} ended while {self.target} rang", state="ended")
        self.leg = leg
        self._bridge = Bridge(self.agent.session, leg.session)
        self._bridge.bridge()
        self.state = "talking"
        leg.subscribe(self._heard)
        logger.info("%r consults %s", self.agent, self.target)

    def _heard(self, event: LegEvent) -> None:
        if isinstance(event, Hangup) and self.state in ("talking", "conference"):
            logger.info("%r: %s hung up the consultation", self.agent, self.target)
            self._end_talk()
            self.state = "ended"
            self._resume_caller()

    def _end_talk(self) -> None:
        if self._bridge is not None:
            self._bridge.unbridge()
            self._bridge = None
        if self.conference is not None:
            self.conference.leave(COLLEAGUE)
            self.conference = None

    def _resume_caller(self) -> None:
        if self.agent.state is not LegState.ENDED and self.agent.far_end_held:
            self.agent.hold_caller(False)  # the owner's hold bridges the caller and the agent again

    async def cancel(self) -> None:
        """Ends the call to the target, ringing or answered; the agent has the caller back. While it rings, the
        ringing stops and the request that started the consultation ends with `consult_canceled`."""
        if self.state == "dialing" and self._dialing is not None:
            self.state = "canceled"
            self._dialing.cancel()
            return
        self._require("talking", "conference")
        self.state = "ended"
        self._end_talk()
        if self.leg is not None:
            self.leg.unsubscribe(self._heard)
            await self.leg.hangup()
        self._resume_caller()

    def join(self, conference: Callable[[Leg], CallConference]) -> None:
        """The caller, the agent and the target together: the caller comes off hold and the target joins the
        call's conference (`conference(customer)` gives it)."""
        self._require("talking")
        assert self.leg is not None
        if self._bridge is not None:
            self._bridge.unbridge()
            self._bridge = None
        self._resume_caller()
        customer = self.agent.peer
        if customer is None:
            raise InvalidStateError(f"{self.agent!r}: the caller is not back", error_id="consult_failed")
        leg = self.leg
        self.conference = conference(customer)
        self.conference.join(COLLEAGUE, leg.session, leg.session, Role.NORMAL, lambda: leg.state is LegState.ENDED)
        self.state = "conference"

    def hand_over(self) -> Leg | None:
        """For the owner's attended transfer: the target's leg, no longer talking with the agent (None: gone)."""
        if self.state not in ("talking", "conference", "completing") or self.leg is None:
            return None
        self.state = "completing"
        self._end_talk()
        self.leg.unsubscribe(self._heard)
        if self.leg.state is not LegState.ANSWERED:
            return None
        return self.leg

    async def complete(self) -> int:
        """The caller goes to the target and the agent leaves (wrap-up): the transfer's final status."""
        self._require("talking", "conference")
        self.state = "completing"
        try:
            status = await self.agent.ask_transfer(self.target, attended=True)
        except BaseException:
            self.state = "ended"
            raise
        if not 200 <= status < 300:
            self.state = "talking" if self._bridge is not None else "ended"
        else:
            self.state = "ended"
        return status

    async def close(self) -> None:
        """The agent's call ended: a consultation still going is hung up."""
        if self.state in ("talking", "conference") and self.leg is not None:
            self.state = "ended"
            self._end_talk()
            with contextlib.suppress(LegEndedError):
                await self.leg.hangup()

    def _require(self, *states: str) -> None:
        if self.state not in states:
            raise InvalidStateError(
                f"{self.agent!r}: the consultation is {self.state}", error_id="consult_invalid_state", state=self.state
            )
