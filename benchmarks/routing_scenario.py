"""The routing benchmark's contact center: seeded workers, queues, workflows and tasks at a given scale.

At scale 1.0 it is TaskRouter's largest workspace: 15,000 workers, 5,000 queues, 1,000 workflows with
three-step escalation and 500,000 tasks. The number of skills scales too (1,000 at full size), so a
skill's pool stays at roughly 150 workers and a routing decision does the same work at every scale
(it still takes longer at full size, where less of the heap stays in the CPU caches).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from callboard.core.clock import VirtualClock
from callboard.routing.workspace import Workspace

LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "ja", "zh")
LANGUAGE_WEIGHTS = (50, 20, 8, 8, 5, 4, 3, 2)
SITES = ("lon", "nyc", "sfo", "ber", "syd")
TIERS = ("bronze", "silver", "gold")
FILTERS_PER_WORKFLOW = 5
STEP_TIMEOUTS = (30.0, 60.0)  # seconds on step 1 and step 2; step 3 waits until the task's TTL
DEFAULT_FILTER_SHARE = 0.1  # tasks whose skill no filter of their workflow names

# One queue per skill and variant: its target_workers and the task condition of the filter that feeds it.
VARIANTS: tuple[tuple[str, str, str], ...] = (
    ("any", 'skills HAS "{s}"', 'skill == "{s}"'),
    ("es", 'skills HAS "{s}" AND languages HAS "es"', 'skill == "{s}" AND language == "es"'),
    ("site", 'skills HAS "{s}" AND site IN ["nyc", "lon"]', 'skill == "{s}" AND tier == "gold"'),
    ("senior", 'skills HAS "{s}" AND level >= 4', 'skill == "{s}" AND tier IN ["gold", "silver"]'),
    (
        "eu",
        'skills HAS "{s}" AND (languages HAS "fr" OR languages HAS "de")',
        'skill == "{s}" AND language IN ["fr", "de"]',
    ),
)


@dataclass(frozen=True)
class Size:
    workers: int
    queues: int
    workflows: int
    tasks: int
    skills: int

    @classmethod
    def at(cls, scale: float) -> Size:
        skills = max(10, round(1000 * scale))
        return cls(
            workers=max(50, round(15_000 * scale)),
            queues=len(VARIANTS) * skills,
            workflows=max(2, round(1000 * scale)),
            tasks=max(1000, round(500_000 * scale)),
            skills=skills,
        )


@dataclass(frozen=True)
class TaskSpec:
    workflow_sid: str
    attributes: dict[str, Any]
    channel: str
    priority: int


@dataclass
class Center:
    """The built workspace on its virtual clock, with what the benchmark needs to drive it."""

    clock: VirtualClock
    ws: Workspace
    available: str
    offline: str
    worker_sids: list[str]
    workflow_sids: list[str]
    routes: list[list[tuple[str, int]]]  # per workflow, the (skill, variant) of each filter
    skills: list[str]
    build_seconds: dict[str, float] = field(default_factory=dict)


def skill_name(index: int) -> str:
    return f"skill_{index:03d}"


def queue_name(skill: str, variant: int) -> str:
    return f"{skill}-{VARIANTS[variant][0]}"


def _workflow_configuration(routes: list[tuple[str, int]], default_skill: str) -> dict[str, Any]:
    filters = []
    for skill, variant in routes:
        queue = queue_name(skill, variant)
        filters.append(
            {
                "filter_friendly_name": queue,
                "expression": VARIANTS[variant][2].format(s=skill),
                "targets": [
                    {"queue": queue, "expression": "worker.level >= 5", "timeout": STEP_TIMEOUTS[0]},
                    {"queue": queue, "expression": "task.language IN worker.languages", "timeout": STEP_TIMEOUTS[1]},
                    {"queue": queue_name(skill, 0)},
                ],
            }
        )
    return {"task_routing": {"filters": filters, "default_filter": {"queue": queue_name(default_skill, 0)}}}


def _worker_attributes(rng: random.Random, skills: list[str]) -> dict[str, Any]:
    primary = rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0]
    extra = rng.sample(LANGUAGES, rng.randint(0, 2))
    return {
        "skills": sorted(rng.sample(skills, min(len(skills), rng.randint(5, 15)))),
        "languages": sorted({primary, *extra}),
        "level": rng.randint(1, 10),
        "site": rng.choice(SITES),
    }


def build(size: Size, seed: int) -> Center:
    """Activities, channels, queues, workflows and workers, all workers Available; no tasks yet."""
    rng = random.Random(seed)
    clock = VirtualClock()
    ws = Workspace(clock, seed=seed)
    seconds: dict[str, float] = {}
    offline = ws.add_activity("Offline", False).sid
    available = ws.add_activity("Available", True).sid
    ws.add_channel("voice", capacity=1)
    ws.add_channel("chat", capacity=3)
    skills = [skill_name(i) for i in range(size.skills)]

    start = time.perf_counter()
    for index in range(size.queues):
        skill, variant = skills[index % size.skills], index // size.skills
        ws.add_queue(queue_name(skill, variant), target_workers=VARIANTS[variant][1].format(s=skill))
        _drain(ws)
    seconds["queues"] = time.perf_counter() - start

    start = time.perf_counter()
    routes: list[list[tuple[str, int]]] = []
    workflow_sids: list[str] = []
    for w in range(size.workflows):
        plan = []
        for j in range(FILTERS_PER_WORKFLOW):
            index = (FILTERS_PER_WORKFLOW * w + j) % size.queues
            plan.append((skills[index % size.skills], index // size.skills))
        configuration = _workflow_configuration(plan, default_skill=skills[(7 * w) % size.skills])
        workflow_sids.append(ws.add_workflow(f"workflow-{w:04d}", configuration, task_reservation_timeout=120).sid)
        routes.append(plan)
        _drain(ws)
    seconds["workflows"] = time.perf_counter() - start

    start = time.perf_counter()
    worker_sids = []
    for i in range(size.workers):
        worker = ws.add_worker(f"agent-{i:05d}", attributes=_worker_attributes(rng, skills), activity_sid=available)
        worker_sids.append(worker.sid)
        _drain(ws)
    seconds["workers"] = time.perf_counter() - start
    return Center(clock, ws, available, offline, worker_sids, workflow_sids, routes, skills, seconds)


def task_specs(center: Center, seed: int) -> Iterator[TaskSpec]:
    """An endless seeded stream of tasks; most match one of their workflow's filters, some fall to the default."""
    rng = random.Random(seed)
    while True:
        w = rng.randrange(len(center.workflow_sids))
        language = rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0]
        tier = rng.choice(TIERS)
        if rng.random() < DEFAULT_FILTER_SHARE:
            skill = rng.choice(center.skills)
        else:
            skill, variant = rng.choice(center.routes[w])
            if variant == 1:
                language = "es"
            elif variant == 2:
                tier = "gold"
            elif variant == 3:
                tier = rng.choice(("gold", "silver"))
            elif variant == 4:
                language = rng.choice(("fr", "de"))
        yield TaskSpec(
            center.workflow_sids[w],
            {"skill": skill, "language": language, "tier": tier, "account": f"AC{rng.randrange(10**8):08d}"},
            "voice" if rng.random() < 0.6 else "chat",
            0 if rng.random() < 0.9 else rng.randint(1, 5),
        )


def _drain(ws: Workspace) -> None:
    ws.drain_changes()
    ws.drain_events()
