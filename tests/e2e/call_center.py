"""A whole Callboard voice node for end-to-end tests: store, routing center, SIP and RTP on loopback, and the
SIPp runs that play callers and agent phones against it."""

from __future__ import annotations

import asyncio
import json
import wave
from array import array
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audio import rms
from sipp import LOOPBACK, finish_sipp, free_media_port, run_sipp, start_sipp

from callboard.app.apply import apply_center
from callboard.app.center import Center
from callboard.app.ivr import FlowCalls
from callboard.app.voice import VoiceNode
from callboard.config.center import load_center_text
from callboard.config.settings import Settings
from callboard.core.clock import Clock, SystemClock
from callboard.routing.workspace import Workspace
from callboard.storage.store import Store
from callboard.voice.sip.digest import Algorithm, ha1

SCENARIOS = Path(__file__).parent / "scenarios"
SIPP_SHARE = Path("/usr/share/sip-tester")
AUDIO_PCAP = next((p for p in (SIPP_SHARE / "pcap" / "g711a.pcap", SIPP_SHARE / "g711a.pcap") if p.exists()), None)
REALM = "callboard.test"


def dtmf_pcap(digit: str) -> Path | None:
    name = f"dtmf_2833_{digit}.pcap"
    return next((p for p in (SIPP_SHARE / "pcap" / name, SIPP_SHARE / name) if p.exists()), None)


CENTER = """
version: 1
workspaces:
  - name: e2e
    default_activity: Offline
    timeout_activity: Missed
    wrapup_seconds: 2
    activities:
      - {{name: Offline, available: false}}
      - {{name: Available, available: true}}
      - {{name: Missed, available: false}}
    channels:
      - {{name: voice, capacity: 1}}
    queues:
      - {{name: sales, target_workers: 'skills HAS "sales"'}}
      - {{name: support, target_workers: 'skills HAS "support"'}}
      - {{name: billing, target_workers: 'skills HAS "billing"'}}
    workflows:
      - name: inbound
        task_reservation_timeout: {reservation_timeout}
        configuration:
          task_routing:
            filters:
              - {{filter_friendly_name: sales, expression: 'department == "sales"', targets: [{{queue: sales}}]}}
            default_filter: {{queue: support}}
{workflows}
    workers:
{workers}
"""


@dataclass
class Agent:
    username: str
    password: str
    worker_sid: str = ""


@dataclass
class CallCenter:
    """The node under test and what a test needs to drive it."""

    store: Store
    center: Center
    node: VoiceNode
    workspace: Workspace
    agents: dict[str, Agent]
    workdir: Path
    recordings: Path
    processes: list[asyncio.subprocess.Process] = field(default_factory=list)

    @property
    def sip_port(self) -> int:
        return self.node.port()

    async def available(self, *usernames: str) -> None:
        """Makes these agents Available, in this order (the first has been idle longest)."""
        ws = self.workspace
        available = next(a.sid for a in ws.activities.values() if a.friendly_name == "Available")
        for name in usernames:
            sid = self.agents[name].worker_sid
            await self.center.run(ws.sid, lambda w, sid=sid: w.update_worker(sid, activity_sid=available))
            await asyncio.sleep(0.01)  # distinct idle times

    def activity_of(self, username: str) -> str:
        worker = self.workspace.workers[self.agents[username].worker_sid]
        return self.workspace.activities[worker.activity_sid].friendly_name

    async def register(self, username: str, agent_port: int) -> None:
        """SIPp registers the agent's phone with digest; its contact is `agent_port`, where its UAS answers."""
        agent = self.agents[username]
        code, output = await run_sipp(
            *[f"{LOOPBACK}:{self.sip_port}", "-sf", str(SCENARIOS / "agent_register.xml"), "-s", username],
            *["-au", username, "-ap", agent.password, "-key", "agent_port", str(agent_port)],
            *["-i", LOOPBACK, "-p", "0", "-m", "1", "-timeout", "10s", "-timeout_error", "-nostdin"],
            cwd=self.workdir,
        )
        assert code == 0, output
        aor = f"sip:{username}@{LOOPBACK}"
        assert self.node.bindings.lookup(aor), f"{aor} is not registered"

    async def start_phone(self, scenario: str, port: int, **keys: str) -> asyncio.subprocess.Process:
        """An agent's phone: a SIPp UAS on `port` playing `scenario` once."""
        process = await start_sipp(
            *["-sf", str(SCENARIOS / scenario), "-i", LOOPBACK, "-mi", LOOPBACK, "-p", str(port)],
            *["-trace_err", "-error_file", str(self.workdir / f"phone-{port}-errors.log")],
            *["-mp", str(free_media_port()), "-m", "1", "-timeout", "40s", "-timeout_error", "-nostdin"],
            *_keys(keys),
            cwd=self.workdir,
        )
        self.processes.append(process)
        return process

    async def start_caller(
        self,
        scenario: str,
        caller: str,
        *,
        port: int | None = None,
        called: str = "100",
        media_port: int | None = None,
        **keys: str,
    ) -> asyncio.subprocess.Process:
        """A caller dialing `called` at the node (or at `port`: a proxy in front of it), its RTP on `media_port`
        (a free one by default)."""
        process = await start_sipp(
            *[f"{LOOPBACK}:{port or self.sip_port}", "-sf", str(SCENARIOS / scenario), "-s", called],
            *["-trace_err", "-error_file", str(self.workdir / f"caller-{caller}-errors.log")],
            *["-key", "caller", caller, "-i", LOOPBACK, "-mi", LOOPBACK, "-p", "0"],
            *["-mp", str(media_port or free_media_port()), "-m", "1", "-timeout", "40s", "-timeout_error", "-nostdin"],
            *_keys(keys),
            cwd=self.workdir,
        )
        self.processes.append(process)
        return process

    async def finished_call(self, caller: str) -> dict[str, Any]:
        """The stored record of the caller's call once it has ended (polled: the node writes it as it ends)."""
        for _ in range(200):
            calls = await self.store.list_calls(self.workspace.sid, limit=50)
            done = [c for c in calls if c["caller"] == caller and c["outcome"] is not None]
            if done:
                return done[0]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no finished call from {caller}: {calls}")

    async def finished_flow_call(self, caller: str) -> dict[str, Any]:
        """The stored record of the caller's call once it has ended and its flow's whole run is in it (after a
        queue the record first holds the task's path up to the queue; the node stores the whole run, with its
        `end`, as the flow ends, just after storing the ended call)."""
        for _ in range(200):
            record = await self.finished_call(caller)
            if "end" in record["attributes"].get("flow", {}):
                return record
            await asyncio.sleep(0.05)
        raise AssertionError(f"no flow path in the record of the call from {caller}: {record}")


