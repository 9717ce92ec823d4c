"""Supervisors on agents' live calls: listen (hears both sides, heard by no one), whisper (heard by the agent only)
and barge (a three-way conference), switched during the call and left without disturbing it.

A supervisor hears and speaks through a browser line of their own, as an agent's softphone but keyed by the
user, not by a worker: supervisors and admins need not have a worker. The line is opened once (`open_line`)
and joins one call at a time, through that call's `CallConference`; the API's monitor port is implemented here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from callboard.core.errors import ConflictError, NotFoundError, ValidationError
from callboard.voice.calls.conference import CallConference
from callboard.voice.calls.leg import Leg, LegState
from callboard.voice.calls.webrtc_line import LineState
from callboard.voice.calls.webrtc_lines import WebRtcLines
from callboard.voice.media.mixer import Role

__all__ = ["MODES", "LiveCall", "Monitoring"]

logger = logging.getLogger(__name__)

MODES = {"listen": Role.LISTEN, "whisper": Role.WHISPER, "barge": Role.NORMAL}


@dataclass(frozen=True, slots=True)
class LiveCall:
    """A call in progress as monitoring sees it: the customer's leg (whoever the agent talks to) and its workspace."""

    sid: str
    customer: Leg
    workspace_sid: str | None


@dataclass(slots=True)
class _Watch:
    call_sid: str
    mode: str


class Monitoring:
    """The supervisors' lines (by user id) and the conferences they are in (by call sid)."""

    def __init__(self, lines: WebRtcLines, find: Callable[[str], LiveCall | None]) -> None:
        self.lines = lines
        self.find = find
        self.conferences: dict[str, CallConference] = {}
        self.watching: dict[str, _Watch] = {}  # user id -> the call it monitors

    # -- the supervisor's line

    async def open_line(self, user_id: str, offer: str) -> str:
        self._leave_any(user_id)
        return await self.lines.open_line(user_id, offer)

    async def close_line(self, user_id: str) -> bool:
        self._leave_any(user_id)
        return await self.lines.close_line(user_id)

    def line_view(self, user_id: str) -> dict[str, Any]:
        line = self.lines.line(user_id)
        watch = self._watch(user_id)
        return {
            "user_id": user_id,
            "state": line.state.value,
            "codec": line.codec,
            "connection": line.pc.connectionState,
            "monitoring": None if watch is None else {"call_sid": watch.call_sid, "mode": watch.mode},
        }

    # -- joining calls

    def monitor(self, user_id: str, call_sid: str, mode: str, *, workspace_sid: str | None = None) -> dict[str, Any]:
        """The supervisor's line joins the call in `mode` (a call it already monitors: the mode changes)."""
        role = _role(mode)
        line = self.lines.line(user_id)
        watch = self._watch(user_id)
        if watch is not None and watch.call_sid == call_sid:
            return self.set_mode(user_id, call_sid, mode)
        if watch is not None:
            message = f"user {user_id} already monitors call {watch.call_sid}"
            raise ConflictError(message, error_id="already_monitoring", call_sid=watch.call_sid)
        call = self.find(call_sid)
        if (
            call is None
            or call.customer.state is LegState.ENDED
            or (workspace_sid is not None and call.workspace_sid != workspace_sid)
        ):
            raise NotFoundError(f"no call {call_sid} in progress", error_id="call_not_live", sid=call_sid)
        conference = self.conference(call_sid, call.customer)
        conference.join(
            _party(user_id), line.audio, line.audio, role, lambda: line.state is LineState.CLOSED
        )  # fmt: skip
        self.watching[user_id] = _Watch(call_sid, mode)
        logger.info("user %s monitors call %s (%s)", user_id, call_sid, mode)
        return self.view(call_sid)

    def conference(self, call_sid: str, customer: Leg) -> CallConference:
        """The call's conference (one per call, shared by supervisors and an agent's three-way call)."""
        conference = self.conferences.get(call_sid)
        if conference is None or conference.ended:
            clock = self.lines.settings.clock
            conference = self.conferences[call_sid] = CallConference(customer, clock, on_end=self._ended)
        return conference

    def set_mode(self, user_id: str, call_sid: str, mode: str) -> dict[str, Any]:
        role = _role(mode)
        watch = self._watching(user_id, call_sid)
        self.conferences[call_sid].set_role(_party(user_id), role)
        watch.mode = mode
        logger.info("user %s monitors call %s: now %s", user_id, call_sid, mode)
        return self.view(call_sid)

    def leave(self, user_id: str, call_sid: str) -> None:
        self._watching(user_id, call_sid)
        self._leave_any(user_id)

    def view(self, call_sid: str) -> dict[str, Any]:
        """Who monitors the call, and how."""
        monitors = [
            {"user_id": user, "mode": watch.mode} for user, watch in self.watching.items() if watch.call_sid == call_sid
        ]
        conference = self.conferences.get(call_sid)
        connected = conference is not None and conference.agent is not None
        return {"call_sid": call_sid, "monitors": monitors, "connected": connected}

    def _watch(self, user_id: str) -> _Watch | None:
        watch = self.watching.get(user_id)
        if watch is not None:
            conference = self.conferences.get(watch.call_sid)
            if conference is None or conference.ended or _party(user_id) not in conference.parties:
                self.watching.pop(user_id, None)  # the call ended, or the line closed meanwhile
                return None
        return watch

    def _watching(self, user_id: str, call_sid: str) -> _Watch:
        watch = self._watch(user_id)
        if watch is None or watch.call_sid != call_sid:
            raise NotFoundError(
                f"user {user_id} does not monitor call {call_sid}", error_id="not_monitoring", sid=call_sid
            )
        return watch

    def _leave_any(self, user_id: str) -> None:
        watch = self.watching.pop(user_id, None)
        conference = self.conferences.get(watch.call_sid) if watch is not None else None
        if conference is not None:
            conference.leave(_party(user_id))
            logger.info("user %s stopped monitoring call %s", user_id, conference.customer)

    def _ended(self, conference: CallConference) -> None:
        for call_sid, known in list(self.conferences.items()):
            if known is conference:
                del self.conferences[call_sid]
                for user, watch in list(self.watching.items()):
                    if watch.call_sid == call_sid:
                        del self.watching[user]

    async def close(self) -> None:
        for conference in list(self.conferences.values()):
            conference.end()
        await self.lines.close()


def _party(user_id: str) -> str:
    return f"supervisor:{user_id}"


def _role(mode: str) -> Role:
    role = MODES.get(mode)
    if role is None:
        raise ValidationError(f"mode is listen, whisper or barge, not {mode!r}", error_id="monitor_mode_invalid")
    return role
