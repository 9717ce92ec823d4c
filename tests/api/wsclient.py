"""A WebSocket client that drives an ASGI app directly, on the test's own event loop.

Starlette's TestClient runs the app on a loop of its own thread, but the center, the bus and the database
connections of these tests live on the test's loop.
"""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from starlette.types import ASGIApp, Message


class Closed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"closed with code {code}")
        self.code = code


class WebSocketClient:
    def __init__(
        self, app: ASGIApp, path: str, *, query: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self._app = app
        self._scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": urlencode(query or {}).encode(),
            "headers": [
                (k.lower().encode(), v.encode()) for k, v in {"host": "callboard.test", **(headers or {})}.items()
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("callboard.test", 80),
            "subprotocols": [],
        }
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> WebSocketClient:
        self._task = asyncio.create_task(self._app(self._scope, self._to_app.get, self._from_app.put))
        await self._to_app.put({"type": "websocket.connect"})
        accepted = await self._next()
        assert accepted["type"] == "websocket.accept", accepted
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        assert self._task is not None
        await asyncio.wait_for(self._task, timeout=5)

    async def _next(self, within: float = 5) -> Message:
        return await asyncio.wait_for(self._from_app.get(), timeout=within)

    async def send(self, message: dict[str, Any]) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": json.dumps(message)})

    async def send_text(self, text: str) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": text})

    async def receive(self, within: float = 5) -> dict[str, Any]:
        """The next message the app sends; raises `TimeoutError` when none comes `within` seconds."""
        message = await self._next(within)
        if message["type"] == "websocket.close":
            raise Closed(message.get("code", 1000))
        assert message["type"] == "websocket.send", message
        return dict(json.loads(message["text"]))

    async def request(self, message: dict[str, Any]) -> dict[str, Any]:
        await self.send(message)
        return await self.receive()