def _keys(keys: dict[str, str]) -> list[str]:
    return [arg for name, value in keys.items() for arg in ("-key", name, value)]


def _workers(names: dict[str, list[str] | dict[str, Any]]) -> str:
    """Each worker with its skills (a list) or all its attributes (a mapping)."""
    return "\n".join(
        f"      - {{name: {name}, attributes: {json.dumps(given if isinstance(given, dict) else {'skills': given})}}}"
        for name, given in names.items()
    )


def _workflows(workflows: list[dict[str, Any]]) -> str:
    """More workflows after `inbound` (each as the center file has it), in JSON, which YAML reads as is."""
    return "\n".join(f"      - {json.dumps(workflow)}" for workflow in workflows)


@asynccontextmanager
async def call_center(
    tmp_path: Path,
    *,
    agents: dict[str, list[str] | dict[str, Any]],
    workflows: list[dict[str, Any]] | None = None,
    flow_clock: Clock | None = None,
    reservation_timeout: float = 20,
    answer_delay: float = 0.0,
    max_calls: int = 100,
    trunk_port: int | None = None,
) -> AsyncIterator[CallCenter]:
    """A node with `agents` (name -> skills, or name -> attributes), each with a user whose password is
    `<name>-pw`, and `workflows` besides `inbound`. Contact flows read the time from `flow_clock` when given
    (a fixed instant for hours and holidays); SIP, media and routing keep the wall clock."""
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'callboard.db'}")
    await store.migrate()
    clock = SystemClock()
    center = await Center.start(store, clock)
    recordings = tmp_path / "recordings"
    settings = Settings(
        sip_port=0,
        sip_transports="udp",
        sip_realm=REALM,
        sip_auth_algorithms="MD5",  # SIPp answers MD5 only, and only the first challenge
        rtp_port_min=26000,
        rtp_port_max=26998,
        recordings_dir=str(recordings),
        voice_attributes='{"language": "en"}',
        voice_answer_delay_seconds=answer_delay,
        rtp_timeout_seconds=10,
        sip_max_calls=max_calls,
        # A trunk at trunk_port (SIPp's trunk_auth_uas.xml): calls out only, no registration, no probes.
        sip_trunk=f"sip:{LOOPBACK}:{trunk_port}" if trunk_port else None,
        sip_trunk_username="trunkuser",
        sip_trunk_password="trunk-pass",
        sip_trunk_register=False,
        sip_trunk_keepalive_seconds=0,
        sip_trunk_caller_id="+15550000",
    )
    node: VoiceNode | None = None
    team: CallCenter | None = None
    try:
        text = CENTER.format(
            reservation_timeout=reservation_timeout, workers=_workers(agents), workflows=_workflows(workflows or [])
        )
        await apply_center(center, load_center_text(text, "e2e.yaml"))
        workspace = center.workspace("e2e")
        people = {}
        for name in agents:
            worker = workspace.worker_by_name(name)
            assert worker is not None
            agent = Agent(name, f"{name}-pw", worker.sid)
            user = await store.create_user(name, "$argon2id$unused", "agent", workspace.sid, agent.worker_sid)
            await store.set_sip_credentials(
                user["id"],
                REALM,
                ha1(name, REALM, agent.password, Algorithm.MD5),
                ha1(name, REALM, agent.password, Algorithm.SHA_256),
            )
            people[name] = agent
        node = await VoiceNode.start(settings, center, clock)
        if flow_clock is not None:
            assert isinstance(node.b2bua.flow, FlowCalls)
            node.b2bua.flow.clock = flow_clock
        team = CallCenter(store, center, node, workspace, people, tmp_path, recordings)
        yield team
    finally:
        if team is not None:
            for process in team.processes:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        if node is not None:
            await node.stop()
        await center.stop()
        await store.close()


async def finish(process: asyncio.subprocess.Process) -> str:
    """Waits for a SIPp run and returns its output, asserting it passed (its errors are in the test's
    folder: `*-errors.log`)."""
    code, output = await finish_sipp(process)
    assert code == 0, f"exit {code}\n{output}"
    return output


def channel_rms(path: Path) -> tuple[float, float]:
    """The RMS level of the left and right channels of a 16-bit stereo WAV."""
    left, right = stereo_channels(path)
    return rms(left), rms(right)


def stereo_channels(path: Path) -> tuple[array[int], array[int]]:
    """The left and right samples of a 16-bit stereo WAV."""
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (2, 2), "a 16-bit stereo recording"
        samples = array("h", wav.readframes(wav.getnframes()))
    return samples[0::2], samples[1::2]
