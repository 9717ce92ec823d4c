"""A one-digit menu: the greeting, a digit, the attributes of the department it picks.

A fixed `CallFlow` for tests and benchmarks of the voice plane alone (centers run contact flows, `flows/`): it
asks up to `attempts` times, says why a digit is not valid, and falls back to `default` when the caller chooses
nothing; the choice is queued with music on hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callboard.voice.calls.call_record import Outcome
from callboard.voice.calls.inbound import InboundCall, QueueRequest, Waited
from callboard.voice.calls.leg import Leg
from callboard.voice.media.playback import Prompt

__all__ = ["PROMPTS_DIR", "Menu", "MenuFlow", "department_menu"]

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


@dataclass(frozen=True)
class Menu:
    greeting: Prompt
    options: Mapping[str, Mapping[str, Any]]
    invalid: Prompt | None = None
    connecting: Prompt | None = None
    no_agent: Prompt | None = None
    attempts: int = 3
    digit_timeout: float = 5.0
    default: str | None = None

    async def run(self, leg: Leg) -> Mapping[str, Any] | None:
        """Plays the greeting and collects one digit, retrying; the chosen option's attributes, or the
        default's, or None when there is no default."""
        for attempt in range(self.attempts):
            digit = await leg.gather(1, self.digit_timeout, terminator="", interrupt_prompt=self.greeting)
            if digit in self.options:
                return self.options[digit]
            if digit and self.invalid is not None and attempt + 1 < self.attempts:
                await leg.play(self.invalid)
        return self.options.get(self.default) if self.default is not None else None


@dataclass(frozen=True)
class MenuFlow:
    """The menu as a whole call: the choice becomes a task; no choice, or no agent in time, says `no_agent`."""

    menu: Menu

    async def run(self, call: InboundCall) -> None:
        menu, leg = self.menu, call.leg
        choice = await menu.run(leg)
        if choice is None:
            call.outcome = Outcome.FAILED
        else:
            if menu.connecting is not None:
                leg.queue_playback(menu.connecting)
            waited = await call.enqueue(QueueRequest(dict(choice)))
            if waited in (Waited.COMPLETED, Waited.HUNG_UP):
                return
        if menu.no_agent is not None:
            await leg.play(menu.no_agent)


def department_menu(prompts: Path = PROMPTS_DIR) -> Menu:
    """The demo center's menu: 1 sales, 2 support, 3 billing; no choice goes to support."""
    return Menu(
        greeting=Prompt.from_wav(prompts / "welcome.wav"),
        options={
            "1": {"department": "sales"},
            "2": {"department": "support"},
            "3": {"department": "billing"},
        },
        invalid=Prompt.from_wav(prompts / "invalid.wav"),
        connecting=Prompt.from_wav(prompts / "connecting.wav"),
        no_agent=Prompt.from_wav(prompts / "no-agent.wav"),
        default="2",
    )
