"""Nodes that wait for the caller: menu retries and exits, collected digits, the callback offer."""

from __future__ import annotations

from typing import Any

import pytest
from flowkit import MONDAY_0930_UTC, flow, harness

from callboard.flows.conversation import Message, PromptRef
from callboard.flows.runner import FlowEnd
from callboard.flows.scripted import HANG_UP

BYE = {"type": "hangup", "say": ["goodbye"]}


def menu_flow(**menu: Any) -> dict[str, Any]:
    node = {
        "type": "menu",
        "say": ["main-menu"],
        "options": {"1": {"next": "sales", "set": {"department": "sales"}}, "#": "operator"},
        **menu,
    }
    exits = {"sales": BYE, "operator": BYE, **{menu[key]: BYE for key in ("invalid", "no_input") if key in menu}}
    return flow({"m": node, **exits})


async def test_a_wrong_digit_then_a_right_one() -> None:
    run, _ = await harness(menu_flow(timeout=4)).call(["7", "1"])
    assert run.path == ("m", "sales")
    step = run.steps[0]
    assert step.inputs == ("7", "1") and step.exit == "1"
    assert step.said == (
        Message((PromptRef("main-menu"),), "en"),
        Message((PromptRef("invalid"),), "en"),
        Message((PromptRef("main-menu"),), "en"),
    )
    assert (run.variables["menu"], run.variables["digits"], run.variables["department"]) == ("1", "1", "sales")


async def test_the_hash_key_is_an_option_not_a_terminator() -> None:
    run, _ = await harness(menu_flow()).call(["#"])
    assert run.path == ("m", "operator") and run.variables["menu"] == "#"


async def test_silence_until_the_attempts_run_out_takes_no_input_and_waits_each_time() -> None:
    h = harness(menu_flow(retries=2, timeout=4, no_input="quiet", invalid="bad"))
    run, caller = await h.call(["", None, ""])
    assert run.path == ("m", "quiet") and run.steps[0].exit == "no_input"
    assert run.steps[0].inputs == ("", "", "")
    assert PromptRef("invalid") not in [p for m in caller.said for p in m.parts]  # silence is not a wrong digit
    assert h.clock.now() == MONDAY_0930_UTC + 12


async def test_wrong_digits_until_the_attempts_run_out_take_invalid() -> None:
    run, caller = await harness(menu_flow(retries=1, invalid="bad", no_input="quiet")).call(["5", "6"])
    assert run.path == ("m", "bad") and run.steps[0].exit == "invalid"
    assert caller.transcript == [
        "ask: [main-menu]",
        "caller: 5",
        "say: Invalid choice.",
        "ask: [main-menu]",
        "caller: 6",
        "say: Goodbye.",
        "hangup",
    ]  # no invalid prompt after the last attempt


async def test_without_invalid_a_wrong_digit_takes_no_input_and_without_that_the_call_ends() -> None:
    run, _ = await harness(menu_flow(retries=0, no_input="quiet")).call(["5"])
    assert run.path == ("m", "quiet")
    run, caller = await harness(menu_flow(retries=0)).call(["5"])
    assert (run.end, run.path, run.steps[0].exit, run.steps[0].target) == (FlowEnd.NO_EXIT, ("m",), "invalid", None)
    assert caller.hung_up


async def test_a_custom_invalid_prompt() -> None:
    _, caller = await harness(menu_flow(invalid_say=[{"text": "Nope, {{ digits }}"}])).call(["4", "1"])
    assert "say: Nope, 4" in caller.transcript


# --- collect ----------------------------------------------------------------------------------------------


def collect_flow(**collect: Any) -> dict[str, Any]:
    node = {"type": "collect", "say": ["enter-account"], "variable": "account", "next": "ok", "failed": "no", **collect}
    return flow({"c": node, "ok": BYE, "no": BYE})


