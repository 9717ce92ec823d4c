"""Routing benchmark: TaskRouter's largest workspace on one core, against the targets of the scale issue.

    .venv/bin/python benchmarks/routing.py                      # full size, a few minutes
    .venv/bin/python benchmarks/routing.py --scale 0.01 --quick # smoke run, a few seconds

Phases, in order, on one engine: build the resources; routing decisions against free workers (and the
naive full-scan baseline on a sample of the same tasks); sustained create-accept-complete cycles; a
backlog of tasks created while every worker is Offline; a worker going Available (and a worker
completing a task) with that backlog waiting; the backlog worked off by a group of workers. The engine
runs on a virtual clock; latencies are `time.perf_counter_ns` around single engine calls. Every operation
is followed by `drain_changes()` and `drain_events()`, as the app does after each one, so neither the
timings nor the memory figures carry an undrained event log. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import gc
import itertools
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measuring import (
    GcPauses,
    Latencies,
    Stopwatch,
    git_revision,
    load_average,
    machine,
    memory_mib,
    pin_to_cpu,
    source_digest,
)
from naive_router import NaiveRouter
from routing_scenario import STEP_TIMEOUTS, Center, Size, TaskSpec, build, task_specs

import callboard.core
import callboard.routing
from callboard.core import events as ev
from callboard.core.events import Event
from callboard.routing.model import Task, TaskStatus
from callboard.routing.workspace import Workspace

TARGET_DECISION_P99_MS = 1.0
TARGET_ASSIGNMENTS_PER_S = 20_000
TARGET_AVAILABLE_P99_MS = 2.0
BACKLOG_SPAN_S = 180.0  # tasks arrive over 3 virtual minutes, so the backlog spreads over all three steps
CYCLE_S = 0.001  # virtual time between two tasks against free workers, so longest-idle keeps rotating


@dataclass(frozen=True)
class Samples:
    """How much of each phase to run; the backlog is always the scenario's full task count."""

    warmup: int
    decisions: int
    baseline: int
    cycles: int
    available: int
    drain_cycles: int

    @classmethod
    def for_run(cls, quick: bool) -> Samples:
        if quick:
            return cls(warmup=200, decisions=2_000, baseline=30, cycles=3_000, available=200, drain_cycles=2_000)
        return cls(warmup=1_000, decisions=20_000, baseline=300, cycles=50_000, available=2_000, drain_cycles=30_000)


def drain(ws: Workspace) -> list[Event]:
    ws.drain_changes()
    return ws.drain_events()


def created_reservations(events: list[Event]) -> list[str]:
    return [e.data["reservation_sid"] for e in events if e.name == ev.RESERVATION_CREATED]


def tick_if_due(center: Center) -> list[Event]:
    deadline = center.ws.next_deadline()
    if deadline is None or deadline > center.clock.now():
        return []
    center.ws.tick()
    return drain(center.ws)


def create(ws: Workspace, spec: TaskSpec) -> Task:
    return ws.create_task(spec.workflow_sid, attributes=spec.attributes, channel=spec.channel, priority=spec.priority)


def serve(ws: Workspace, reservation_sid: str) -> None:
    """The worker accepts the offer and finishes the task at once, so they are free again."""
    ws.accept_reservation(reservation_sid)
    drain(ws)
    ws.complete_reservation(reservation_sid)
    drain(ws)


# Phases


