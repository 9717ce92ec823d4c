"""Live events over a WebSocket: subscribe to workspaces and event types, receive events as they are published.

Client messages: `{"action": "subscribe", "workspace_sid": ..., "event_types": ["task.*"]}` (glob
patterns, all types when omitted), `{"action": "unsubscribe", "workspace_sid": ...}`, `{"action": "ping"}`.
Server messages: `{"type": "event", "event": {...}}`, `{"type": "subscribed", ...}`,
`{"type": "unsubscribed", ...}`, `{"type": "pong"}` and `{"type": "error", "error": {...}}`.
An agent receives only the events about its own worker and its own reservations.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from callboard.api.auth import SESSION_COOKIE, Principal, authenticate, denied
from callboard.api.errors import describe, error_body
from callboard.api.ports import CenterPort, Subscription
from callboard.api.urls import V1
from callboard.core.errors import CallboardError
from callboard.core.events import Event

log = logging.getLogger(__name__)
router = APIRouter(tags=["stream"])

# Close codes in the application range (RFC 6455 section 7.4.2), after an error message says why.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class Listener:
    """One connection's subscriptions: which event types it wants from which workspaces."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.patterns: dict[str, tuple[str, ...]] = {}

    def accept(self, event: Event) -> bool:
        patterns = self.patterns.get(event.workspace_sid)
        if patterns is None or not any(fnmatchcase(event.name, p) for p in patterns):
            return False
        if not self.principal.is_agent:
            return True
        mine = self.principal.worker_sid
        if mine is None:
            return False
        return (event.resource_type == "worker" and event.resource_sid == mine) or event.data.get("worker_sid") == mine


def _cross_site(websocket: WebSocket) -> bool:
    """A browser sends the session cookie with a WebSocket opened by any page; only our own pages may use it."""
    origin = websocket.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc != websocket.headers.get("host")


async def _authenticate(center: CenterPort, websocket: WebSocket) -> Principal:
    api_token = websocket.query_params.get("token")
    cookie = websocket.cookies.get(SESSION_COOKIE)
    if api_token is None and cookie is not None and _cross_site(websocket):
        raise denied("a session cookie is only accepted from the application's own origin")
    return await authenticate(center, session_token=cookie, api_token=api_token)


@router.websocket(f"{V1}/stream")
async def stream(websocket: WebSocket) -> None:
    center: CenterPort = websocket.app.state.center
    await websocket.accept()
    try:
        principal = await _authenticate(center, websocket)
    except CallboardError as exc:
        await websocket.send_json(_error(describe(exc)))
        code = CLOSE_FORBIDDEN if exc.error_id == "permission_denied" else CLOSE_UNAUTHENTICATED
        await websocket.close(code=code)
        return
    listener = Listener(principal)
    subscription = center.bus.subscribe(listener.accept)
    sender = asyncio.create_task(_forward(websocket, subscription))
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            await websocket.send_json(_handle(center, listener, message.get("text") or message.get("bytes") or b""))
    except WebSocketDisconnect:
        pass
    finally:
        subscription.close()
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def _forward(websocket: WebSocket, subscription: Subscription) -> None:
    while True:
        event = await subscription.get()
        try:
            await websocket.send_json({"type": "event", "event": event.to_dict()})
        except (WebSocketDisconnect, RuntimeError):
            return  # the receive loop sees the disconnect and cleans up


def _handle(center: CenterPort, listener: Listener, text: str | bytes) -> dict[str, Any]:
    try:
        message = json.loads(text)
        if not isinstance(message, dict):
            raise ValueError("not an object")
    except ValueError:
        return _error(error_body("message_invalid", "send a JSON object with an action"))
    try:
        return _act(center, listener, message)
    except CallboardError as exc:
        return _error(describe(exc))


def _error(body: dict[str, Any]) -> dict[str, Any]:
    log.info("stream -> %s: %s", body["error"]["id"], body["error"]["message"])
    return {"type": "error", **body}


def _act(center: CenterPort, listener: Listener, message: dict[str, Any]) -> dict[str, Any]:
    action = message.get("action")
    if action == "ping":
        return {"type": "pong"}
    if action not in ("subscribe", "unsubscribe"):
        return _error(error_body("message_invalid", f"unknown action {action!r}", {"action": action}))
    ref = message.get("workspace_sid")
    if not isinstance(ref, str):
        return _error(error_body("message_invalid", "workspace_sid must be a string"))
    sid = center.workspace(ref).sid
    principal = listener.principal
    if principal.is_agent and principal.workspace_sid != sid:
        raise denied("agents may only reach their own workspace")
    if action == "unsubscribe":
        listener.patterns.pop(sid, None)
        return {"type": "unsubscribed", "workspace_sid": sid}
    types = message.get("event_types") or ["*"]
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        return _error(error_body("message_invalid", "event_types must be a list of strings"))
    listener.patterns[sid] = tuple(types)
    return {"type": "subscribed", "workspace_sid": sid, "event_types": types}
