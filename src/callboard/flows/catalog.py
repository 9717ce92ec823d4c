"""The names flows, numbers and schedules may refer to, so that a reference to nothing is found when they are built."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from callboard.flows.system_prompts import SYSTEM_PROMPT_NAMES

__all__ = ["LANGUAGES", "Catalog"]

LANGUAGES = frozenset({"en", "es", "ru"})  # the languages the system prompts ship in


@dataclass(frozen=True)
class Catalog:
    """What exists in the workspace a flow belongs to: prompts (the system prompts among them), workflows,
    queues, schedules, flows, channels and the languages prompts can be said in."""

    prompts: frozenset[str] = frozenset()
    workflows: frozenset[str] = frozenset()
    queues: frozenset[str] = frozenset()
    schedules: frozenset[str] = frozenset()
    flows: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    languages: frozenset[str] = LANGUAGES

    @classmethod
    def of_workspace(
        cls,
        *,
        prompts: Iterable[str] = (),
        workflows: Iterable[str] = (),
        queues: Iterable[str] = (),
        schedules: Iterable[str] = (),
        flows: Iterable[str] = (),
        channels: Iterable[str] = (),
    ) -> Catalog:
        """A workspace's catalog from the names it has (queues and workflows by friendly name, as a node that
        runs its flows resolves them); the system prompts are added to its own prompts. Every place that checks
        or runs a workspace's flows (the API, the center file, the voice node, `callboard flow test`) builds it
        here, so they agree on what a flow may name."""
        return cls(
            prompts=frozenset(prompts) | SYSTEM_PROMPT_NAMES,
            workflows=frozenset(workflows),
            queues=frozenset(queues),
            schedules=frozenset(schedules),
            flows=frozenset(flows),
            channels=frozenset(channels),
        )
