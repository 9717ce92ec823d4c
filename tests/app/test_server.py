"""The composition root: the API served beside the voice node tells the node when the IVR changes, so a number
added over the API answers the next call without a restart."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import uvicorn

from callboard.app.apply import apply_center
from callboard.app.center import Center
from callboard.app.server import serve
from callboard.app.voice import VoiceNode
from callboard.config.center import load_center_text
from callboard.config.settings import Settings

CENTER = """
version: 1
workspaces:
  - name: acme
    default_activity: Offline
    timeout_activity: Offline
    activities: [{name: Offline, available: false}, {name: Available, available: true}]
    channels: [{name: voice, capacity: 1}]
    queues: [{name: support, target_workers: '1 == 1'}]
    workflows:
      - name: inbound
        configuration: {task_routing: {filters: [], default_filter: {queue: support}}}
users:
  - {username: admin, role: admin, password: admin-pw}
"""
NUMBER = "+34910000555"
FLOW = {"nodes": {"queue": {"type": "enqueue", "workflow": "inbound"}}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_number_put_over_the_api_reaches_the_running_voice_node(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
        port=free_port(),
        sip_port=0,
        sip_transports="udp",
        rtp_port_min=27000,
        rtp_port_max=27998,
        recordings_dir=str(tmp_path / "recordings"),
    )
    found: list[object] = []

    async def before(center: Center) -> None:
        await apply_center(center, load_center_text(CENTER, "acme.yaml"))

    async def beside(center: Center, server: uvicorn.Server, voice: VoiceNode | None) -> None:
        try:
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
                await asyncio.sleep(0.02)
            assert voice is not None and voice.ivr is not None
            assert await voice.ivr.number(NUMBER) is None  # the node has looked, and remembers: no such number
            base = f"http://127.0.0.1:{settings.port}/api/v1"
            async with httpx.AsyncClient(base_url=base) as client:
                login = await client.post("/auth/login", json={"username": "admin", "password": "admin-pw"})
                assert login.status_code == 200, login.text
                client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
                assert (await client.put("/workspaces/acme/flows/main", json=FLOW)).status_code == 201
                body = {"site": "madrid", "flow": "main", "time_zone": "Europe/Madrid", "language": "es"}
                added = await client.put(f"/workspaces/acme/numbers/{NUMBER}", json=body)
                assert added.status_code == 201, added.text
            reached = await voice.ivr.number(NUMBER)
            assert reached is not None
            found.append(reached[1])
        finally:
            server.should_exit = True

    await serve(settings, before=before, beside=beside)
    assert len(found) == 1 and found[0].language == "es"  # type: ignore[attr-defined]
    assert settings.tts_cache == tmp_path / "tts-cache"  # beside the recordings, shared by the API and the node
