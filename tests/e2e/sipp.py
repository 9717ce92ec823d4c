"""Running SIPp (Debian's sip-tester) as a real peer: bounded in time, output kept for the assertion message."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

from conftest import require_peer

LOOPBACK = "127.0.0.1"
LIMIT = 30.0  # seconds; every scenario also bounds itself with -timeout


def free_udp_port() -> int:
    """A UDP port free now on loopback (for a SIPp UAS to listen on)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def free_media_port() -> int:
    """An even UDP port free now, with the next one free too (a SIPp media port; RTCP takes the next)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((LOOPBACK, 0))
            port = int(probe.getsockname()[1]) & ~1
        try:
            with (
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a,
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b,
            ):
                a.bind((LOOPBACK, port))
                b.bind((LOOPBACK, port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no free even UDP port pair")


def require_sipp() -> None:
    require_peer("sipp", shutil.which("sipp") is not None, "apt-get install sip-tester")


async def start_sipp(*args: str, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        "sipp", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=cwd
    )


async def finish_sipp(process: asyncio.subprocess.Process) -> tuple[int, str]:
    """Wait for SIPp to end (killing it past LIMIT seconds); its exit code and what it printed."""
    try:
        output, _ = await asyncio.wait_for(process.communicate(), LIMIT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


async def run_sipp(*args: str, cwd: Path) -> tuple[int, str]:
    return await finish_sipp(await start_sipp(*args, cwd=cwd))
