"""The names flows, numbers and schedules may refer to, so that a reference to nothing is found when they are built."""

from __future__ import annotations

from dataclasses import dataclass

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
