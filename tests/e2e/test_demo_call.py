"""The issue's promise, on the demo a newcomer runs: a caller dials the demo center's 24-hour line (the number
`callboard demo` tells them to call; it has no business hours, so this passes at any hour), its contact flow
greets them, they press 1 for sales, wait in the queue, and talk to agent alice, whose phone (baresip,
registered with her demo password) rang; the call is recorded, its record is in the API, and only a supervisor
can download the recording."""

from __future__ import annotations

import asyncio
import re
import socket
import sys
from pathlib import Path

import httpx
import pytest
from audio import SILENCE_RMS, read_wav, rms, tone_share, write_tone
from baresip import baresip_phone, require_baresip
from call_center import AUDIO_PCAP, SCENARIOS, dtmf_pcap
from sipp import LOOPBACK, finish_sipp, free_media_port, require_sipp, start_sipp

from callboard.voice.media.g711 import alaw_encode
from conftest import require_peer

ROOT = Path(__file__).resolve().parents[2]
ANYTIME_LINE = "34900100200"  # +34 900 100 200 in examples/demo-center.yaml: flow around-the-clock, English
pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _peers() -> None:
    require_sipp()
    require_baresip()
    require_peer("sipp pcaps", AUDIO_PCAP is not None and dtmf_pcap("1") is not None, "sip-tester's pcaps")


def alaw_file(wav: Path, path: Path) -> Path:
    """The WAV's samples as raw A-law, what SIPp's rtp_stream sends in a loop."""
    samples, _ = read_wav(wav)
    path.write_bytes(alaw_encode(samples.tobytes()))
    return path


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


async def read_sip_port(demo: asyncio.subprocess.Process, seen: list[str]) -> int:
    assert demo.stdout is not None
    while True:
        line = (await demo.stdout.readline()).decode(errors="replace")
        if not line:
            raise AssertionError("the demo ended before it served:\n" + "".join(seen))
        seen.append(line)
        match = re.search(r"SIP \(UDP, TCP\)\s+sip:[\d.]+:(\d+)", line)
        if match:
            return int(match.group(1))


async def test_a_caller_reaches_alice_on_the_demo_center(tmp_path: Path) -> None:
    http_port = free_tcp_port()
    demo = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "callboard", "demo", "--port", str(http_port), "--data", str(tmp_path / "data")],
        *["--sip-port", "0", "--duration", "150", "--interarrival", "100000", "--seed", "3"],
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    seen: list[str] = []
    heard = tmp_path / "alice-heard.wav"
    alaw_file(write_tone(tmp_path / "caller.wav", 700, 2), tmp_path / "caller-voice.al")  # the SIPp scenario's
    try:
        sip_port = await asyncio.wait_for(read_sip_port(demo, seen), 60)
        async with baresip_phone(
            tmp_path, username="alice", password="agent", registrar=(LOOPBACK, sip_port),
            play=write_tone(tmp_path / "alice.wav", 440, 30), record=heard,
        ) as phone:  # fmt: skip
            await phone.wait_registered()
            caller = await start_sipp(
                *[f"{LOOPBACK}:{sip_port}", "-sf", str(SCENARIOS / "caller_stream_uac.xml"), "-s", ANYTIME_LINE],
                *["-key", "caller", "5550100", "-key", "dtmf", str(dtmf_pcap("1"))],
                *["-i", LOOPBACK, "-mi", LOOPBACK, "-p", "0", "-mp", str(free_media_port()), "-m", "1"],
                *["-timeout", "60s", "-timeout_error", "-nostdin"],
                cwd=tmp_path,
            )
            await phone.wait_log(r"[Cc]all established", timeout=60)
            await asyncio.sleep(2)
            await phone.command("hangup")
            code, output = await finish_sipp(caller)
            assert code == 0, output
        base = f"http://{LOOPBACK}:{http_port}/api/v1"
        async with (
            httpx.AsyncClient(base_url=base, timeout=10) as supervisor,
            httpx.AsyncClient(base_url=base, timeout=10) as agent,
        ):
            assert (
                await supervisor.post("/auth/login", json={"username": "supervisor", "password": "supervisor"})
            ).is_success
            assert (await agent.post("/auth/login", json={"username": "alice", "password": "agent"})).is_success
            calls = (await supervisor.get("/workspaces/demo/calls", params={"outcome": "completed"})).json()["items"]
            [call] = [c for c in calls if c["caller"] == "5550100"]
            alice = (await supervisor.get("/workspaces/demo/workers", params={"friendly_name": "alice"})).json()
            assert call["attributes"]["department"] == "sales" and call["hangup_by"] == "agent"
            assert call["attributes"]["number"] == "+" + ANYTIME_LINE and call["attributes"]["language"] == "en"
            assert call["worker_sid"] in {w["sid"] for w in alice["items"] if w["friendly_name"] == "alice"}
            wav = await supervisor.get(call["recording_url"].removeprefix("/api/v1"))
            assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav" and wav.content[:4] == b"RIFF"
            refused = await agent.get(f"/workspaces/demo/calls/{call['sid']}/recording")
            assert refused.status_code == 403 and refused.json()["error"]["id"]
        samples, _ = read_wav(heard)
        assert rms(samples) > SILENCE_RMS and tone_share(samples, 700) > 0.5  # alice heard the caller
    finally:
        if demo.returncode is None:
            demo.terminate()
            try:
                await asyncio.wait_for(demo.wait(), 20)
            except TimeoutError:
                demo.kill()
                await demo.wait()
