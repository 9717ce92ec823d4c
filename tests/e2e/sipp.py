"""Running SIPp (Debian's sip-tester) as a real peer: bounded in time, output kept for the assertion message."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from conftest import require_peer

LOOPBACK = "127.0.0.1"
LIMIT = 30.0  # seconds; every scenario also bounds itself with -timeout


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
