"""Supervising live calls over a fake monitor port: supervisors and admins open their own line and listen, whisper
and barge; agents get 403; modes are checked; the port is found through the agents' lines; no voice node: 503."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI

from callboard.core.errors import NotFoundError

from .api_support import Seed, error_id


class FakeMonitoring:
    """The voice node's monitoring as the API sees it: records what supervisors asked."""

    def __init__(self) -> None:
        self.lines: dict[str, str] = {}
        self.watching: dict[str, tuple[str, str]] = {}
        self.asked: list[tuple[Any, ...]] = []

    async def open_line(self, user_id: str, offer: str) -> str:
        self.lines[user_id] = offer
        return "v=0 answer"

    async def close_line(self, user_id: str) -> bool:
        self.watching.pop(user_id, None)
        return self.lines.pop(user_id, None) is not None

    def line_view(self, user_id: str) -> dict[str, Any]:
        if user_id not in self.lines:
            raise NotFoundError("no line", error_id="line_not_open")
        watch = self.watching.get(user_id)
        return {"user_id": user_id, "state": "idle", "monitoring": watch and {"call_sid": watch[0], "mode": watch[1]}}

    def monitor(self, user_id: str, call_sid: str, mode: str, *, workspace_sid: str | None = None) -> dict[str, Any]:
        self.line_view(user_id)
        if call_sid != "CA1":
            raise NotFoundError("no call", error_id="call_not_live")
        self.asked.append(("monitor", call_sid, mode, workspace_sid))
        self.watching[user_id] = (call_sid, mode)
        return self.view(call_sid)

    def set_mode(self, user_id: str, call_sid: str, mode: str) -> dict[str, Any]:
        if self.watching.get(user_id, ("",))[0] != call_sid:
            raise NotFoundError("not on it", error_id="not_monitoring")
        self.watching[user_id] = (call_sid, mode)
        return self.view(call_sid)

    def leave(self, user_id: str, call_sid: str) -> None:
        if self.watching.pop(user_id, ("",))[0] != call_sid:
            raise NotFoundError("not on it", error_id="not_monitoring")

    def view(self, call_sid: str) -> dict[str, Any]:
        monitors = [{"user_id": u, "mode": m} for u, (c, m) in self.watching.items() if c == call_sid]
        return {"call_sid": call_sid, "monitors": monitors, "connected": True}


@pytest.fixture
def monitoring(api: FastAPI) -> FakeMonitoring:
    fake = FakeMonitoring()
    api.state.phone = SimpleNamespace(monitoring=fake)  # found through the agents' lines, as `serve` wires it
    return fake


async def test_a_supervisor_listens_whispers_barges_and_leaves(seed: Seed, monitoring: FakeMonitoring) -> None:
    line, call = seed.url("/monitor/line"), seed.url("/calls/CA1/monitor")
    opened = await seed.supervisor.post(line, json={"type": "offer", "sdp": "v=0 offer"})
    assert opened.status_code == 200, opened.text
    assert opened.json()["sdp"] == "v=0 answer" and opened.json()["line"]["monitoring"] is None
    joined = await seed.supervisor.post(call, json={"mode": "listen"})
    assert joined.status_code == 200, joined.text
    sue = str(seed.users["supervisor"]["id"])
    assert joined.json()["monitors"] == [{"user_id": sue, "mode": "listen"}]
    assert monitoring.asked == [("monitor", "CA1", "listen", seed.ws)]
    for mode in ("whisper", "barge", "listen"):
        changed = await seed.supervisor.patch(call, json={"mode": mode})
        assert changed.json()["monitors"] == [{"user_id": sue, "mode": mode}], changed.text
    assert (await seed.supervisor.get(line)).json()["monitoring"] == {"call_sid": "CA1", "mode": "listen"}
    assert (await seed.supervisor.get(call)).json()["monitors"] == [{"user_id": sue, "mode": "listen"}]
    assert (await seed.supervisor.delete(call)).status_code == 204
    left = await seed.supervisor.delete(call)
    assert (left.status_code, error_id(left)) == (404, "not_monitoring")
    assert (await seed.supervisor.delete(line)).status_code == 204
    closed = await seed.supervisor.delete(line)
    assert (closed.status_code, error_id(closed)) == (404, "line_not_open")


async def test_agents_may_not_and_bad_requests(seed: Seed, monitoring: FakeMonitoring) -> None:
    line, call = seed.url("/monitor/line"), seed.url("/calls/CA1/monitor")
    for response in (
        await seed.agent.post(line, json={"type": "offer", "sdp": "v=0 offer"}),
        await seed.agent.post(call, json={"mode": "listen"}),
        await seed.agent.patch(call, json={"mode": "barge"}),
        await seed.agent.delete(call),
        await seed.agent.get(call),
    ):
        assert (response.status_code, error_id(response)) == (403, "permission_denied")
    assert (await seed.admin.post(line, json={"type": "offer", "sdp": "v=0 offer"})).status_code == 200
    assert (await seed.admin.post(call, json={"mode": "shout"})).status_code == 422
    gone = await seed.admin.post(seed.url("/calls/CA404/monitor"), json={"mode": "listen"})
    assert (gone.status_code, error_id(gone)) == (404, "call_not_live")
    assert (await seed.admin.post(call, json={"mode": "barge"})).status_code == 200


async def test_without_a_voice_node_monitoring_is_unavailable(seed: Seed) -> None:
    response = await seed.supervisor.post(seed.url("/calls/CA1/monitor"), json={"mode": "listen"})
    assert (response.status_code, error_id(response)) == (503, "phone_unavailable")


async def test_the_supervisor_page_reads_the_ice_servers_of_its_line(seed: Seed, api: FastAPI) -> None:
    turn = {"urls": ["turn:turn.example.net:3478"], "username": "callboard", "credential": "s3cret"}
    api.state.ice_servers = [turn]
    path = seed.url("/monitor/line/config")
    config = await seed.supervisor.get(path)
    assert config.status_code == 200, config.text
    assert config.json() == {"ice_servers": [turn]} and config.headers["cache-control"] == "no-store"
    assert (await seed.admin.get(path)).json() == {"ice_servers": [turn]}
    denied = await seed.agent.get(path)
    assert (denied.status_code, error_id(denied)) == (403, "permission_denied")
    api.state.ice_servers = []
    assert (await seed.supervisor.get(path)).json() == {"ice_servers": []}