@pytest.mark.parametrize(
    ("collect", "inputs", "path", "account"),
    [
        ({"pattern": "^[0-9]{6,8}$", "max_digits": 8}, ["123456#"], ("c", "ok"), "123456"),
        ({"pattern": "^[0-9]{6,8}$", "max_digits": 8}, ["12345#", "1234567#"], ("c", "ok"), "1234567"),
        ({"pattern": "[0-9]{6}", "attempts": 1}, ["1234567"], ("c", "no"), None),  # the whole input must match
        ({"max_digits": 4}, ["123456789"], ("c", "ok"), "1234"),
        ({"min_digits": 4, "attempts": 2}, ["12#", "123#"], ("c", "no"), None),
        ({"min_digits": 4, "attempts": 2}, ["12#", "1234"], ("c", "ok"), "1234"),
        ({"terminator": "*"}, ["12*34"], ("c", "ok"), "12"),
        ({"terminator": ""}, ["12#4"], ("c", "ok"), "12#4"),
        ({"attempts": 3}, ["", "", "9#"], ("c", "ok"), "9"),
        ({"attempts": 1}, [""], ("c", "no"), None),
    ],
)
async def test_collect_checks_length_pattern_terminator_and_attempts(
    collect: dict[str, Any], inputs: list[str], path: tuple[str, ...], account: str | None
) -> None:
    run, _ = await harness(collect_flow(**collect)).call(inputs)
    assert run.path == path
    assert run.variables.get("account") == account
    assert len(run.steps[0].inputs) == len(inputs)


async def test_collect_says_invalid_between_attempts_and_ends_without_failed() -> None:
    data = flow(
        {"c": {"type": "collect", "say": ["enter-account"], "variable": "n", "min_digits": 3, "next": "ok"}, "ok": BYE}
    )
    run, caller = await harness(data).call(["1", "2", "3"])
    assert run.end is FlowEnd.NO_EXIT and run.steps[0].exit == "failed"
    assert caller.transcript.count("say: Invalid choice.") == 2


# --- callback ---------------------------------------------------------------------------------------------


def callback_flow(**callback: Any) -> dict[str, Any]:
    node = {
        "type": "callback",
        "say": ["callback-offer"],
        "workflow": "callbacks",
        "attributes": {"reason": "{{ department }}"},
        "next": "thanks",
        "failed": "sorry",
        **callback,
    }
    return flow({"cb": node, "thanks": BYE, "sorry": BYE})


async def test_callback_on_the_callers_number() -> None:
    run, caller = await harness(callback_flow(priority=3)).call(
        ["1"], variables={"department": "sales", "language": "es"}
    )
    assert run.path == ("cb", "thanks")
    (request,) = caller.callbacks
    assert (request.workflow, request.number, request.priority, request.language) == (
        "callbacks",
        "+34600000001",
        3,
        "es",
    )
    assert request.attributes == {"reason": "sales"} and run.variables["callback_number"] == "+34600000001"


async def test_callback_on_another_number_entered() -> None:
    run, caller = await harness(callback_flow()).call(["2", "915551234#"])
    assert caller.callbacks[0].number == "915551234"
    assert run.steps[0].said[1] == Message((PromptRef("enter-number"),), "en")


async def test_callback_retries_then_fails() -> None:
    run, caller = await harness(callback_flow(attempts=2)).call(["9", "2", "12#"])
    assert run.path == ("cb", "sorry") and caller.callbacks == []  # 9 is no choice, 12 is too short
    assert run.steps[0].inputs == ("9", "2", "12")


async def test_callback_without_confirm_uses_the_callers_number_and_fails_without_one() -> None:
    h = harness(callback_flow(confirm=False))
    run, caller = await h.call()
    assert run.path == ("cb", "thanks") and caller.transcript[0] == "say: [callback-offer]"
    run, caller = await h.call(variables={"caller": ""})
    assert run.path == ("cb", "sorry")
    run, caller = await h.call(callback_sid=None)
    assert run.path == ("cb", "sorry") and len(caller.callbacks) == 1


async def test_the_caller_hanging_up_mid_menu_ends_the_run_cleanly() -> None:
    run, caller = await harness(menu_flow()).call(["4", HANG_UP])
    assert run.end is FlowEnd.CALLER_GONE and run.path == ("m",)
    assert run.steps[0].inputs == ("4",) and run.steps[0].exit == "caller_gone"
    assert not caller.hung_up  # the runner does not hang up on someone who has gone
    run, _ = await harness(menu_flow()).call([])  # a script that runs out is a caller hanging up
    assert run.end is FlowEnd.CALLER_GONE
