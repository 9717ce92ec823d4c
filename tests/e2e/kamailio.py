"""Kamailio as a SIP proxy in front of Callboard: it record-routes, so every in-dialog request of a call
(ACK, BYE in both directions) must go through it, and it logs each request it relays."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from conftest import require_peer

LOOPBACK = "127.0.0.1"
MODULE_DIRS = ("/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/aarch64-linux-gnu/kamailio/modules",
               "/usr/lib/kamailio/modules", "/usr/local/lib64/kamailio/modules")  # fmt: skip

CONFIG = """#!KAMAILIO
debug=2
log_stderror=yes
children=2
auto_aliases=no
listen=udp:{host}:{port}
mpath="{modules}"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "siputils.so"
loadmodule "textops.so"

request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    xlog("L_NOTICE", "relay $rm from $si:$sp to $ru\\n");
    if (has_totag()) {{
        if (loose_route()) {{
            t_relay();
            exit;
        }}
        if (is_method("ACK") && t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    record_route();
    $du = "sip:{target_host}:{target_port}";
    t_relay();
}}
"""


def modules() -> Path | None:
    return next((Path(d) for d in MODULE_DIRS if (Path(d) / "tm.so").exists()), None)


def require_kamailio() -> None:
    require_peer("kamailio", shutil.which("kamailio") is not None and modules() is not None, "apt-get install kamailio")


@asynccontextmanager
async def kamailio_proxy(workdir: Path, port: int, target: tuple[str, int]) -> AsyncIterator[Path]:
    """Runs Kamailio on `port` relaying new requests to `target`; yields the path of its log."""
    config = workdir / "kamailio.cfg"
    config.write_text(
        CONFIG.format(host=LOOPBACK, port=port, modules=modules(), target_host=target[0], target_port=target[1])
    )
    log = workdir / "kamailio.log"
    run = workdir / "kamailio-run"
    run.mkdir()
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *["kamailio", "-f", str(config), "-DD", "-E", "-Y", str(run), "-m", "64", "-M", "8"],
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    try:
        await _ready(port, process, log)
        yield log
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _ready(port: int, process: asyncio.subprocess.Process, log: Path) -> None:
    """Waits until Kamailio answers: an OPTIONS with Max-Forwards 0 gets its own 483."""
    probe = (
        f"OPTIONS sip:probe@{LOOPBACK}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {LOOPBACK}:9;branch=z9hG4bKprobe;rport\r\n"
        f"Max-Forwards: 0\r\nFrom: <sip:probe@{LOOPBACK}>;tag=p\r\nTo: <sip:probe@{LOOPBACK}>\r\n"
        "Call-ID: probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.setblocking(False)
        for _ in range(100):
            if process.returncode is not None:
                raise AssertionError(f"kamailio exited:\n{_text(log)}")
            sock.sendto(probe, (LOOPBACK, port))
            try:
                data = await asyncio.wait_for(loop.sock_recv(sock, 4096), 0.1)
            except TimeoutError:
                continue
            if data.startswith(b"SIP/2.0 483"):
                return
    raise AssertionError(f"kamailio does not answer on {port}:\n{_text(log)}")


def _text(log: Path) -> str:
    return log.read_text(errors="replace")
