"""`callboard demo` as a newcomer runs it: the server comes up, traffic flows through the engine."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_demo_serves_the_demo_center_with_live_traffic(tmp_path: Path) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "callboard",
        "demo",
        "--port",
        str(port),
        "--data",
        str(tmp_path / "data"),
        "--duration",
        "20",
        "--seed",
        "1",
        "--interarrival",
        "0.5",
        "--sip-port",
        "0",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            for _ in range(200):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            login = await client.post("/api/v1/auth/login", json={"username": "admin", "password": "admin"})
            assert login.status_code == 200
            accepted = 0
            for _ in range(100):
                stats = (await client.get("/api/v1/workspaces/demo/statistics")).json()
                accepted = stats["cumulative"]["reservations_accepted"]
                if accepted >= 3:
                    break
                await asyncio.sleep(0.2)
            assert accepted >= 3
            assert stats["realtime"]["total_workers"] == 12
            agent = httpx.AsyncClient(base_url=base, timeout=5)
            async with agent:
                me = await agent.post("/api/v1/auth/login", json={"username": "alice", "password": "agent"})
                assert me.status_code == 200 and me.json()["user"]["role"] == "agent"
        output, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = output.decode()
    assert proc.returncode == 0, text
    assert "admin / admin" in text and f"{base}/docs" in text
    assert "Demo traffic created" in text
