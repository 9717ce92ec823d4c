"""The API's phone port: the page's call control on an agent's current call, whatever its device. An agent's
calls ring their browser line (`WebRtcLines`, worker attribute `phone: webrtc`) or their desk phone
(`DeskPhones`, the registered SIP phones); each action goes to the device of the call the agent has now: a call
ringing or talking on the desk phone first, else the browser line (404 `line_not_open` when neither).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from callboard.voice.calls.desk_phones import DeskPhones
from callboard.voice.calls.webrtc_lines import WebRtcLines

if TYPE_CHECKING:
    from callboard.voice.calls.monitoring import Monitoring

__all__ = ["AgentPhones"]


class AgentPhones:
    """Each agent's phone as the page steers it: the desk phone's call, or the browser line."""

    def __init__(self, lines: WebRtcLines, desks: DeskPhones) -> None:
        self.lines = lines
        self.desks = desks

    @property
    def monitoring(self) -> Monitoring | None:
        """Supervisors on live calls (the API's monitor port finds it here)."""
        return self.lines.monitoring

    def device(self, worker_sid: str) -> WebRtcLines | DeskPhones:
        """Where the agent's current call is."""
        return self.desks if self.desks.get(worker_sid) is not None else self.lines

    # -- the browser line itself

    async def open_line(self, worker_sid: str, offer: str) -> str:
        return await self.lines.open_line(worker_sid, offer)

    async def close_line(self, worker_sid: str) -> bool:
        return await self.lines.close_line(worker_sid)

    async def dial(self, workspace_sid: str, worker_sid: str, target: str) -> dict[str, Any]:
        return await self.lines.dial(workspace_sid, worker_sid, target)

    # -- the current call, on either device

    def line_view(self, worker_sid: str) -> dict[str, Any]:
        return self.device(worker_sid).line_view(worker_sid)

    def desk_view(self, worker_sid: str) -> dict[str, Any]:
        """The desk phone's line, idle between calls (for an agent whose calls ring their desk phone)."""
        return self.desks.view(worker_sid)

    def answer(self, worker_sid: str) -> dict[str, Any]:
        return self.device(worker_sid).answer(worker_sid)

    def reject(self, worker_sid: str) -> dict[str, Any]:
        return self.device(worker_sid).reject(worker_sid)

    async def hang_up(self, worker_sid: str) -> dict[str, Any]:
        return await self.device(worker_sid).hang_up(worker_sid)

    def hold(self, worker_sid: str, held: bool) -> dict[str, Any]:
        return self.device(worker_sid).hold(worker_sid, held)

    def mute(self, worker_sid: str, muted: bool) -> dict[str, Any]:
        return self.device(worker_sid).mute(worker_sid, muted)

    async def dtmf(self, worker_sid: str, digits: str) -> dict[str, Any]:
        return await self.device(worker_sid).dtmf(worker_sid, digits)

    async def transfer(self, worker_sid: str, target: str) -> int:
        return await self.device(worker_sid).transfer(worker_sid, target)

    async def consult(self, worker_sid: str, target: str) -> dict[str, Any]:
        return await self.device(worker_sid).consult(worker_sid, target)

    async def consult_cancel(self, worker_sid: str) -> dict[str, Any]:
        return await self.device(worker_sid).consult_cancel(worker_sid)

    async def consult_complete(self, worker_sid: str) -> int:
        return await self.device(worker_sid).consult_complete(worker_sid)

    def conference(self, worker_sid: str) -> dict[str, Any]:
        return self.device(worker_sid).conference(worker_sid)
