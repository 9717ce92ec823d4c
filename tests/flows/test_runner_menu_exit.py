"""Which exit a menu takes when its tries run out: the last try decides."""

from __future__ import annotations

import pytest
from flowkit import flow, harness

BYE = {"type": "hangup", "say": ["goodbye"]}
MENU = flow(
    {
        "m": {"type": "menu", "say": ["main-menu"], "options": {"1": "bye"}, "invalid": "bad", "no_input": "quiet"},
        "bad": BYE,
        "quiet": BYE,
        "bye": BYE,
    }
)


@pytest.mark.parametrize(
    ("inputs", "exit_"),
    [
        (["7", "", ""], "no_input"),
        (["7", "8", ""], "no_input"),  # wrong keys, then silence: the caller stopped trying
        (["", "", "7"], "invalid"),
        (["", "7", "8"], "invalid"),
    ],
)
async def test_the_last_try_decides_between_invalid_and_no_input(inputs: list[str], exit_: str) -> None:
    run, _ = await harness(MENU).call(inputs)
    assert run.steps[0].exit == exit_ and run.steps[0].inputs == tuple(inputs)