def measure_decisions(center: Center, stream: Iterator[TaskSpec], samples: Samples) -> dict[str, Any]:
    """create_task -> reservation with every worker free; the naive scan on every k-th task, untimed by the engine."""
    ws, clock, naive = center.ws, center.clock, NaiveRouter(center.ws)
    every = max(1, samples.decisions // max(1, samples.baseline))
    engine, baseline_times = Latencies(), Latencies()
    missed = agreed = 0
    for i in range(samples.warmup + samples.decisions):
        spec = next(stream)
        clock.advance(CYCLE_S)
        baseline = i >= samples.warmup and (i - samples.warmup) % every == every - 1
        if baseline:
            baseline_times.start()
            expected = naive.choose(spec.workflow_sid, spec.attributes, spec.channel)
            naive_sample = baseline_times.stop()
        engine.start()
        task = create(ws, spec)
        sample = engine.stop()
        drain(ws)
        if task.status is not TaskStatus.RESERVED:  # no free worker passes the first step's expression
            missed += i >= samples.warmup
            ws.cancel_task(task.sid)
            drain(ws)
            continue
        (reservation_sid,) = task.reservations
        if baseline:
            baseline_times.keep(naive_sample)
            agreed += expected is not None and expected.sid == ws.reservations[reservation_sid].worker_sid
        elif i >= samples.warmup:
            # The scan before a baseline task flushes the caches; that task's engine time is left out.
            engine.keep(sample)
        serve(ws, reservation_sid)
        tick_if_due(center)
    figures, naive_figures = engine.summary(), baseline_times.summary()
    return {
        "engine": figures,
        "naive": naive_figures,
        "not_reserved": missed,
        "naive_agreed": agreed,
        "ratio_p50": naive_figures["wall"]["p50_ms"] / figures["wall"]["p50_ms"],
        "ratio_mean": naive_figures["wall"]["mean_ms"] / figures["wall"]["mean_ms"],
        "ratio_p50_cpu": naive_figures["cpu"]["p50_ms"] / figures["cpu"]["p50_ms"],
    }


def measure_cycles(center: Center, stream: Iterator[TaskSpec], samples: Samples) -> dict[str, Any]:
    """Back-to-back create -> reservation -> accept -> complete against free workers, with drains and ticks.

    The loop is timed as a whole; it also adds up the time of each kind of call, to show where a cycle goes.
    """
    ws, clock, now = center.ws, center.clock, time.perf_counter_ns
    specs = list(itertools.islice(stream, samples.cycles))
    spent = dict.fromkeys(("create_task", "accept_reservation", "complete_reservation", "drains", "ticks"), 0)
    assigned = 0
    with Stopwatch() as watch:
        for spec in specs:
            clock.advance(CYCLE_S)
            created = now()
            task = create(ws, spec)
            spent["create_task"] += now() - created
            if task.reservations:
                reservation_sid = next(iter(task.reservations))
                drained = now()
                drain(ws)
                accepting = now()
                ws.accept_reservation(reservation_sid)
                accepted = now()
                drain(ws)
                completing = now()
                ws.complete_reservation(reservation_sid)
                completed = now()
                drain(ws)
                spent["accept_reservation"] += accepted - accepting
                spent["complete_reservation"] += completed - completing
                spent["drains"] += (accepting - drained) + (completing - accepted) + (now() - completed)
                assigned += 1
            else:
                ws.cancel_task(task.sid)
                drain(ws)
            ticking = now()
            tick_if_due(center)
            spent["ticks"] += now() - ticking
    per_cycle_us = {name: ns / max(1, len(specs)) / 1000 for name, ns in spent.items()}
    return _rate(assigned, watch) | {"cycles": len(specs), "per_cycle_us": per_cycle_us}


def _rate(assigned: int, watch: Stopwatch) -> dict[str, Any]:
    return {
        "assigned": assigned,
        "wall_s": watch.wall_s,
        "cpu_s": watch.cpu_s,
        "preempted": watch.preempted,
        "assignments_per_s": assigned / watch.wall_s if watch.wall_s else 0.0,
        "assignments_per_cpu_s": assigned / watch.cpu_s if watch.cpu_s else 0.0,
    }


def build_backlog(center: Center, stream: Iterator[TaskSpec], tasks: int) -> dict[str, Any]:
    """Every worker goes Offline, then `tasks` tasks arrive over BACKLOG_SPAN_S virtual seconds and wait."""
    ws, clock = center.ws, center.clock
    for sid in center.worker_sids:
        ws.update_worker(sid, activity_sid=center.offline)
        drain(ws)
    creates = Latencies()
    tick_ns = escalations = 0
    gap = BACKLOG_SPAN_S / tasks
    with Stopwatch() as watch:
        for _ in range(tasks):
            spec = next(stream)
            clock.advance(gap)
            creates.start()
            create(ws, spec)
            creates.keep(creates.stop())
            drain(ws)
            start = time.perf_counter_ns()
            events = tick_if_due(center)
            tick_ns += time.perf_counter_ns() - start
            escalations += sum(1 for e in events if e.name == ev.TASK_QUEUE_TIMEOUT)
    return {
        "created": tasks,
        "wall_s": watch.wall_s,
        "cpu_s": watch.cpu_s,
        "preempted": watch.preempted,
        "create": creates.summary(),
        "step_escalations": escalations,
        "tick_s": tick_ns * 1e-9,
    }


def backlog_shape(ws: Workspace) -> dict[str, Any]:
    steps = collections.Counter(
        "default" if t.filter_index == -1 else f"step {t.target_index + 1}" for t in ws.tasks.values() if t.is_waiting
    )
    per_queue = collections.Counter(t.queue_sid for t in ws.tasks.values() if t.is_waiting)
    return {
        "waiting": sum(steps.values()),
        "by_step": dict(sorted(steps.items())),
        "queues_with_tasks": len(per_queue),
        "max_per_queue": max(per_queue.values(), default=0),
    }


def measure_available(center: Center, samples: Samples, seed: int) -> dict[str, Any]:
    """With the backlog waiting: an Offline worker goes Available (timed), accepts one offer, completes it (timed)."""
    ws, rng = center.ws, random.Random(seed)
    available, completed = Latencies(), Latencies()
    offers: list[int] = []
    no_offer = no_new_offer = 0
    for _ in range(samples.available):
        sid = rng.choice(center.worker_sids)
        available.start()
        ws.update_worker(sid, activity_sid=center.available)
        sample = available.stop()
        made = created_reservations(drain(ws))
        if not made:
            no_offer += 1
            ws.update_worker(sid, activity_sid=center.offline)
            drain(ws)
            continue
        available.keep(sample)
        offers.append(len(made))
        ws.accept_reservation(made[0])
        drain(ws)
        completed.start()
        ws.complete_reservation(made[0])
        sample = completed.stop()
        if created_reservations(drain(ws)):
            completed.keep(sample)
        else:
            no_new_offer += 1
        # Back to Offline: the pending offers are canceled and their tasks wait again, so the backlog stays.
        ws.update_worker(sid, activity_sid=center.offline)
        drain(ws)
    return {
        "available": available.summary(),
        "offers_per_available": sum(offers) / max(1, len(offers)),
        "available_without_offer": no_offer,
        "completed": completed.summary(),
        "completed_without_new_offer": no_new_offer,
    }


def measure_backlog_cycles(center: Center, samples: Samples, seed: int) -> dict[str, Any]:
    """A group of workers works the backlog off: accept -> complete -> the next offer, as the events announce it."""
    ws, rng = center.ws, random.Random(seed)
    group = rng.sample(center.worker_sids, max(10, len(center.worker_sids) // 15))
    pending: collections.deque[str] = collections.deque()
    for sid in group:
        ws.update_worker(sid, activity_sid=center.available)
        pending.extend(created_reservations(drain(ws)))
    assigned = 0
    with Stopwatch() as watch:
        while pending and assigned < samples.drain_cycles:
            reservation_sid = pending.popleft()
            ws.accept_reservation(reservation_sid)
            pending.extend(created_reservations(drain(ws)))
            ws.complete_reservation(reservation_sid)
            pending.extend(created_reservations(drain(ws)))
            assigned += 1
    return _rate(assigned, watch) | {"workers": len(group)}


def scenario_shape(center: Center) -> dict[str, Any]:
    members = [len(m) for m in center.ws.membership.queue_members.values()]
    per_worker = [len(q) for q in center.ws.membership.worker_queues.values()]
    return {
        "members_per_queue_mean": sum(members) / len(members),
        "members_per_queue_max": max(members),
        "empty_queues": sum(1 for m in members if m == 0),
        "queues_per_worker_mean": sum(per_worker) / len(per_worker),
    }


# Running and reporting


def run(args: argparse.Namespace) -> dict[str, Any]:
    cpu = pin_to_cpu(args.cpu)
    size, samples = Size.at(args.scale), Samples.for_run(args.quick)
    figures: dict[str, Any] = {
        "machine": machine(),
        "pinned_cpu": cpu,
        "engine_source_sha256": source_digest(callboard.core, callboard.routing),
        "git_revision": git_revision(Path(__file__).resolve().parent),
        "scale": args.scale,
        "quick": args.quick,
        "seed": args.seed,
        "size": vars(size) | {"filters_per_workflow": 5, "steps_per_filter": 3, "step_timeouts_s": STEP_TIMEOUTS},
        "samples": vars(samples),
        "memory_mib": {"start": memory_mib()},
        "gc": {},
        "phase_seconds": {},
    }
    progress = _progress(args.verbose)

    def phase(name: str, work: Any) -> Any:
        progress(f"{name} ...")
        profiler = cProfile.Profile() if args.profile else None
        with GcPauses() as pauses, Stopwatch() as watch:
            if profiler is not None:
                profiler.enable()
            result = work()
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(os.path.join(args.profile, f"{name}.prof"))
        figures["gc"][name] = pauses.summary()
        figures["phase_seconds"][name] = {"wall": watch.wall_s, "cpu": watch.cpu_s, "preempted": watch.preempted}
        progress(f"{name}: {watch.wall_s:.1f} s wall, {watch.cpu_s:.1f} s CPU")
        return result

    with Stopwatch() as total:
        center = phase("build", lambda: build(size, args.seed))
        # As the app does after a restore: the long-lived resources leave the collector's generations, so a
        # full collection no longer walks them (see docs/benchmarks.md).
        gc.freeze()
        figures["build_seconds"] = center.build_seconds
        figures["scenario"] = scenario_shape(center)
        figures["memory_mib"]["resources"] = memory_mib()
        stream = task_specs(center, args.seed + 1)
        figures["decision"] = phase("decisions", lambda: measure_decisions(center, stream, samples))
        figures["cycles"] = phase("cycles", lambda: measure_cycles(center, stream, samples))
        figures["memory_mib"]["before_backlog"] = memory_mib()
        figures["backlog"] = phase("backlog", lambda: build_backlog(center, stream, size.tasks))
        gc.freeze()  # the backlog is the setup of phases 5 and 6
        figures["memory_mib"]["backlog"] = memory_mib()
        figures["backlog"] |= backlog_shape(center.ws)
        # Deadlines stay in the heap until they come due, whether their task is still live or not.
        figures["backlog"]["timer_heap"] = len(center.ws._timers)
        figures["reevaluation"] = phase("available", lambda: measure_available(center, samples, args.seed + 2))
        figures["backlog_cycles"] = phase(
            "backlog_cycles", lambda: measure_backlog_cycles(center, samples, args.seed + 3)
        )
        figures["memory_mib"]["end"] = memory_mib()
    figures["total"] = {"wall_s": total.wall_s, "cpu_s": total.cpu_s, "preempted": total.preempted}
    figures["machine"]["load_average_at_end"] = load_average()
    figures["targets"] = targets(figures)
    return figures


def targets(figures: dict[str, Any]) -> dict[str, Any]:
    """The issue's three targets, judged on wall-clock figures."""
    decision_p99 = figures["decision"]["engine"]["wall"]["p99_ms"]
    rate = figures["cycles"]["assignments_per_s"]
    available_p99 = figures["reevaluation"]["available"]["wall"].get("p99_ms", float("inf"))
    return {
        "decision_p99_ms": {"value": decision_p99, "target": TARGET_DECISION_P99_MS, "met": decision_p99 < 1.0},
        "assignments_per_s": {"value": rate, "target": TARGET_ASSIGNMENTS_PER_S, "met": rate >= 20_000},
        "available_p99_ms": {"value": available_p99, "target": TARGET_AVAILABLE_P99_MS, "met": available_p99 < 2.0},
    }


def _progress(verbose: bool) -> Any:
    start = time.perf_counter()

    def say(message: str) -> None:
        if verbose:
            print(f"[{time.perf_counter() - start:7.1f} s] {message}", file=sys.stderr, flush=True)

    return say


def _met(flag: bool) -> str:
    return "MET" if flag else "MISSED"


def _latency_row(label: str, times: dict[str, Any], target: str = "", met: bool | None = None) -> str:
    wall, cpu = times["wall"], times["cpu"]
    if not wall.get("n"):
        return f"{label:<52}{'no samples':>9}"
    cells = [wall["p50_ms"], wall["p99_ms"], wall["max_ms"], cpu["p50_ms"], cpu["p99_ms"]]
    verdict = "" if met is None else _met(met)
    return f"{label:<52}{wall['n']:>9,}" + "".join(f"{v:>9.3f}" for v in cells) + f"   {target:<12}{verdict}"


def _rate_row(label: str, rate: dict[str, Any], target: str = "", met: bool | None = None) -> str:
    value = f"{rate['assignments_per_s']:,.0f}/s wall, {rate['assignments_per_cpu_s']:,.0f}/s CPU"
    detail = f"({rate['assigned']:,} in {rate['wall_s']:.2f} s)"
    verdict = "" if met is None else _met(met)
    return f"{label:<52}{value:<36}{detail:<24}{target:<12}{verdict}"


def report(f: dict[str, Any]) -> str:
    m, size, t = f["machine"], f["size"], f["targets"]
    d, c, b, r, bc = f["decision"], f["cycles"], f["backlog"], f["reevaluation"], f["backlog_cycles"]
    mem, scen, total = f["memory_mib"], f["scenario"], f["total"]
    per_task = (mem["backlog"]["vmrss_mib"] - mem["before_backlog"]["vmrss_mib"]) * 2**20 / max(1, b["waiting"])
    gc_full = ", ".join(f"{k} {g['collections_by_generation'][2]}" for k, g in f["gc"].items())
    gc_max = max(g["max_ms"] for g in f["gc"].values())
    header = f"{'latency, ms':<52}{'n':>9}{'p50':>9}{'p99':>9}{'max':>9}{'cpu p50':>9}{'cpu p99':>9}   target"
    return "\n".join(
        [
            f"Callboard routing benchmark, {m['date']}",
            f"machine  {m['cpu_model']}, {m['cores']} cores, {m['python']}, {m['system']}",
            f"         pinned to core {f['pinned_cpu']}; load average {m['load_average_at_start']} at start, "
            f"{m['load_average_at_end']} at end",
            f"code     callboard.core + callboard.routing sources sha256 {f['engine_source_sha256']}, "
            f"git {f['git_revision']}",
            f"scale    {f['scale']}{' (quick)' if f['quick'] else ''}, seed {f['seed']}: {size['workers']:,} workers, "
            f"{size['queues']:,} queues, {size['workflows']:,} workflows (5 filters x 3 steps), "
            f"{size['skills']:,} skills, {size['tasks']:,} tasks",
            f"shape    {scen['members_per_queue_mean']:.0f} members per queue (max {scen['members_per_queue_max']}), "
            f"{scen['queues_per_worker_mean']:.1f} queues per worker; backlog {b['waiting']:,} waiting ("
            + ", ".join(f"{k} {v:,}" for k, v in b["by_step"].items())
            + ")",
            f"run      {total['wall_s']:.1f} s wall, {total['cpu_s']:.1f} s process CPU, "
            f"{total['preempted']:,} involuntary context switches",
            "",
            header,
            _latency_row(
                "1. create_task -> reservation, workers free",
                d["engine"],
                "p99 < 1 ms",
                t["decision_p99_ms"]["met"],
            ),
            _latency_row(f"   naive baseline: scan {size['workers']:,} workers", d["naive"]),
            _latency_row(
                "3. update_worker(Available) -> offers, with backlog",
                r["available"],
                "p99 < 2 ms",
                t["available_p99_ms"]["met"],
            ),
            _latency_row("   complete_reservation -> next offer, with backlog", r["completed"]),
            _latency_row("   create_task, no worker free (building backlog)", b["create"]),
            "",
            f"baseline / engine decision time: {d['ratio_p50']:,.0f}x at the median "
            f"({d['ratio_p50_cpu']:,.0f}x on CPU), {d['ratio_mean']:,.0f}x on the mean; "
            f"same worker chosen for {d['naive_agreed']} of {d['naive']['wall']['n']} tasks; "
            f"{r['offers_per_available']:.2f} offers per worker going Available",
            "",
            f"{'throughput':<52}{'assignments':<36}{'':<24}target",
            _rate_row("2. create -> accept -> complete, workers free", c, ">= 20,000/s", t["assignments_per_s"]["met"]),
            "   per cycle, us: " + ", ".join(f"{name} {us:.1f}" for name, us in c["per_cycle_us"].items()),
            _rate_row(f"   backlog worked off by {bc['workers']:,} workers", bc),
            "",
            f"4. memory  RSS {mem['resources']['vmrss_mib']:,.0f} MiB with resources only, "
            f"{mem['backlog']['vmrss_mib']:,.0f} MiB with the backlog, peak {mem['end']['vmhwm_mib']:,.0f} MiB; "
            f"{per_task:,.0f} B per waiting task; {b['timer_heap']:,} deadlines in the timer heap",
            "build    "
            + " / ".join(f"{k} {f['build_seconds'][k]:.1f} s" for k in ("queues", "workflows", "workers"))
            + f"; backlog {b['created']:,} creates + {b['step_escalations']:,} step escalations in "
            f"{b['wall_s']:.1f} s wall, {b['cpu_s']:.1f} s CPU",
            f"gc       full collections per phase: {gc_full}; longest pause {gc_max:.0f} ms",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 is 15,000 workers and 500,000 tasks")
    parser.add_argument("--quick", action="store_true", help="fewer samples per phase (the backlog keeps its size)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cpu", type=int, default=None, help="core to pin to (default: the highest allowed)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument(
        "--profile", metavar="DIR", help="write a cProfile file per phase into DIR (its timings are then not valid)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1.0:
        parser.error("--scale must be in (0, 1]")
    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
    figures = run(args)
    print(report(figures))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
