"""Running baresip (Debian's baresip-core) as a real agent phone: it registers with digest, auto-answers, plays a
WAV file as its microphone and keeps what it hears; headless, with no sound card, its log kept for assertions.

    async with baresip_phone(tmp_path, username="alice", password="pw", registrar=("127.0.0.1", port),
                             play=tone_wav, record=heard_wav) as phone:
        await phone.wait_registered()
        ...                                # call it; `await phone.command("hangup")` hangs up from the phone
    # here baresip has exited and `heard_wav` holds what it heard during its last call

What baresip 1.0 needs, found by running it (its documentation is thin):

- `net_interface 127.0.0.1`: otherwise its SDP advertises the first non-loopback interface, while its RTP comes
  from 127.0.0.1, and a symmetric-RTP latch that only trusts the signalled address (ours) drops every packet.
- `aufile` is a source only. Reaching the end of the WAV is an audio error that makes baresip hang up the
  call, so `play` must last longer than the call (or not, for a phone that hangs up by itself).
- What it hears is kept by the `sndfile` filter (`dump-<time>-dec.wav` in `snd_path`; `-enc.wav` is what it
  sent), finalised when the call's audio closes. No `audio_player` is needed: decoding and filters run anyway.
- It answers MD5 digest only, and fails outright ("Register: Function not implemented") when a 401 carries a
  SHA-256 challenge at all, even after an MD5 one (libre 1.1 stops at the first challenge it cannot answer).
- With a wrong password it retries on each fresh nonce (a burst of 16 REGISTERs) before logging
  `reg: <aor>: 401 Unauthorized`.
- `hangup`, `dial` and the other commands of the `ctrl_tcp` interface come from the `menu` module.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

from conftest import require_peer

LOOPBACK = "127.0.0.1"
LIMIT = 60  # seconds; baresip quits by itself after this (-t), should a test leave it running
WAIT = 10.0  # default bound of every wait on the phone
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
_FORBIDDEN_IN_PARAM = re.compile(r"[\s;,<>\"]")


MODULE_DIRS = ("/usr/lib/baresip/modules", "/usr/lib/*/baresip/modules", "/usr/local/lib/baresip/modules")


def module_path() -> Path | None:
    """Where baresip's modules are (its built-in default, ".", is relative to the current directory)."""
    for pattern in MODULE_DIRS:
        for directory in sorted(Path("/").glob(pattern.lstrip("/"))):
            if (directory / "g711.so").exists():
                return directory
    return None


def require_baresip() -> None:
    found = shutil.which("baresip") is not None and module_path() is not None
    require_peer("baresip", found, "apt-get install baresip-core")


def baresip_version() -> str:
    """The version baresip prints in its banner, e.g. "1.0.0"."""
    banner = subprocess.run(["baresip", "-h"], capture_output=True, text=True, timeout=10, check=False)
    match = re.search(r"baresip v(\S+)", banner.stdout + banner.stderr)
    return match.group(1) if match else "unknown"


def free_ports(count: int) -> int:
    """The first of `count` consecutive ports free now on the loopback for both UDP and TCP. baresip's
    sip_listen takes UDP and TCP on its port and TLS (TCP) on the next one. The ports are drawn outside the
    kernel's ephemeral range where it leaves room, so an outgoing connection of another process cannot take
    one between this check and baresip's bind (a port from bind(("", 0)) can be: CI once lost a phone to that)."""
    low, high = _ephemeral_range()
    below, above = range(max(1024, low - 12000), low - count), range(high + 1, 65536 - count)
    firsts = max(below, above, key=len) if max(len(below), len(above)) >= 1000 else range(1024, 65536 - count)
    for _ in range(200):
        first = random.choice(firsts)
        if all(_free(port) for port in range(first, first + count)):
            return first
    raise RuntimeError(f"no {count} consecutive free UDP and TCP ports in {firsts}")


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[:2]
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _free(port: int) -> bool:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind((LOOPBACK, port))
            except OSError:
                return False
    return True


