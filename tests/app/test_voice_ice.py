"""The voice node hands `CALLBOARD_ICE_SERVERS` to the agents' and the supervisors' browser lines."""

from __future__ import annotations

import json
from pathlib import Path

from callboard.app.center import Center
from callboard.app.voice import VoiceNode
from callboard.config.settings import Settings
from callboard.core.clock import SystemClock
from callboard.voice.calls.webrtc_line import IceServer
from conftest import Database

SERVERS = [
    {"urls": "stun:stun.example.net:3478"},
    {"urls": ["turn:turn.example.net:3478"], "username": "callboard", "credential": "s3cret"},
]


async def test_the_browser_lines_gather_from_the_configured_servers(database: Database, tmp_path: Path) -> None:
    settings = Settings(
        sip_port=0, sip_transports="udp", recordings_dir=str(tmp_path / "recordings"), rtp_port_min=25200,
        rtp_port_max=25300, ice_servers=json.dumps(SERVERS),
    )  # fmt: skip
    store = await database.open()
    await store.migrate()
    center = await Center.start(store, SystemClock(), timers=False)
    node = await VoiceNode.start(settings, center)
    try:
        expected = (
            IceServer(("stun:stun.example.net:3478",)),
            IceServer(("turn:turn.example.net:3478",), "callboard", "s3cret"),
        )
        assert node.b2bua.lines.ice_servers == expected
        assert node.b2bua.monitoring.lines.ice_servers == expected
    finally:
        await node.stop()
        await center.stop()
        await store.close()
