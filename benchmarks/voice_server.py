"""The server side of the voice benchmarks, run by `voice.py` in a process of its own so that its CPU time is
measured apart from SIPp's and the driver's.

Modes:
- `answer-play`: the voice stack alone (UserAgent, Leg, RTP): answer, play a prompt once, hang up (BYE).
- `hold`: answer and play a looping prompt until the caller hangs up.
- `center`: the whole voice node (`VoiceNode`: registrar, B2BUA, menu, routing engine, store, recordings) with
  `--agents` agents whose phones SIPp registers; the caller picks support with a digit and is bridged to one.

It writes `{"sip_port": N}` to `--ready` once it listens, runs until SIGTERM or SIGINT, then writes its counters
as JSON to `--stats` and exits. `--profile FILE` writes a cProfile of the whole run; `--census SECONDS` counts
the objects the collector tracks by type every SECONDS and reports the largest count (it pauses the loop while
it counts, so its timings are then not valid).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import dataclasses
import gc
import json
import logging
import shutil
import signal
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

from callboard.app.server import run_loop, set_priority
from callboard.core.clock import SystemClock
from callboard.voice.calls.errors import LegEndedError
from callboard.voice.calls.events import HangupCause
from callboard.voice.calls.leg import Leg
from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.menu import PROMPTS_DIR
from callboard.voice.media.clock import AsyncioMediaClock, MediaClock
from callboard.voice.media.playback import Prompt, read_wav
from callboard.voice.media.ports import RtpPortPool
from callboard.voice.sip.call_events import CallEvent
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import InviteSession
from callboard.voice.sip.scheduler import AsyncioScheduler
from callboard.voice.sip.transports import UdpTransport
from callboard.voice.sip.user_agent import UserAgent

LOOPBACK = "127.0.0.1"
REALM = "callboard.bench"
log = logging.getLogger("voice_server")


def bench_prompt(seconds: float) -> Prompt:
    """The first `seconds` of the demo's welcome prompt (speech, so the frames are not all alike)."""
    pcm = read_wav(PROMPTS_DIR / "welcome.wav")
    return Prompt.from_pcm(f"welcome-{seconds:g}s", pcm[: int(seconds * 8000) * 2])


class Switch:
    """Serves each incoming call with a leg: `answer-play` hangs up after one prompt, `hold` loops it until the
    caller hangs up. Counts what happened to the calls and sums their RTP counters."""

    def __init__(self, settings: MediaSettings, prompt: Prompt, *, hold: bool) -> None:
        self.settings = settings
        self.prompt = prompt
        self.hold = hold
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.rtp: collections.Counter[str] = collections.Counter()
        self.tasks: set[asyncio.Task[None]] = set()
        self.active = 0
        self.peak_active = 0

    def on_incoming_call(self, call: IncomingCall) -> None:
        leg = Leg.incoming(call, self.settings)
        task = asyncio.get_running_loop().create_task(self._serve(leg))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        self.outcomes["stray_event"] += 1

    async def _serve(self, leg: Leg) -> None:
        self.active += 1
        self.peak_active = max(self.peak_active, self.active)
        try:
            await leg.answer()
            session = leg.session
            if self.hold:
                leg.queue_playback(self.prompt, loop=True)
                hangup = await leg.wait_ended()
                self.outcomes["held_until_caller_hung_up" if hangup.remote else f"ended_{hangup.cause.value}"] += 1
            else:
                complete = await leg.play(self.prompt)
                hangup = await leg.hangup()
                self.outcomes["played_and_hung_up" if complete and not hangup.remote else "cut_short"] += 1
            counters = session.counters
            self.rtp["packets_sent"] += counters.packets_sent
            self.rtp["packets_received"] += counters.packets_received
            self.rtp["unsent_no_remote"] += counters.unsent_no_remote
            self.rtp["legs"] += 1
        except LegEndedError:
            self.outcomes["ended_before_answer"] += 1
        except Exception:
            log.exception("call failed")
            self.outcomes["error"] += 1
            if leg.state.value != "ended":
                await leg.hangup(HangupCause.NORMAL)
        finally:
            self.active -= 1


async def serve_legs(args: argparse.Namespace, stop: asyncio.Event) -> dict[str, Any]:
    media_clock = AsyncioMediaClock()
    media_clock.start()
    pool = RtpPortPool(args.rtp_min, args.rtp_max, host=LOOPBACK)
    settings = MediaSettings(pool, media_clock, LOOPBACK, rtp_timeout=None)
    switch = Switch(settings, bench_prompt(args.prompt_seconds), hold=args.mode == "hold")
    clock = SystemClock()
    ua = UserAgent(switch, scheduler=AsyncioScheduler(clock), clock=clock)
    transport = await UdpTransport.open(ua, LOOPBACK, args.port)
    ua.bind(transport, sent_by=transport.sent_by)
    _ready(args, transport.local_address[1])
    await stop.wait()
    while switch.tasks:
        await asyncio.wait(set(switch.tasks), timeout=5)
        break
    await transport.close()
    await media_clock.stop()
    return {
        "outcomes": dict(switch.outcomes),
        "rtp": dict(switch.rtp),
        "peak_active_calls": switch.peak_active,
        "calls_still_active": switch.active,
        "media_clock": _clock_counters(media_clock),
        "transport": _transport_counters(transport),
        "ports": {"allocated": pool.counters.allocated, "bind_failures": pool.counters.bind_failures},
    }


