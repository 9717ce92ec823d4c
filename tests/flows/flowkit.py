"""Helpers for flow tests: a catalog, a fake schedule, building without problems and running on a virtual clock."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from callboard.core.clock import VirtualClock
from callboard.flows.build import build_flows
from callboard.flows.catalog import Catalog
from callboard.flows.model import Flow, FlowSet
from callboard.flows.runner import FlowRun, FlowRunner
from callboard.flows.scripted import HangUp, ScriptedConversation, ScriptedServices

# 2026-01-05 is a Monday. 09:30 UTC is 10:30 in Madrid (CET) and 02:30 in Denver (MST).
MONDAY_0930_UTC = 1_767_605_400.0

PROMPTS = """welcome choose-language main-menu invalid goodbye enter-account callback-offer leave-message sorry
closed holiday after-hours enter-number vip-welcome"""
CATALOG = Catalog(
    prompts=frozenset(PROMPTS.split()),
    workflows=frozenset({"inbound", "callbacks", "voicemail"}),
    queues=frozenset({"sales", "support"}),
    schedules=frozenset({"madrid", "denver"}),
    flows=frozenset(),
)

TEXTS = {
    ("welcome", "en"): "Welcome.",
    ("welcome", "es"): "Bienvenido.",
    ("invalid", "en"): "Invalid choice.",
    ("goodbye", "en"): "Goodbye.",
    ("closed", "en"): "We are closed.",
}


class Status(enum.Enum):
    """Mirrors `flows.schedule.HoursStatus` by member names, as the `hours` node reads it."""

    OPEN = "open"
    CLOSED = "closed"
    HOLIDAY = "holiday"


@dataclass(frozen=True)
class State:
    status: Status
    holiday: str | None = None


@dataclass
class FakeSchedule:
    """Open on [opens, closes) seconds of each UTC day, except on the listed UTC dates (holidays by name)."""

    opens: int = 8 * 3600
    closes: int = 18 * 3600
    holidays: dict[str, str] = field(default_factory=dict)  # "YYYY-MM-DD" -> name
    asked: list[float] = field(default_factory=list)

    def state_at(self, instant: float) -> State:
        self.asked.append(instant)
        day = datetime.datetime.fromtimestamp(instant, datetime.UTC).date().isoformat()
        if day in self.holidays:
            return State(Status.HOLIDAY, self.holidays[day])
        second = int(instant) % 86_400
        return State(Status.OPEN if self.opens <= second < self.closes else Status.CLOSED)


def build(data: list[dict[str, Any]], catalog: Catalog = CATALOG) -> dict[str, Flow]:
    flows, problems = build_flows(data, catalog)
    assert problems == []
    return flows


def flow(nodes: dict[str, Any], name: str = "main", **extra: Any) -> dict[str, Any]:
    return {"name": name, "nodes": nodes, **extra}


@dataclass
class Harness:
    """One flow set on a virtual clock with scripted services; `call` runs a scripted caller through it."""

    flows: dict[str, Flow]
    schedules: dict[str, FakeSchedule] = field(default_factory=dict)
    services: ScriptedServices = field(default_factory=ScriptedServices)
    clock: VirtualClock = field(default_factory=lambda: VirtualClock(MONDAY_0930_UTC))
    max_steps: int = 500

    def __post_init__(self) -> None:
        self.runner = FlowRunner(
            FlowSet(self.flows, self.schedules, "v1"), self.clock, self.services, max_steps=self.max_steps
        )

    async def call(
        self,
        inputs: Iterable[str | HangUp | None] = (),
        flow: str = "main",
        variables: Mapping[str, Any] | None = None,
        **conversation: Any,
    ) -> tuple[FlowRun, ScriptedConversation]:
        caller = ScriptedConversation(inputs, texts=TEXTS, clock=self.clock, **conversation)
        given = {"caller": "+34600000001", "workspace": "acme", "time_zone": "Europe/Madrid", **(variables or {})}
        run = await self.runner.run(flow, caller, given)
        return run, caller


def harness(*flows: dict[str, Any], **options: Any) -> Harness:
    return Harness(build(list(flows)), **options)
