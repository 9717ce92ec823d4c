"""Supervisors on agents' live calls: listen, whisper (to the agent only) and barge (three-way), through the
voice node's conference mixer.

A supervisor hears and speaks through a WebRTC line of their own, keyed by their user (supervisors and admins
need not have a worker): the page opens it once (`POST .../monitor/line` with its SDP offer, as an agent's
softphone does) and then joins calls with it, one at a time. Supervisors and admins only; agents get 403.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from callboard.api.access import StaffScope
from callboard.api.errors import ServiceUnavailableError
from callboard.api.phone import IceServers
from callboard.api.urls import WORKSPACE
from callboard.core.errors import NotFoundError

router = APIRouter(prefix=WORKSPACE, tags=["monitor"])

View = dict[str, Any]
Mode = Literal["listen", "whisper", "barge"]


class MonitorPort(Protocol):
    """The voice node's supervisor lines and monitored calls (the B2BUA's `Monitoring`)."""

    async def open_line(self, user_id: str, offer: str) -> str: ...

    async def close_line(self, user_id: str) -> bool: ...

    def line_view(self, user_id: str) -> View: ...

    def monitor(self, user_id: str, call_sid: str, mode: str, *, workspace_sid: str | None = None) -> View: ...

    def set_mode(self, user_id: str, call_sid: str, mode: str) -> View: ...

    def leave(self, user_id: str, call_sid: str) -> None: ...

    def view(self, call_sid: str) -> View: ...


def get_monitor(request: Request) -> MonitorPort:
    """`app.state.monitor`, else the monitoring that the agents' lines (`app.state.phone`) carry."""
    state = request.app.state
    monitor: MonitorPort | None = getattr(state, "monitor", None)
    if monitor is None:
        monitor = getattr(getattr(state, "phone", None), "monitoring", None)
    if monitor is None:
        raise ServiceUnavailableError("this server runs no voice node", error_id="phone_unavailable")
    return monitor


Monitor = Annotated[MonitorPort, Depends(get_monitor)]


class LineOffer(BaseModel):
    """The supervisor page's SDP offer for its line, with every ICE candidate gathered."""

    sdp: str = Field(min_length=1, max_length=65536)
    type: Literal["offer"] = "offer"


class MonitorMode(BaseModel):
    mode: Mode = Field(description="listen: hear both; whisper: heard by the agent only; barge: three-way")


@router.post("/monitor/line")
async def open_line(body: LineOffer, scope: StaffScope, monitor: Monitor) -> dict[str, Any]:
    """Opens the supervisor's own line (a new one replaces the old): the server's SDP answer."""
    user = scope.principal.user_id
    answer = await monitor.open_line(user, body.sdp)
    return {"type": "answer", "sdp": answer, "line": monitor.line_view(user)}


@router.get("/monitor/line/config")
async def line_config(scope: StaffScope, servers: IceServers, response: Response) -> dict[str, Any]:
    """What the supervisor's page needs to open its line: `ice_servers`, as `.../phone/config` gives an agent's
    page (not to be cached: TURN credentials)."""
    response.headers["Cache-Control"] = "no-store"
    return {"ice_servers": [dict(server) for server in servers]}


@router.get("/monitor/line")
async def get_line(scope: StaffScope, monitor: Monitor) -> View:
    """The supervisor's line: `state`, `codec`, `connection`, and the call it monitors (`monitoring`)."""
    return monitor.line_view(scope.principal.user_id)


@router.delete("/monitor/line", status_code=204)
async def close_line(scope: StaffScope, monitor: Monitor) -> None:
    """Closes the supervisor's line; a call it monitors goes on without it."""
    user = scope.principal.user_id
    if not await monitor.close_line(user):
        raise NotFoundError(f"user {user} has no line open", error_id="line_not_open", sid=user)


@router.get("/calls/{call_sid}/monitor")
async def monitors(call_sid: str, scope: StaffScope, monitor: Monitor) -> View:
    """Who monitors the call, and in which mode."""
    return monitor.view(call_sid)


@router.post("/calls/{call_sid}/monitor")
async def start(call_sid: str, body: MonitorMode, scope: StaffScope, monitor: Monitor) -> View:
    """The supervisor's line joins the live call in `mode` (already on it: the mode changes)."""
    return monitor.monitor(scope.principal.user_id, call_sid, body.mode, workspace_sid=scope.sid)


@router.patch("/calls/{call_sid}/monitor")
async def change(call_sid: str, body: MonitorMode, scope: StaffScope, monitor: Monitor) -> View:
    """Switches between listen, whisper and barge during the call."""
    return monitor.set_mode(scope.principal.user_id, call_sid, body.mode)


@router.delete("/calls/{call_sid}/monitor", status_code=204)
async def stop(call_sid: str, scope: StaffScope, monitor: Monitor) -> None:
    """The supervisor leaves the call; the caller and the agent go on as before."""
    monitor.leave(scope.principal.user_id, call_sid)