CENTER = """
version: 1
workspaces:
  - name: bench
    default_activity: Offline
    timeout_activity: Missed
    wrapup_seconds: {wrapup}
    activities:
      - {{name: Offline, available: false}}
      - {{name: Available, available: true}}
      - {{name: Missed, available: false}}
    channels:
      - {{name: voice, capacity: 1}}
    queues:
      - {{name: sales, target_workers: 'skills HAS "sales"'}}
      - {{name: support, target_workers: 'skills HAS "support"'}}
    workflows:
      - name: inbound
        task_reservation_timeout: 20
        configuration:
          task_routing:
            filters:
              - {{filter_friendly_name: sales, expression: 'department == "sales"', targets: [{{queue: sales}}]}}
            default_filter: {{queue: support}}
    workers:
{workers}
"""


def agent_name(i: int) -> str:
    return f"agent{i:04d}"


async def serve_center(args: argparse.Namespace, stop: asyncio.Event) -> dict[str, Any]:
    """The whole node, set up as `tests/e2e/call_center.py` does, with `--agents` agents made Available."""
    from callboard.app.apply import apply_center
    from callboard.app.center import Center
    from callboard.app.voice import VoiceNode
    from callboard.config.center import load_center_text
    from callboard.config.settings import Settings
    from callboard.storage.store import Store
    from callboard.voice.sip.digest import Algorithm, ha1

    workdir = Path(tempfile.mkdtemp(prefix="callboard-bench-node-", dir=args.workdir))
    store = await Store.open(f"sqlite+aiosqlite:///{workdir / 'callboard.db'}")
    await store.migrate()
    clock = SystemClock()
    center = await Center.start(store, clock)
    workers = "\n".join(
        f"      - {{name: {agent_name(i)}, attributes: {{skills: [support, sales]}}}}" for i in range(args.agents)
    )
    await apply_center(center, load_center_text(CENTER.format(wrapup=args.wrapup, workers=workers), "bench.yaml"))
    workspace = center.workspace("bench")
    for i in range(args.agents):
        name = agent_name(i)
        worker = workspace.worker_by_name(name)
        assert worker is not None
        user = await store.create_user(name, "$argon2id$unused", "agent", workspace.sid, worker.sid)
        password = f"{name}-pw"
        await store.set_sip_credentials(
            user["id"], REALM, ha1(name, REALM, password, Algorithm.MD5), ha1(name, REALM, password, Algorithm.SHA_256)
        )
    settings = Settings(
        sip_host=LOOPBACK,
        sip_port=args.port,
        sip_transports="udp",
        sip_realm=REALM,
        sip_auth_algorithms="MD5",  # SIPp answers MD5 only
        rtp_port_min=args.rtp_min,
        rtp_port_max=args.rtp_max,
        recordings_dir=str(workdir / "recordings"),
        rtp_timeout_seconds=30,
        sip_max_calls=args.max_calls,
    )
    node = await VoiceNode.start(settings, center, clock)
    available = next(a.sid for a in workspace.activities.values() if a.friendly_name == "Available")
    # Every agent goes Available once its phone is registered: the driver registers them, then sends SIGUSR1.
    registered = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, registered.set)
    _ready(args, node.port())
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({stopped, asyncio.ensure_future(registered.wait())}, return_when=asyncio.FIRST_COMPLETED)
    sids = [w.sid for w in workspace.workers.values()]
    await center.run(workspace.sid, lambda w: [w.update_worker(sid, activity_sid=available) for sid in sids])
    bindings = len(node.bindings.aors)
    await node.stored_bindings.flush()  # the registrations are written to the store before the calls start
    await asyncio.to_thread(Path(args.ready).write_text, json.dumps({"sip_port": node.port(), "available": True}))
    await stopped
    calls_in_progress = node.b2bua.calls
    records = await store.list_calls(workspace.sid, limit=1_000_000)
    outcomes = collections.Counter(f"{r['outcome']}/{r['hangup_by']}" for r in records)
    talk = sorted(r["talk_seconds"] for r in records if r["talk_seconds"] is not None)
    wait = sorted(r["wait_seconds"] for r in records if r["wait_seconds"] is not None)
    stats = {
        "registered_aors": bindings,
        "refused_503": node.ua.refused,
        "calls_in_progress_at_stop": calls_in_progress,
        "call_records": len(records),
        "outcomes": dict(outcomes),
        "recorded": sum(1 for r in records if r["recording_path"]),
        "wait_seconds": _spread(wait),
        "talk_seconds": _spread(talk),
        "media_clock": _clock_counters(node.media_clock),
        "transport": _transport_counters(node.transports[0]),
    }
    await node.stop()
    await center.stop()
    await store.close()
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return stats