class BaresipPhone:
    """One running baresip: its log, waits on what it logs, its control interface, and a clean stop."""

    def __init__(self, directory: Path, username: str, sip_port: int, ctrl_port: int, record: Path | None) -> None:
        self.directory = directory
        self.username = username
        self.sip_port = sip_port
        self.ctrl_port = ctrl_port
        self.record = record
        self.log_path = directory / "baresip.log"
        self.sounds = directory / "sounds"
        self.process: asyncio.subprocess.Process | None = None
        self._tokens = 0

    @property
    def address(self) -> tuple[str, int]:
        return LOOPBACK, self.sip_port

    @property
    def log(self) -> str:
        """What baresip printed so far, without its colours."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return _COLOUR.sub("", text)

    def __str__(self) -> str:
        """The log, for assertion messages."""
        return f"baresip log ({self.log_path}):\n{self.log}"

    async def wait_log(self, pattern: str, timeout: float = WAIT, *, unless: str | None = None) -> re.Match[str]:  # noqa: ASYNC109
        """The first log line matching `pattern`; AssertionError (with the log) when a line matches `unless`
        first, when baresip exits, or past `timeout` seconds."""
        wanted = re.compile(pattern, re.MULTILINE)
        failure = re.compile(unless, re.MULTILINE) if unless else None
        try:
            async with asyncio.timeout(timeout):
                while True:
                    log = self.log
                    if failure is not None and (bad := failure.search(log)):
                        raise AssertionError(f"baresip logged {bad.group(0)!r}\n{self}")
                    if match := wanted.search(log):
                        return match
                    if self.process is None or self.process.returncode is not None:
                        raise AssertionError(f"baresip exited before logging /{pattern}/\n{self}")
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(f"baresip did not log /{pattern}/ within {timeout} s\n{self}") from None

    def _registration(self) -> tuple[str, str]:
        aor = rf"sip:{re.escape(self.username)}@\S+"
        ok = rf"^{re.escape(self.username)}@\S+: \{{\d+/\w+/v\d\}} 200 OK .*$"
        failed = rf"^reg: {aor}: (?P<reason>.+)$"
        return ok, failed

    async def wait_registered(self, timeout: float = WAIT) -> str:  # noqa: ASYNC109
        """Waits for baresip's "200 OK [1 binding]" line (AssertionError if it logs a failure first)."""
        ok, failed = self._registration()
        return (await self.wait_log(ok, timeout, unless=failed)).group(0)

    async def wait_registration_failed(self, timeout: float = WAIT) -> str:  # noqa: ASYNC109
        """Waits for baresip to give up registering; the reason it logs, e.g. "401 Unauthorized ()"."""
        ok, failed = self._registration()
        return (await self.wait_log(failed, timeout, unless=ok)).group("reason")

    async def command(self, command: str, params: str = "", timeout: float = WAIT) -> str:  # noqa: ASYNC109
        """Runs a command of baresip's menu (`hangup`, `dial sip:...`, `answer`...) through ctrl_tcp's
        netstring-framed JSON; its output. AssertionError when baresip says it failed."""
        self._tokens += 1
        token = str(self._tokens)
        request = json.dumps({"command": command, "params": params, "token": token}).encode()
        async with asyncio.timeout(timeout):
            while True:
                try:
                    reader, writer = await asyncio.open_connection(LOOPBACK, self.ctrl_port)
                    break
                except ConnectionRefusedError:  # baresip is still starting
                    await asyncio.sleep(0.05)
            try:
                writer.write(b"%d:%s," % (len(request), request))
                await writer.drain()
                while True:  # events (CALL_CLOSED...) come on the same connection; skip them
                    length = int((await reader.readuntil(b":"))[:-1])
                    message = json.loads((await reader.readexactly(length + 1))[:-1])
                    if message.get("response") and message.get("token") == token:
                        break
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
        if not message.get("ok"):
            raise AssertionError(f"baresip command {command!r} failed: {message.get('data')!r}\n{self}")
        return str(message.get("data", ""))

    def recordings(self) -> list[Path]:
        """What baresip heard, one WAV per call in call order (complete once the call or baresip ended).
        sndfile names them by the second the call started: a call starting the same second overwrites."""
        return sorted(self.sounds.glob("dump-*-dec.wav"))

    async def stop(self, timeout: float = WAIT) -> int:  # noqa: ASYNC109
        """SIGTERM: baresip hangs up, unregisters and exits, which finalises its recordings; killed past
        `timeout`. Then the last call's recording goes to `record`. Its exit code; idempotent."""
        process = self.process
        if process is None:
            return 0
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(timeout):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        heard = self.recordings()
        if self.record is not None and heard:
            shutil.copyfile(heard[-1], self.record)
        assert process.returncode is not None
        return process.returncode


def _config(phone: BaresipPhone, play: Path, codecs: tuple[str, ...]) -> str:
    modules = "".join(f"module {name}.so\n" for name in codecs)
    return f"""\
# baresip for Callboard's end-to-end tests: headless, loopback only, no sound card
module_path {module_path()}
sip_listen {LOOPBACK}:{phone.sip_port}
net_interface {LOOPBACK}
audio_source aufile,{play}
snd_path {phone.sounds}
ctrl_tcp_listen {LOOPBACK}:{phone.ctrl_port}
statmode_default off
{modules}module aufile.so
module sndfile.so
module_tmp account.so
module_app menu.so
module_app ctrl_tcp.so
"""


def _account(username: str, password: str, registrar: tuple[str, int], regint: int, answermode: str) -> str:
    for name, value in (("username", username), ("password", password)):
        if not value or _FORBIDDEN_IN_PARAM.search(value):
            raise ValueError(f"{name} {value!r} cannot go unquoted in a baresip accounts line")
    host, port = registrar
    return f"<sip:{username}@{host}:{port}>;auth_pass={password};regint={regint};answermode={answermode}\n"


@contextlib.asynccontextmanager
async def baresip_phone(
    workdir: Path,
    *,
    username: str,
    password: str,
    registrar: tuple[str, int],
    play: Path,
    record: Path | None = None,
    regint: int = 600,
    answermode: str = "auto",
    limit: int = LIMIT,
    codecs: tuple[str, ...] = ("g711",),
) -> AsyncIterator[BaresipPhone]:
    """Starts baresip registering `username` at `registrar` (host, port: its AOR is sip:username@host), with
    `play` (an 8 kHz mono WAV longer than any call) as its microphone; stops it on the way out, leaving the
    decoded audio of its last call in `record`. `codecs` names the codec modules it loads, hence what it offers
    and accepts (`("g722",)`: G.722 only). Its config and log are in `workdir / "baresip-<username>"`."""
    require_baresip()
    directory = workdir / f"baresip-{username}"
    sip_port = free_ports(3)  # SIP over UDP and TCP, SIP over TLS, then the control port
    phone = BaresipPhone(directory, username, sip_port, sip_port + 2, record)
    phone.sounds.mkdir(parents=True)
    (directory / "config").write_text(_config(phone, play, codecs))
    (directory / "accounts").write_text(_account(username, password, registrar, regint, answermode))
    with phone.log_path.open("wb") as log:
        phone.process = await asyncio.create_subprocess_exec(
            *["baresip", "-f", str(directory), "-t", str(limit)],
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield phone
    finally:
        await phone.stop()
