"""The WebSocket stream: authentication, subscriptions with glob patterns, and what an agent may see."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from callboard.api.auth import SESSION_COOKIE
from callboard.app.center import Center

from .api_support import PASSWORD, Seed
from .wsclient import Closed, WebSocketClient

STREAM = "/api/v1/stream"


async def drain(ws: WebSocketClient, quiet: float = 0.2) -> list[dict[str, Any]]:
    """Every message until the stream has been quiet for `quiet` seconds."""
    found = []
    while True:
        try:
            found.append(await ws.receive(within=quiet))
        except TimeoutError:
            return found


async def test_an_admin_receives_task_created(seed: Seed, api: FastAPI) -> None:
    async with WebSocketClient(api, STREAM, query={"token": seed.tokens["admin"]}) as ws:
        subscribed = await ws.request({"action": "subscribe", "workspace_sid": "acme", "event_types": ["task.*"]})
        assert subscribed == {"type": "subscribed", "workspace_sid": seed.ws, "event_types": ["task.*"]}
        created = (
            await seed.admin.post(seed.url("/tasks"), json={"workflow_sid": seed.workflow, "task_channel": "voice"})
        ).json()
        messages = await drain(ws)
    assert messages[0]["type"] == "event"
    event = messages[0]["event"]
    assert event["event_type"] == "task.created" and event["resource_sid"] == created["sid"]
    assert event["workspace_sid"] == seed.ws and event["data"]["task_sid"] == created["sid"]
    assert all(m["event"]["event_type"].startswith("task.") for m in messages)


async def test_an_agent_receives_only_its_own_events(seed: Seed, api: FastAPI) -> None:
    async with WebSocketClient(api, STREAM, query={"token": seed.tokens["agent"]}) as ws:
        assert (await ws.request({"action": "subscribe", "workspace_sid": seed.ws}))["type"] == "subscribed"
        for worker in (seed.alice, seed.bob):
            await seed.admin.patch(seed.url(f"/workers/{worker}"), json={"activity_sid": seed.available})
        for kind in ("sales", "support"):  # bob gets the sales call, alice the support call
            body = {"workflow_sid": seed.workflow, "task_channel": "voice", "attributes": {"type": kind}}
            await seed.admin.post(seed.url("/tasks"), json=body)
        events = [m["event"] for m in await drain(ws)]

    names = [e["event_type"] for e in events]
    assert names.count("reservation.created") == 1 and "worker.activity.update" in names
    assert "task.created" not in names
    for event in events:
        assert event["resource_sid"] == seed.alice or event["data"]["worker_sid"] == seed.alice


async def test_session_cookie_authentication(seed: Seed, api: FastAPI, client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/auth/login", json={"username": "sue", "password": PASSWORD})
    cookie = f"{SESSION_COOKIE}={client.cookies[SESSION_COOKIE]}"
    same_site = {"cookie": cookie, "origin": "http://callboard.test"}
    async with WebSocketClient(api, STREAM, headers=same_site) as ws:
        assert await ws.request({"action": "ping"}) == {"type": "pong"}

    cross_site = {"cookie": cookie, "origin": "https://evil.example"}
    async with WebSocketClient(api, STREAM, headers=cross_site) as ws:
        refused = await ws.receive()
        assert refused["type"] == "error" and refused["error"]["id"] == "permission_denied"
        with pytest.raises(Closed) as closed:
            await ws.receive()
        assert closed.value.code == 4403


@pytest.mark.parametrize("query", [{}, {"token": "cb_forged"}])
async def test_unauthenticated_connections_are_told_and_closed(seed: Seed, api: FastAPI, query: dict[str, str]) -> None:
    async with WebSocketClient(api, STREAM, query=query) as ws:
        message = await ws.receive()
        assert message["type"] == "error"
        assert message["error"]["id"] in ("not_authenticated", "invalid_token")
        with pytest.raises(Closed) as closed:
            await ws.receive()
        assert closed.value.code == 4401


async def test_bad_messages_get_errors_in_the_contract(seed: Seed, api: FastAPI, center: Center) -> None:
    other = await center.create_workspace("elsewhere")
    async with WebSocketClient(api, STREAM, query={"token": seed.tokens["agent"]}) as ws:
        await ws.send_text("{not json")
        assert (await ws.receive())["error"]["id"] == "message_invalid"
        assert (await ws.request({"action": "dance"}))["error"]["id"] == "message_invalid"
        assert (await ws.request({"action": "subscribe"}))["error"]["id"] == "message_invalid"
        missing = await ws.request({"action": "subscribe", "workspace_sid": "nowhere"})
        assert missing["error"] == {
            "id": "workspace_not_found",
            "message": "no workspace nowhere",
            "details": {"sid": "nowhere"},
        }
        denied = await ws.request({"action": "subscribe", "workspace_sid": other.sid})
        assert denied["error"]["id"] == "permission_denied"
        assert await ws.request({"action": "ping"}) == {"type": "pong"}


async def test_unsubscribe_and_disconnect_release_the_subscription(seed: Seed, api: FastAPI, center: Center) -> None:
    before = center.bus.subscribers
    async with WebSocketClient(api, STREAM, query={"token": seed.tokens["admin"]}) as ws:
        await ws.request({"action": "subscribe", "workspace_sid": seed.ws})
        assert center.bus.subscribers == before + 1
        assert (await ws.request({"action": "unsubscribe", "workspace_sid": seed.ws}))["type"] == "unsubscribed"
        await seed.admin.post(seed.url("/tasks"), json={"workflow_sid": seed.workflow, "task_channel": "voice"})
        assert await drain(ws) == []
    await asyncio.sleep(0)
    assert center.bus.subscribers == before
