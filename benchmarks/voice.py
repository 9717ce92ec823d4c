"""Voice benchmarks: SIPp drives a Callboard voice server on 127.0.0.1 and the figures are printed at the end.

    .venv/bin/python benchmarks/voice.py cps        # 1. answer, play a 2 s prompt, hang up: calls per second
    .venv/bin/python benchmarks/voice.py hold       # 2. concurrent calls held 60 s with RTP both ways
    .venv/bin/python benchmarks/voice.py center     # 3. menu -> digit -> queue -> agent -> 10 s talk -> hang up
    .venv/bin/python benchmarks/voice.py overload   # 4. twice the clean rate against sip_max_calls

Each runs the server (`voice_server.py`) in a process of its own and reads its CPU time from /proc/PID/stat
at the start and end of the measured window; SIPp's own CPU time comes from wait4. Every load is bounded in
calls (`-m`) and in time (SIPp's `-timeout`, and a kill past a deadline). `--quick` runs a short version.
See docs/benchmarks.md ("Voice") for the method and the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import voice_scenarios as scenarios
from measuring import git_revision, load_average, machine

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
SIPP_SHARE = Path("/usr/share/sip-tester")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
LATE_GAP = 0.040  # seconds: a server RTP packet arriving more than two frame intervals after the previous is late


def sipp_file(name: str) -> str:
    for path in (SIPP_SHARE / "pcap" / name, SIPP_SHARE / name):
        if path.exists():
            return str(path)
    raise SystemExit(f"SIPp's {name} is missing (apt-get install sip-tester)")


def proc_times(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a running process, from /proc/PID/stat (fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def proc_cpu(pid: int) -> float:
    user, system = proc_times(pid)
    return user + system


def proc_status(pid: int) -> dict[str, int]:
    found = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmHWM", "VmRSS", "nonvoluntary_ctxt_switches", "Threads"):
                found[name] = int(rest.split()[0])
    return found


@dataclass
class Server:
    """`voice_server.py` in a subprocess: started, waited for, its CPU read, stopped, its counters read."""

    mode: str
    workdir: Path
    extra: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    sip_port: int = 0
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ready_file(self) -> Path:
        return self.workdir / "server-ready.json"

    def command(self) -> list[str]:
        return [
            sys.executable,
            str(Path(__file__).with_name("voice_server.py")),
            *["--mode", self.mode, "--ready", str(self.ready_file), "--stats", str(self.workdir / "server-stats.json")],
            *self.extra,
        ]

    def start(self, timeout: float = 120.0) -> None:
        log = open(self.workdir / "server.log", "wb")  # noqa: SIM115 - the child keeps writing to it
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        self.sip_port = int(self.wait_ready(timeout)["sip_port"])

    def wait_ready(self, timeout: float, key: str = "sip_port") -> dict[str, Any]:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited ({self.process.returncode}): see {self.workdir / 'server.log'}")
            if self.ready_file.exists():
                try:
                    ready: dict[str, Any] = json.loads(self.ready_file.read_text())
                except json.JSONDecodeError:
                    ready = {}
                if key in ready:
                    return ready
            time.sleep(0.05)
        raise SystemExit(f"the server was not ready after {timeout:.0f} s: see {self.workdir / 'server.log'}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu(self) -> float:
        return proc_cpu(self.pid)

    def stop(self, timeout: float = 120.0) -> dict[str, Any]:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        stats_file = self.workdir / "server-stats.json"
        self.stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
        census = self.stats.get("census")
        if census:
            print(f"census   {census['objects']} objects at most; by type {census['by_type']}")
        return self.stats


@dataclass
class SippRun:
    """One SIPp process: its command line, exit code, CPU time (wait4) and final statistics (-trace_stat)."""

    name: str
    args: list[str]
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    code: int | None = None
    cpu_s: float = 0.0
    wall_s: float = 0.0
    stats: dict[str, str] = field(default_factory=dict)
    _started: float = 0.0

    @property
    def stat_file(self) -> Path:
        return self.workdir / f"{self.name}-stats.csv"

    def command(self) -> list[str]:
        return [
            "sipp",
            *self.args,
            *["-trace_stat", "-stf", str(self.stat_file), "-fd", "1", "-trace_err"],
            *["-error_file", str(self.workdir / f"{self.name}-errors.log"), "-nostdin"],
        ]

    def start(self) -> SippRun:
        out = open(self.workdir / f"{self.name}.out", "wb")  # noqa: SIM115 - the child keeps writing to it
        self._started = time.monotonic()
        self.process = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir)
        return self

    def wait(self, timeout: float) -> SippRun:
        """Waits for SIPp to end (killing it past `timeout` seconds) and reads its CPU time and statistics."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        pid = self.process.pid
        while True:
            try:
                done, status, usage = os.wait4(pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: no exit code or CPU time to read
                self.code, self.stats = -1, read_sipp_stats(self.stat_file)
                return self
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                done, status, usage = os.wait4(pid, 0)
                break
            time.sleep(0.1)
        self.process.returncode = self.code = os.waitstatus_to_exitcode(status)
        self.wall_s = time.monotonic() - self._started
        self.cpu_s = usage.ru_utime + usage.ru_stime
        self.stats = read_sipp_stats(self.stat_file)
        return self

    def stop(self, timeout: float = 10.0) -> SippRun:
        assert self.process is not None
        if self.code is None:
            # Not Popen.send_signal, which polls first and so would reap the process before wait4 sees it.
            os.kill(self.process.pid, signal.SIGUSR1)  # SIPp: stop making calls, finish the ones in progress
        return self.wait(timeout)

    def stat(self, name: str) -> int:
        return int(self.stats.get(name, "0") or 0)

    def shell(self) -> str:
        return shlex.join(a if not a.startswith(str(self.workdir)) else Path(a).name for a in self.command())


def read_sipp_stats(path: Path) -> dict[str, str]:
    """The last row of SIPp's -trace_stat CSV, by column name."""
    if not path.exists():
        return {}
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    if len(lines) < 2:
        return {}
    names = lines[0].rstrip(";").split(";")
    values = lines[-1].rstrip(";").split(";")
    return dict(zip(names, values, strict=False))


# -- RTP timing on the wire


@dataclass
class StreamTiming:
    """The server's RTP packets as captured on loopback, per stream (server source port): count, losses by
    sequence number, and gaps between consecutive arrivals."""

    streams: int = 0
    packets: int = 0
    lost: int = 0
    late: int = 0
    gaps: list[float] = field(default_factory=list)
    capture_drops: str = ""

    def summary(self) -> dict[str, Any]:
        gaps = sorted(self.gaps)

        def pick(p: float) -> float:
            return gaps[min(len(gaps) - 1, int(len(gaps) * p))] * 1000 if gaps else 0.0

        expected = self.packets + self.lost
        return {
            "streams": self.streams,
            "packets": self.packets,
            "lost": self.lost,
            "lost_pct": 100 * self.lost / expected if expected else 0.0,
            "late": self.late,
            "late_pct": 100 * self.late / max(1, len(gaps)),
            "gap_ms": {"p50": pick(0.5), "p99": pick(0.99), "p99.9": pick(0.999), "max": pick(1.0)},
            "capture_drops": self.capture_drops,
        }


def read_pcap_timing(path: Path, skip_first: float = 0.0) -> StreamTiming:
    """Reads a libpcap file of UDP/RTP on loopback (Ethernet framing) and measures each stream's gaps; a stream
    is the server's source port. Packets in the first `skip_first` seconds of a stream are not judged (the
    answer's first frames start when the media clock next ticks)."""
    timing = StreamTiming()
    last: dict[int, tuple[float, int, float]] = {}  # port -> (arrival, extended seq, first arrival)
    data = path.read_bytes()
    magic = struct.unpack_from("<I", data, 0)[0]
    scale = 1e-9 if magic == 0xA1B23C4D else 1e-6
    offset = 24
    header = struct.Struct("<IIII")
    while offset + 16 <= len(data):
        seconds, fraction, captured, _ = header.unpack_from(data, offset)
        packet = data[offset + 16 : offset + 16 + captured]
        offset += 16 + captured
        if len(packet) < 14 + 20 + 8 + 12:
            continue
        ihl = (packet[14] & 0x0F) * 4
        udp = 14 + ihl
        port = (packet[udp] << 8) | packet[udp + 1]
        seq = (packet[udp + 8 + 2] << 8) | packet[udp + 8 + 3]
        now = seconds + fraction * scale
        previous = last.get(port)
        if previous is None:
            timing.streams += 1
            timing.packets += 1
            last[port] = (now, seq, now)
            continue
        then, extended, first = previous
        delta = (seq - extended) & 0xFFFF
        if delta == 0 or delta > 0x8000:  # a duplicate or an old packet: not a step forward
            continue
        timing.packets += 1
        timing.lost += delta - 1
        if now - first >= skip_first:
            gap = now - then
            timing.gaps.append(gap)
            if gap > LATE_GAP:
                timing.late += 1
        last[port] = (now, extended + delta, first)
    return timing


@contextmanager
def capture(workdir: Path, port_filter: str, seconds: float) -> Iterator[Path]:
    """dumpcap on loopback for at most `seconds`: the headers of the packets that `port_filter` selects."""
    path = workdir / "server-rtp.pcap"
    log = open(workdir / "dumpcap.log", "wb")  # noqa: SIM115 - the child keeps writing to it
    process = subprocess.Popen(
        [
            "dumpcap",
            "-q",
            "-i",
            "lo",
            "-P",
            "-s",
            "64",
            "-B",
            "64",
            "-f",
            port_filter,
            "-a",
            f"duration:{int(seconds) + 1}",
            "-w",
            str(path),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    time.sleep(1.5)  # dumpcap opens the interface
    try:
        yield path
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


# -- reporting


def voice_sources_digest() -> str:
    """A short sha256 of every .py file under callboard/voice and callboard/app: the code these figures measure."""
    digest = hashlib.sha256()
    for package in ("voice", "app"):
        for path in sorted((ROOT / "src" / "callboard" / package).rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def header(title: str, workdir: Path) -> dict[str, Any]:
    facts = machine()
    facts["git"] = git_revision(ROOT)
    facts["sources"] = voice_sources_digest()
    busy = subprocess.run(["pgrep", "-fa", "benchmarks/routing.py|pytest"], capture_output=True, text=True).stdout
    facts["other_load"] = [line for line in busy.splitlines() if str(os.getpid()) not in line.split()[0]]
    print(f"Callboard voice benchmark: {title}, {facts['date']}")
    print(f"machine  {facts['cpu_model']}, {facts['cores']} cores, {facts['python']}, {facts['system']}")
    print(
        f"code     git {facts['git']}, callboard.voice + callboard.app sources sha256 {facts['sources']}; "
        f"load average {facts['load_average_at_start']} at start"
    )
    if facts["other_load"]:
        print(f"also running: {'; '.join(line[:70] for line in facts['other_load'])}")
    print(f"work dir {workdir}")
    return facts


def per_call_ms(cpu_s: float, calls: int) -> float:
    return 1000 * cpu_s / calls if calls else float("nan")


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free UDP ports: held open together while chosen, so that none is picked twice (probing one
    at a time, a batch of 50 SIPp runs got the same port twice about once in a benchmark, and one failed to bind)."""
    import socket

    probes = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(count)]
    try:
        for probe in probes:
            probe.bind((LOOPBACK, 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def media_port() -> int:
    """An even UDP port with the next two free (SIPp binds audio on it and video on +2)."""
    import socket

    for _ in range(100):
        port = free_port() & ~1
        try:
            with (
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a,
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b,
            ):
                a.bind((LOOPBACK, port))
                b.bind((LOOPBACK, port + 2))
        except OSError:
            continue
        return port
    raise SystemExit("no free media port")


# -- 1. calls per second: answer, play, hang up


def bench_cps(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    rate = args.rate or (100 if args.quick else 360)
    seconds = args.seconds or (5 if args.quick else 60)
    count = int(rate * seconds)
    facts = header(f"1. calls per second, answer + {args.prompt_seconds:g} s prompt + hang up", workdir)
    scenario = workdir / "answer_play_uac.xml"
    scenario.write_text(scenarios.answer_play_caller())
    options = ["--prompt-seconds", str(args.prompt_seconds), *server_options(args, workdir)]
    server = Server("answer-play", workdir, options)
    server.start()
    sipp = SippRun(
        "callers",
        [
            f"{LOOPBACK}:{server.sip_port}",
            "-sf",
            scenario.name,
            "-s",
            "100",
            "-i",
            LOOPBACK,
            "-mi",
            LOOPBACK,
            "-p",
            str(free_port()),
            "-mp",
            str(media_port()),
            "-r",
            str(rate),
            "-rp",
            "1000",
            "-m",
            str(count),
            "-l",
            "5000",
            "-recv_timeout",
            "10000",
            "-timeout",
            f"{int(seconds + 60)}s",
            "-timeout_error",
        ],
        workdir,
    )
    try:
        times0, load0 = proc_times(server.pid), load_average()
        sipp.start().wait(seconds + 90)
        time.sleep(0.5)  # the last BYE's 200 and the media release
        times1 = proc_times(server.pid)
        cpu0, cpu1 = sum(times0), sum(times1)
        status = proc_status(server.pid)
    finally:
        stats = server.stop()
    ok, failed = sipp.stat("SuccessfulCall(C)"), sipp.stat("FailedCall(C)")
    server_cpu = cpu1 - cpu0
    played = stats.get("outcomes", {}).get("played_and_hung_up", 0)
    achieved = ok / sipp.wall_s if sipp.wall_s else 0.0
    fail_pct = 100 * failed / max(1, ok + failed)
    ms = per_call_ms(server_cpu, ok)
    rtp = stats.get("rtp", {})
    print(f"sipp     {sipp.shell()}")
    print(f"offered  {rate}/s for {count} calls; SIPp ran {sipp.wall_s:.1f} s wall, {sipp.cpu_s:.1f} s CPU")
    print(
        f"calls    {ok} successful, {failed} failed ({fail_pct:.3f}%), exit "
        f"{sipp.code}; server: {stats.get('outcomes')}"
    )
    print(
        f"         SIPp call rate {sipp.stats.get('CallRate(C)', '?')}/s "
        f"(whole run {achieved:.1f}/s incl. the last calls' {args.prompt_seconds:g} s)"
    )
    user, system = times1[0] - times0[0], times1[1] - times0[1]
    print(
        f"server   {server_cpu:.2f} s CPU ({user:.2f} user, {system:.2f} "
        f"system) over the run = {ms:.3f} ms per call; peak {stats.get('peak_active_calls')} "
        f"calls at once; RSS peak {status.get('VmHWM', 0) / 1024:.0f} MiB"
    )
    print(
        f"rtp      {rtp.get('packets_sent', 0)} packets sent = "
        f"{rtp.get('packets_sent', 0) / max(1, rtp.get('legs', 1)):.1f} "
        f"per call; media clock {stats.get('media_clock')}; "
        f"gc {stats.get('gc')}"
    )
    print(f"load     {load0} at start, {load_average()} at end")
    met = rate >= 360 and fail_pct < 0.1 and ms <= 2.5 and played == ok
    print(f"target   >= 360 CPS, < 0.1% failed, <= 2.5 ms CPU per call: {verdict(met)}")
    return {"facts": facts, "rate": rate, "count": count, "ok": ok, "failed": failed, "server_cpu_s": server_cpu,
            "cpu_ms_per_call": ms, "sipp": sipp.shell(), "sipp_cpu_s": sipp.cpu_s, "sipp_wall_s": sipp.wall_s,
            "server": stats, "met": met}  # fmt: skip


# -- 2. concurrent held calls with RTP both ways


def bench_hold(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    calls = args.calls or (100 if args.quick else 600)
    hold = args.seconds or (15 if args.quick else 60)
    rate = args.rate or 100
    ramp = calls / rate
    facts = header(f"2. {calls} calls held {hold:g} s, RTP both ways", workdir)
    scenario = workdir / "hold_uac.xml"
    scenario.write_text(scenarios.hold_caller(hold, sipp_file("g711a.pcap")))
    server = Server("hold", workdir, ["--prompt-seconds", "8", *server_options(args, workdir)])
    server.start()
    mp = media_port()
    sipp = SippRun(
        "callers",
        [
            f"{LOOPBACK}:{server.sip_port}",
            "-sf",
            scenario.name,
            "-s",
            "100",
            "-i",
            LOOPBACK,
            "-mi",
            LOOPBACK,
            "-p",
            str(free_port()),
            "-mp",
            str(mp),
            "-r",
            str(rate),
            "-rp",
            "1000",
            "-m",
            str(calls),
            "-l",
            str(calls),
            "-recv_timeout",
            "10000",
            "-timeout",
            f"{int(hold + ramp + 60)}s",
            "-timeout_error",
        ],
        workdir,
    )
    port_filter = f"udp and dst port {mp} and src portrange 40000-49999"
    try:
        with capture(workdir, port_filter, hold + ramp + 30) as pcap:
            load0 = load_average()
            sipp.start()
            # The window in which every call is up: after the ramp (and 2 s for the last answers), until the
            # first calls end.
            window0 = time.monotonic() + ramp + 2.0
            window1 = time.monotonic() + hold - 1.0
            time.sleep(max(0.0, window0 - time.monotonic()))
            times0, t0 = proc_times(server.pid), time.monotonic()
            time.sleep(max(0.0, window1 - time.monotonic()))
            times1, t1 = proc_times(server.pid), time.monotonic()
            cpu0, cpu1 = sum(times0), sum(times1)
            current = sipp_current_calls(sipp)
            status = proc_status(server.pid)
            sipp.wait(hold + ramp + 90)
        drops = (workdir / "dumpcap.log").read_text(errors="replace").strip()
    finally:
        stats = server.stop()
    timing = read_pcap_timing(pcap, skip_first=0.1)
    timing.capture_drops = drops
    wire = timing.summary()
    ok, failed = sipp.stat("SuccessfulCall(C)"), sipp.stat("FailedCall(C)")
    window = t1 - t0
    core_pct = 100 * (cpu1 - cpu0) / window
    per_call = core_pct / max(1, current)
    rtp = stats.get("rtp", {})
    print(f"sipp     {sipp.shell()}")
    print(f"capture  dumpcap -i lo -P -s 64 -f {port_filter!r}: {drops}")
    print(
        f"calls    {ok} successful, {failed} failed, exit {sipp.code}; server: "
        f"{stats.get('outcomes')}, peak {stats.get('peak_active_calls')} at once"
    )
    user, system = times1[0] - times0[0], times1[1] - times0[1]
    print(
        f"window   {window:.1f} s with {current} calls up (SIPp's count "
        f"at its end): server {cpu1 - cpu0:.2f} s CPU ({user:.2f} user, "
        f"{system:.2f} system) = {core_pct:.1f}% of a core = {per_call:.4f}% per held call"
    )
    print(
        f"server   sent {rtp.get('packets_sent', 0)} RTP packets, received "
        f"{rtp.get('packets_received', 0)}; media clock {stats.get('media_clock')}; "
        f"gc {stats.get('gc')}; RSS peak {status.get('VmHWM', 0) / 1024:.0f} MiB"
    )
    print(
        f"wire     {wire['streams']} streams, {wire['packets']} packets, "
        f"{wire['lost']} lost ({wire['lost_pct']:.3f}%), {wire['late']} "
        f"late > {LATE_GAP * 1000:.0f} ms ({wire['late_pct']:.3f}%); gaps ms {wire['gap_ms']}"
    )
    print(f"SIPp     {sipp.cpu_s:.1f} s CPU over {sipp.wall_s:.1f} s")
    print(f"load     {load0} at start, {load_average()} at end")
    met = current >= 600 and failed == 0 and wire["lost_pct"] + wire["late_pct"] <= 0.5 and per_call <= 0.2
    print(f"target   >= 600 held, lost + late <= 0.5%, <= 0.2% of a core per held call: {verdict(met)}")
    return {"facts": facts, "calls": calls, "hold": hold, "current": current, "ok": ok, "failed": failed,
            "window_s": window, "server_cpu_s": cpu1 - cpu0, "core_pct": core_pct, "per_call_pct": per_call,
            "wire": wire, "sipp": sipp.shell(), "server": stats, "met": met}  # fmt: skip


def sipp_current_calls(sipp: SippRun) -> int:
    return int(read_sipp_stats(sipp.stat_file).get("CurrentCall", "0") or 0)


# -- 3 and 4. the whole node: menu, queue, agents


def bench_center(args: argparse.Namespace, workdir: Path, *, overload: bool) -> dict[str, Any]:
    clean = args.clean_rate or 30
    rate = args.rate or (2 * clean if overload else clean)
    seconds = args.seconds or ((10 if args.quick else 30) if overload else (10 if args.quick else 60))
    talk = args.talk
    count = int(rate * seconds)
    agents = args.agents or max(50, int(clean * (talk + 4 + args.wrapup) * 1.5))
    max_calls = args.max_calls or (int(clean * (talk + 4)) if overload else 5000)
    name = "4. overload" if overload else "3. call center"
    title = f"{name}: {rate}/s for {seconds:g} s, {agents} agents, {talk:g} s talk"
    facts = header(title, workdir)
    pcap, dtmf = sipp_file("g711a.pcap"), sipp_file("dtmf_2833_2.pcap")
    for name, text in (
        ("agent_uas.xml", scenarios.agent_phone(talk, pcap)),
        ("caller_uac.xml", scenarios.center_caller(refusable=overload)),
    ):
        (workdir / name).write_text(text)
    server = Server(
        "center",
        workdir,
        ["--agents", str(agents), "--wrapup", str(args.wrapup), "--max-calls", str(max_calls),
         "--workdir", str(workdir), *server_options(args, workdir)],
    )  # fmt: skip
    server.start(timeout=300)
    agent_port = free_port()
    phones = SippRun(
        "agents",
        [
            "-sf",
            "agent_uas.xml",
            "-i",
            LOOPBACK,
            "-mi",
            LOOPBACK,
            "-p",
            str(agent_port),
            "-mp",
            str(media_port()),
            "-m",
            str(count),
            "-timeout",
            f"{int(seconds + talk + 120)}s",
            "-timeout_error",
        ],
        workdir,
    )
    callers = SippRun(
        "callers",
        [
            f"{LOOPBACK}:{server.sip_port}",
            "-sf",
            "caller_uac.xml",
            "-s",
            "100",
            "-i",
            LOOPBACK,
            "-mi",
            LOOPBACK,
            "-p",
            str(free_port()),
            "-mp",
            str(media_port()),
            "-key",
            "dtmf",
            dtmf,
            "-key",
            "pcap",
            pcap,
            "-r",
            str(rate),
            "-rp",
            "1000",
            "-m",
            str(count),
            "-l",
            "5000",
            "-recv_timeout",
            "60000",
            "-timeout",
            f"{int(seconds + talk + 90)}s",
            "-timeout_error",
        ],
        workdir,
    )
    try:
        phones.start()
        registered, register_line = register_agents(server.sip_port, agent_port, agents, workdir)
        os.kill(server.pid, signal.SIGUSR1)  # every agent goes Available
        server.wait_ready(60, key="available")
        load0, cpu0 = load_average(), server.cpu()
        callers.start().wait(seconds + talk + 120)
        time.sleep(2.0)  # the last hang-ups and their records
        cpu1 = server.cpu()
        status = proc_status(server.pid)
        phones.stop(30)  # SIGUSR1 once its calls are over (it exits by itself after -m calls)
    finally:
        try:
            if phones.process is not None and phones.code is None:
                phones.wait(0)
        finally:
            stats = server.stop()
    ok, failed = callers.stat("SuccessfulCall(C)"), callers.stat("FailedCall(C)")
    refused = stats.get("refused_503", 0)
    completed = sum(v for k, v in stats.get("outcomes", {}).items() if k.startswith("completed/"))
    server_cpu = cpu1 - cpu0
    ms = per_call_ms(server_cpu, completed)
    print(f"sipp     {register_line}   (once per agent, {REGISTER_BATCH} at a time)")
    for run in (phones, callers):
        print(f"sipp     {run.shell()}")
    print(
        f"agents   {stats.get('registered_aors')} registered ({registered} "
        f"SIPp runs passed of {agents}); phones: {phones.stat('SuccessfulCall(C)')} "
        f"calls ok, {phones.stat('FailedCall(C)')} failed"
    )
    print(f"callers  {ok} successful, {failed} failed, exit {callers.code}; {callers.wall_s:.1f} s wall")
    print(
        f"server   records {stats.get('call_records')}: {stats.get('outcomes')}; "
        f"refused 503: {refused}; recorded {stats.get('recorded')}"
    )
    print(
        f"         wait s {stats.get('wait_seconds')}; talk s {stats.get('talk_seconds')}; "
        f"media clock {stats.get('media_clock')}; "
        f"gc {stats.get('gc')}"
    )
    print(
        f"cpu      server {server_cpu:.2f} s over the calls = {ms:.2f} ms "
        f"per completed call; RSS peak {status.get('VmHWM', 0) / 1024:.0f} "
        f"MiB; SIPp callers {callers.cpu_s:.1f} s, phones {phones.cpu_s:.1f} s"
    )
    print(f"load     {load0} at start, {load_average()} at end")
    # Clean: every agent's phone registered, every call SIPp offered ended as the scenario says (none still up when
    # SIPp stopped), no failure on either side, and every admitted call completed with an agent and recorded.
    agents_failed = phones.stat("FailedCall(C)") + (agents - registered)
    recorded = stats.get("recorded", 0)
    if overload:
        admitted = ok + failed - refused
        clean_admitted = ok + failed == count and failed == 0 and agents_failed == 0 and completed == admitted
        met = refused > 0 and clean_admitted and recorded == completed
        print(
            f"target   {rate}/s offered: {refused} refused with 503, {admitted} "
            f"admitted, {completed} completed: {verdict(met)}"
        )
    else:
        met = rate >= 30 and ok == count and failed == 0 and agents_failed == 0 and completed == ok == recorded
        print(f"target   >= 30 CPS clean: {verdict(met)}")
    return {"facts": facts, "rate": rate, "count": count, "agents": agents, "ok": ok, "failed": failed,
            "refused": refused, "completed": completed, "server_cpu_s": server_cpu, "cpu_ms_per_call": ms,
            "sipp": [register_line, phones.shell(), callers.shell()], "server": stats, "met": met}  # fmt: skip


REGISTER_BATCH = 25


def register_agents(sip_port: int, agent_port: int, agents: int, workdir: Path) -> tuple[int, str]:
    """Registers every agent's phone with digest, one SIPp run each (SIPp 3.6.1 cannot take a digest username
    from an injection file), `REGISTER_BATCH` at a time; every contact points at the agents' SIPp UAS."""
    scenario = ROOT / "tests" / "e2e" / "scenarios" / "agent_register.xml"
    passed, line = 0, ""
    for first in range(0, agents, REGISTER_BATCH):
        runs = []
        batch = range(first, min(agents, first + REGISTER_BATCH))
        ports = iter(free_ports(2 * len(batch)))
        for i in batch:
            name = f"agent{i:04d}"
            command = [
                "sipp", f"{LOOPBACK}:{sip_port}", "-sf", str(scenario), "-s", name, "-au", name, "-ap", f"{name}-pw",
                "-key", "agent_port", str(agent_port), "-i", LOOPBACK, "-p", str(next(ports)),
                "-cp", str(next(ports)), "-m", "1", "-timeout", "20s", "-timeout_error", "-nostdin",
            ]  # fmt: skip
            line = line or shlex.join(command).replace(str(ROOT) + "/", "")
            with open(workdir / f"register-{name}.log", "wb") as log:
                runs.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir))
        for i, run in enumerate(runs, first):
            try:
                code = run.wait(30)
            except subprocess.TimeoutExpired:
                run.kill()
                code = run.wait()
            log_file = workdir / f"register-agent{i:04d}.log"
            if code == 0:
                passed += 1
                log_file.unlink()
            else:
                tail = log_file.read_text(errors="replace")[-300:]
                print(f"register agent{i:04d} failed (SIPp exit {code}): {tail!r}")
    return passed, line


def server_options(args: argparse.Namespace, workdir: Path) -> list[str]:
    """The server's priority (what CALLBOARD_PROCESS_NICE sets in `serve`), and its options for profiling."""
    extra = ["--profile", str(workdir / "server.prof")] if args.profile else []
    if args.census:
        extra += ["--census", str(args.census)]
    if args.nice is not None:
        extra += ["--nice", str(args.nice)]
    print(f"priority server nice {args.nice if args.nice is not None else os.getpriority(os.PRIO_PROCESS, 0)}")
    return extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bench", choices=("cps", "hold", "center", "overload"))
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument("--rate", type=float, default=None, help="calls per second offered")
    parser.add_argument(
        "--seconds", type=float, default=None, help="cps/center: how long calls are offered; hold: hold time"
    )
    parser.add_argument("--calls", type=int, default=None, help="hold: how many calls")
    parser.add_argument("--prompt-seconds", type=float, default=2.0, help="cps: the prompt's length")
    parser.add_argument("--clean-rate", type=float, default=None, help="center/overload: the clean rate (30)")
    parser.add_argument("--agents", type=int, default=None)
    parser.add_argument("--talk", type=float, default=10.0, help="center: seconds an agent talks")
    parser.add_argument("--wrapup", type=float, default=1.0, help="center: wrap-up seconds")
    parser.add_argument("--max-calls", type=int, default=None, help="center/overload: sip_max_calls")
    parser.add_argument("--profile", action="store_true", help="cProfile the server (its timings are then not valid)")
    parser.add_argument(
        "--census", type=float, default=None, help="count the server's objects by type every N s (slows it)"
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=-10 if os.geteuid() == 0 else None,
        help="the server's nice value, as CALLBOARD_PROCESS_NICE sets it (default -10 when root, else unchanged)",
    )
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    for name in ("rate", "clean_rate"):  # 20/s, not 20.0/s, in what is printed
        value = getattr(args, name)
        if value is not None and value == int(value):
            setattr(args, name, int(value))
    workdir = Path(tempfile.mkdtemp(prefix=f"callboard-voice-{args.bench}-"))
    if args.bench == "cps":
        result = bench_cps(args, workdir)
    elif args.bench == "hold":
        result = bench_hold(args, workdir)
    else:
        result = bench_center(args, workdir, overload=args.bench == "overload")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, default=str))
    if not args.keep and not args.profile:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