def _spread(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    p99 = values[min(len(values) - 1, len(values) * 99 // 100)]
    return {"p50": values[len(values) // 2], "p99": p99, "max": values[-1]}


def _clock_counters(clock: MediaClock) -> dict[str, int]:
    return dict(dataclasses.asdict(clock.counters))


def _transport_counters(transport: Any) -> dict[str, int]:
    return dict(dataclasses.asdict(transport.counters))


def _ready(args: argparse.Namespace, port: int) -> None:
    Path(args.ready).write_text(json.dumps({"sip_port": port}))


class GcPauses:
    """The collector's pauses by generation (count, total and longest in ms): a long one delays the media clock."""

    def __init__(self) -> None:
        self.started = 0.0
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self.collected = [0, 0, 0]  # unreachable objects found (garbage in reference cycles)
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            self.pauses[info["generation"]].append((time.perf_counter() - self.started) * 1000)
            self.collected[info["generation"]] += info["collected"]

    def summary(self) -> dict[str, dict[str, float]]:
        summary = {}
        for gen, ms in self.pauses.items():
            total, longest = round(sum(ms), 1), round(max(ms, default=0), 2)
            summary[f"gen{gen}"] = {
                "count": len(ms),
                "total_ms": total,
                "max_ms": longest,
                "collected": self.collected[gen],
            }
        return summary


class Census:
    """The objects the collector tracks, by type, at the moment they were most numerous (sampled)."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.largest: collections.Counter[str] = collections.Counter()
        self.task = asyncio.ensure_future(self._sample())

    async def _sample(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            counts = collections.Counter(_kind(o) for o in gc.get_objects())
            if counts.total() > self.largest.total():
                self.largest = counts

    def summary(self) -> dict[str, Any]:
        self.task.cancel()
        return {"objects": self.largest.total(), "by_type": dict(self.largest.most_common(45))}


def _kind(o: object) -> str:
    """An object's type; for functions and bound methods, which function (closures and callbacks pile up)."""
    if isinstance(o, types.MethodType):
        return f"method {o.__func__.__qualname__}"
    if isinstance(o, types.FunctionType):
        return f"function {o.__qualname__}"
    return type(o).__qualname__


async def main(args: argparse.Namespace) -> dict[str, Any]:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    set_priority(args.nice)  # as `serve` does with CALLBOARD_PROCESS_NICE
    gc.freeze()  # what start-up loaded stays out of the collector's generations, as the app does
    pauses = GcPauses()
    census = Census(args.census) if args.census else None
    result = await (serve_center if args.mode == "center" else serve_legs)(args, stop)
    if census is not None:
        result["census"] = census.summary()
    return {**result, "gc": pauses.summary()}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("answer-play", "hold", "center"), required=True)
    parser.add_argument("--port", type=int, default=0, help="SIP UDP port on 127.0.0.1 (0: any free one)")
    parser.add_argument("--rtp-min", type=int, default=40000)
    parser.add_argument("--rtp-max", type=int, default=49999)
    parser.add_argument("--prompt-seconds", type=float, default=2.0)
    parser.add_argument("--agents", type=int, default=600)
    parser.add_argument("--wrapup", type=float, default=1.0, help="seconds of wrap-up after each call (center)")
    parser.add_argument("--max-calls", type=int, default=5000, help="sip_max_calls (center)")
    parser.add_argument("--workdir", default=None, help="where the store and recordings go (center)")
    parser.add_argument("--keep", action="store_true", help="keep the store and recordings (center)")
    parser.add_argument("--ready", required=True, help="file written once the server listens")
    parser.add_argument("--stats", required=True, help="file the counters are written to at exit")
    parser.add_argument("--profile", default=None, help="write a cProfile of the run to this file")
    parser.add_argument("--census", type=float, default=None, help="count live objects by type every N seconds")
    parser.add_argument("--nice", type=int, default=None, help="this process's nice value (CALLBOARD_PROCESS_NICE)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    profiler = cProfile.Profile() if arguments.profile else None
    if profiler is not None:
        profiler.enable()
    result = run_loop(main(arguments))
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(arguments.profile)
    Path(arguments.stats).write_text(json.dumps(result, indent=1))
    sys.exit(0)
