"""The agent's phone in the page: call control on the agent's current call, on either of its devices.

An agent whose worker attribute `phone` is `webrtc` takes calls in the page: the page opens its worker's line
once the agent is logged in (its SDP offer in, the server's answer out, both with every ICE candidate: no
trickle) and keeps it until logout (DELETE). A call offered to the agent rings the line: the page sees
`reservation.created` on the stream, shows the caller and answers or rejects here; the call then flows over
the line. Any other agent takes calls on their desk phone (registered SIP phones): the page shows that call
(`device: "sip"`) and steers it through the server, which holds, transfers and hangs up on the call's legs;
answering, declining and muting stay on the phone (409 `answer_on_phone`, `mute_on_phone`). Only the agent
opens, closes and answers their own line; staff may also steer a call on it (hold, hang up, transfer).

Before it builds its peer connection the page reads `GET .../phone/config`: the STUN and TURN servers
(`CALLBOARD_ICE_SERVERS`) the server's side of the line uses too, TURN credentials included, which is why they
are given only to the signed-in agent and staff, never in a static file.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from callboard.api.access import Member, Scope
from callboard.api.auth import denied
from callboard.api.errors import ServiceUnavailableError
from callboard.api.urls import WORKSPACE
from callboard.core.errors import ConflictError, NotFoundError
from callboard.voice.calls.errors import DialError

WEBRTC = "webrtc"  # the worker attribute `phone` of an agent taking calls in the page

router = APIRouter(prefix=f"{WORKSPACE}/workers/{{worker_sid}}/phone", tags=["phone"])

Line = dict[str, Any]


class PhonePort(Protocol):
    """The voice node's agents' phones, by worker sid (`app/` hands the B2BUA's `AgentPhones`): each action goes
    to the agent's current call, on the desk phone or on the browser line."""

    async def open_line(self, worker_sid: str, offer: str) -> str: ...

    async def close_line(self, worker_sid: str) -> bool: ...

    def line_view(self, worker_sid: str) -> Line: ...

    def desk_view(self, worker_sid: str) -> Line: ...

    def answer(self, worker_sid: str) -> Line: ...

    def reject(self, worker_sid: str) -> Line: ...

    async def hang_up(self, worker_sid: str) -> Line: ...

    def hold(self, worker_sid: str, held: bool) -> Line: ...

    def mute(self, worker_sid: str, muted: bool) -> Line: ...

    async def dtmf(self, worker_sid: str, digits: str) -> Line: ...

    async def transfer(self, worker_sid: str, target: str) -> int: ...

    async def consult(self, worker_sid: str, target: str) -> Line: ...

    async def consult_cancel(self, worker_sid: str) -> Line: ...

    async def consult_complete(self, worker_sid: str) -> int: ...

    def conference(self, worker_sid: str) -> Line: ...

    async def dial(self, workspace_sid: str, worker_sid: str, target: str) -> dict[str, Any]: ...


def get_phone(request: Request) -> PhonePort:
    phone: PhonePort | None = getattr(request.app.state, "phone", None)
    if phone is None:
        raise ServiceUnavailableError("this server runs no voice node", error_id="phone_unavailable")
    return phone


Phone = Annotated[PhonePort, Depends(get_phone)]


class LineOffer(BaseModel):
    """The page's SDP offer for its line, with every ICE candidate gathered."""

    sdp: str = Field(min_length=1, max_length=65536)
    type: Literal["offer"] = "offer"


class Digits(BaseModel):
    digits: str = Field(min_length=1, max_length=32, description="0-9, *, #, A-D; sent one after the other")


class TransferTarget(BaseModel):
    target: str = Field(
        min_length=1, max_length=200, description="A queue's or an agent's name (worker or user), or a number"
    )


class DialTarget(BaseModel):
    number: str = Field(
        min_length=1, max_length=200, description="A number (through the trunk) or a colleague's name (worker or user)"
    )


def _worker(scope: Scope, worker_sid: str) -> str:
    if worker_sid not in scope.engine.workers:
        raise NotFoundError(f"no worker {worker_sid}", error_id="worker_not_found", sid=worker_sid)
    return worker_sid


def own_line(scope: Member, worker_sid: str) -> str:
    """Only the agent itself opens, closes and answers its line (not even an admin: it carries their voice)."""
    if scope.principal.worker_sid != worker_sid:
        raise denied("only the agent may use their own line")
    return _worker(scope, worker_sid)


def steered_line(scope: Member, worker_sid: str) -> str:
    """The agent, or staff, steer the call on the line."""
    scope.require_worker(worker_sid)
    return _worker(scope, worker_sid)


Own = Annotated[str, Depends(own_line)]
Steered = Annotated[str, Depends(steered_line)]


def get_ice_servers(request: Request) -> list[dict[str, Any]]:
    """The ICE servers `app/` put in the application's state (none when it put nothing there)."""
    servers: list[dict[str, Any]] = getattr(request.app.state, "ice_servers", None) or []
    return servers


IceServers = Annotated[list[dict[str, Any]], Depends(get_ice_servers)]


@router.get("/config")
async def line_config(worker: Steered, servers: IceServers, response: Response) -> dict[str, Any]:
    """What the page needs to open the line: `ice_servers`, the STUN and TURN servers for its RTCPeerConnection
    (each `{"urls": [...]}`, TURN with `username` and `credential`), empty on a LAN. Given to the agent and staff,
    and not to be cached (TURN credentials)."""
    response.headers["Cache-Control"] = "no-store"
    return {"ice_servers": [dict(server) for server in servers]}


@router.post("")
async def open_line(body: LineOffer, worker: Own, phone: Phone) -> dict[str, Any]:
    """Opens the agent's line (a new one replaces the old, as when the page reloads): the server's SDP answer."""
    answer = await phone.open_line(worker, body.sdp)
    return {"type": "answer", "sdp": answer, "line": phone.line_view(worker)}


@router.get("")
async def get_line(worker: Steered, scope: Member, phone: Phone) -> Line:
    """The agent's line: `device` (`webrtc`: the page's line; `sip`: the desk phone), `state` (idle, ringing,
    connecting, talking, closed), the call ringing and the call on it (`call`: caller, call, task), `held`,
    `muted`, the codec, the consultation. An agent on a desk phone has one between calls too (idle)."""
    try:
        return phone.line_view(worker)
    except NotFoundError as exc:
        attributes = scope.engine.workers[worker].attributes
        if exc.error_id != "line_not_open" or attributes.get("phone") == WEBRTC:
            raise
        return phone.desk_view(worker)


@router.delete("", status_code=204)
async def close_line(worker: Own, phone: Phone) -> None:
    """Closes the line (logout); a call on it is hung up."""
    if not await phone.close_line(worker):
        raise NotFoundError(f"worker {worker} has no line open", error_id="line_not_open", sid=worker)


@router.post("/answer")
async def answer(worker: Own, phone: Phone) -> Line:
    """Answers the call ringing the line: the reservation is accepted and the caller is put through. A desk
    phone's call is answered on the phone: 409 `answer_on_phone`."""
    return phone.answer(worker)


@router.post("/reject")
async def reject(worker: Own, phone: Phone) -> Line:
    """Rejects the call ringing the line: the reservation is rejected, the call is offered to someone else. A
    desk phone's call is declined on the phone (or its reservation rejected): 409 `answer_on_phone`."""
    return phone.reject(worker)


@router.post("/hangup")
async def hang_up(worker: Steered, phone: Phone) -> Line:
    """Hangs up the call on the line (the agent goes to wrap-up); a desk phone's call ends with a BYE to the
    phone and to the caller."""
    return await phone.hang_up(worker)


@router.post("/hold")
async def hold(worker: Steered, phone: Phone) -> Line:
    """Puts the caller on hold: music on hold, the recording pauses. The agent hears silence; a desk phone
    need not take part (no re-INVITE)."""
    return phone.hold(worker, True)


@router.post("/resume")
async def resume(worker: Steered, phone: Phone) -> Line:
    return phone.hold(worker, False)


@router.post("/mute")
async def mute(worker: Own, phone: Phone) -> Line:
    """The caller hears silence from the agent (the recording too) until unmuted. A desk phone mutes on the
    phone: 409 `mute_on_phone` (`unmute` too)."""
    return phone.mute(worker, True)


@router.post("/unmute")
async def unmute(worker: Own, phone: Phone) -> Line:
    return phone.mute(worker, False)


@router.post("/dtmf")
async def dtmf(body: Digits, worker: Own, phone: Phone) -> Line:
    """Sends keypad digits to the caller (RFC 4733 toward a SIP far end). On a desk phone's call, 409
    `caller_on_hold` while the caller is held."""
    return await phone.dtmf(worker, body.digits)


@router.post("/transfer")
async def transfer(body: TransferTarget, worker: Steered, phone: Phone) -> dict[str, Any]:
    """Blind transfer of the caller to an agent, a queue (the task moves there) or a number (through the trunk,
    once it answers). The agent's call ends and it goes to wrap-up."""
    status = await phone.transfer(worker, body.target)
    if status == 404:
        raise NotFoundError(
            f"no queue, agent or number {body.target!r}", error_id="transfer_target_not_found", target=body.target
        )
    if not 200 <= status < 300:
        raise ConflictError(
            f"the transfer to {body.target} failed ({status})", error_id="transfer_failed", status=status
        )
    return {"transferred": True, "target": body.target}


FAILED_CALL = {"busy": 486, "rejected": 603, "no_answer": 480}


@router.post("/consult")
async def consult(body: TransferTarget, worker: Steered, phone: Phone) -> Line:
    """Consultative transfer, first step: the caller is put on hold (music) and `target` (an agent, on their page
    or their phones, or a number through the trunk) is called; answers once it picked up, the agent talking to it
    (`consult.state` is `talking`). 404 `consult_target_not_found`; 409 `consult_failed` when it did not answer
    (`details.status` 480, 486, 603, 503), the caller then being back with the agent."""
    try:
        return await phone.consult(worker, body.target)
    except DialError as exc:
        status = FAILED_CALL.get(exc.cause.value, 503)
        raise ConflictError(
            f"{body.target} was not reached ({exc.cause.value})", error_id="consult_failed", status=status
        ) from None


@router.post("/consult/cancel")
async def consult_cancel(worker: Steered, phone: Phone) -> Line:
    """Ends the call to the consulted target; the caller comes off hold, back with the agent."""
    return await phone.consult_cancel(worker)


@router.post("/consult/complete")
async def consult_complete(worker: Steered, phone: Phone) -> dict[str, Any]:
    """Completes the transfer: the caller is connected to the consulted target, the agent's call ends (wrap-up)."""
    status = await phone.consult_complete(worker)
    if not 200 <= status < 300:
        raise ConflictError(f"the transfer failed ({status})", error_id="transfer_failed", status=status)
    return {"transferred": True}


@router.post("/conference")
async def conference(worker: Steered, phone: Phone) -> Line:
    """The caller, the agent and the consulted target together (`consult.state` is `conference`); then
    `consult/complete` leaves the two others talking, `consult/cancel` drops the target, `hangup` ends it all."""
    return phone.conference(worker)


@router.post("/dial")
async def dial(body: DialTarget, worker: Own, scope: Member, phone: Phone) -> dict[str, Any]:
    """The agent calls a number (through the trunk) or a colleague from the page (click-to-call): the call rings
    in the background, the line is `connecting` until it answers, then `talking`. The call has a record (direction
    `outbound`, or `internal` to a colleague) and a task assigned to the agent at once (busy in routing, wrap-up
    after). Answers `{"call_sid", "task_sid", "line"}`; 404 `dial_target_not_found`; 409 `line_busy` (a call is
    ringing or on the line), `agent_not_available` (the agent is not available for calls)."""
    return await phone.dial(scope.sid, worker, body.number)
