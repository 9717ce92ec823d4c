"""What a benchmark needs around the code it times: percentiles, CPU pinning, RSS, GC pauses, machine facts."""

from __future__ import annotations

import gc
import hashlib
import math
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any


def percentile(sorted_values: list[int], p: float) -> int:
    """Nearest-rank percentile of an ascending list (p99 of 100 values is the 99th smallest)."""
    if not sorted_values:
        raise ValueError("no samples")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize_ns(samples_ns: list[int]) -> dict[str, float]:
    """Count, mean, p50, p90, p99, p99.9 and max of nanosecond samples, in milliseconds."""
    if not samples_ns:
        return {"n": 0}
    ordered = sorted(samples_ns)
    ms = 1e-6
    return {
        "n": len(ordered),
        "mean_ms": sum(ordered) / len(ordered) * ms,
        "p50_ms": percentile(ordered, 50) * ms,
        "p90_ms": percentile(ordered, 90) * ms,
        "p99_ms": percentile(ordered, 99) * ms,
        "p999_ms": percentile(ordered, 99.9) * ms,
        "max_ms": ordered[-1] * ms,
    }


@dataclass
class Latencies:
    """Durations of one kind of operation, wall clock and on-CPU (this thread's CPU time, which leaves out
    the time another process had the core: on a shared machine the two tell preemption from slow code)."""

    wall_ns: list[int] = field(default_factory=list)
    cpu_ns: list[int] = field(default_factory=list)
    _wall0: int = 0
    _cpu0: int = 0

    def start(self) -> None:
        self._cpu0 = time.thread_time_ns()
        self._wall0 = time.perf_counter_ns()

    def stop(self) -> tuple[int, int]:
        wall = time.perf_counter_ns() - self._wall0
        return wall, time.thread_time_ns() - self._cpu0

    def keep(self, sample: tuple[int, int]) -> None:
        self.wall_ns.append(sample[0])
        self.cpu_ns.append(sample[1])

    def summary(self) -> dict[str, Any]:
        return {"wall": summarize_ns(self.wall_ns), "cpu": summarize_ns(self.cpu_ns)}


def pin_to_cpu(cpu: int | None) -> int:
    """Run this process on one core (by default the highest one it may use) and return that core."""
    allowed = os.sched_getaffinity(0)
    chosen = max(allowed) if cpu is None else cpu
    if chosen not in allowed:
        raise SystemExit(f"cpu {chosen} is not among the cores this process may use: {sorted(allowed)}")
    os.sched_setaffinity(0, {chosen})
    return chosen


def cpu_seconds() -> float:
    """User plus system CPU time this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def memory_mib() -> dict[str, float]:
    """Resident set size now (VmRSS) and its peak so far (VmHWM), from /proc/self/status."""
    found: dict[str, float] = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name.lower() + "_mib"] = int(rest.split()[0]) / 1024  # the kernel reports kB
    return found


def source_digest(*packages: ModuleType) -> str:
    """A short sha256 of the packages' .py files, to tie figures to the code they measured."""
    digest = hashlib.sha256()
    for package in packages:
        root = Path(package.__file__ or "").parent
        for path in sorted(root.glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def git_revision(directory: Path) -> str:
    """The checkout's commit, with "+changes" when files differ from it; "none" without a commit."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=directory, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD")
    if not head:
        return "none"
    return head + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def load_average() -> str:
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), model)
    except OSError:
        pass
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "system": f"{platform.system()} {platform.release()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_at_start": load_average(),
        "executable": sys.executable,
    }


@dataclass
class GcPauses:
    """Collections of the cyclic garbage collector while a phase ran: a full one walks every live object."""

    counts: list[int] = field(default_factory=lambda: [0, 0, 0])
    total_ns: int = 0
    max_ns: int = 0
    max_generation: int = -1
    _started: int = 0

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter_ns()
            return
        pause = time.perf_counter_ns() - self._started
        self.counts[info["generation"]] += 1
        self.total_ns += pause
        if pause > self.max_ns:
            self.max_ns, self.max_generation = pause, info["generation"]

    def summary(self) -> dict[str, Any]:
        return {
            "collections_by_generation": list(self.counts),
            "total_ms": self.total_ns * 1e-6,
            "max_ms": self.max_ns * 1e-6,
            "max_generation": self.max_generation,
        }


@dataclass
class Stopwatch:
    """Wall and process CPU time of one phase, and how often the kernel took the core away meanwhile."""

    wall_s: float = 0.0
    cpu_s: float = 0.0
    preempted: int = 0
    _wall0: float = 0.0
    _cpu0: float = 0.0
    _preempted0: int = 0

    def __enter__(self) -> Stopwatch:
        self._wall0, self._cpu0 = time.perf_counter(), cpu_seconds()
        self._preempted0 = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall_s = time.perf_counter() - self._wall0
        self.cpu_s = cpu_seconds() - self._cpu0
        self.preempted = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw - self._preempted0
