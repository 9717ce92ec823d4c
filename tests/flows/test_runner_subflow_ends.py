"""How a subflow ends: a `return` node or an exit left out goes back to the flow that ran it; what ends the call
(a queue after which the caller is done, the caller hanging up) ends the whole run from any depth."""

from __future__ import annotations

from typing import Any

import pytest
from flowkit import flow, harness

from callboard.flows.conversation import QueueOutcome
from callboard.flows.runner import FlowEnd
from callboard.flows.scripted import HANG_UP

BYE = {"type": "hangup", "say": ["goodbye"]}

# A language menu as a subflow: each choice sets the language and returns; no choice returns too.
LANGUAGE = flow(
    {
        "choose": {
            "type": "menu",
            "say": ["choose-language"],
            "retries": 0,
            "options": {
                "1": {"next": "done", "set": {"language": "en"}},
                "2": {"next": "done", "set": {"language": "es"}},
            },
            "no_input": "done",
        },
        "done": {"type": "return"},
    },
    "language",
)


def main(queue_next: str | None = None, **queue: Any) -> dict[str, Any]:
    """Chooses a language in a subflow, then runs the `queue` subflow (without `next` unless given)."""
    nodes: dict[str, Any] = {
        "language": {"type": "subflow", "flow": "language", "next": "hello"},
        "hello": {"type": "play", "say": ["welcome"], "next": "queue"},
        "queue": {"type": "subflow", "flow": "queue", **({"next": queue_next} if queue_next else {})},
    }
    if queue_next:
        nodes[queue_next] = {"type": "play", "say": ["sorry"], "next": "bye"}
        nodes["bye"] = BYE
    return flow(nodes)


def queue_flow(**exits: str) -> dict[str, Any]:
    nodes: dict[str, Any] = {"q": {"type": "enqueue", "workflow": "inbound", **exits}}
    nodes.update({target: BYE for target in exits.values()})
    return flow(nodes, "queue")


async def test_a_return_node_goes_back_to_the_subflow_nodes_next_with_the_variables_set() -> None:
    run, caller = await harness(main(), LANGUAGE, queue_flow()).call(["2"])
    assert [(s.flow, s.node, s.exit, s.target) for s in run.steps] == [
        ("main", "language", "next", "hello"),
        ("language", "choose", "2", "done"),
        ("language", "done", "return", None),
        ("main", "hello", "next", "queue"),
        ("main", "queue", "completed", None),
        ("queue", "q", "completed", None),
    ]
    assert caller.said[1].language == "es" and caller.enqueued[0].language == "es"


async def test_a_return_only_leaves_the_innermost_subflow() -> None:
    inner = flow({"r": {"type": "return"}}, "inner")
    outer = flow(
        {
            "s": {"type": "subflow", "flow": "inner", "next": "after"},
            "after": {"type": "set", "values": {"outer": "back"}, "next": "r"},
            "r": {"type": "return"},
        },
        "outer",
    )
    top = flow({"s": {"type": "subflow", "flow": "outer", "next": "bye"}, "bye": BYE})
    run, caller = await harness(top, outer, inner).call()
    assert run.path == ("s", "s", "r", "after", "r", "bye") and run.variables["outer"] == "back"
    assert run.end is FlowEnd.HANGUP and caller.transcript[-1] == "hangup"


async def test_a_return_in_the_flow_a_number_runs_ends_the_call_as_an_exit_left_out_does() -> None:
    run, caller = await harness(LANGUAGE).call(["1"], flow="language")
    assert run.end is FlowEnd.NO_EXIT and run.path == ("choose", "done") and caller.hung_up


@pytest.mark.parametrize("outcome", [QueueOutcome.COMPLETED, QueueOutcome.HUNG_UP, QueueOutcome.CALLBACK])
async def test_a_queue_after_which_the_caller_is_done_ends_the_whole_run_from_a_subflow(outcome: QueueOutcome) -> None:
    """The parent's `next` (here "sorry, goodbye") is never said to a caller who talked to an agent or left."""
    run, caller = await harness(main("sorry"), LANGUAGE, queue_flow()).call(["1"], outcomes=[outcome])
    assert run.path == ("language", "choose", "done", "hello", "queue", "q")
    assert (run.end, run.outcome) == (FlowEnd.ENQUEUED, outcome)
    label = outcome.value
    assert [(s.exit, s.target) for s in run.steps[-2:]] == [(label, None), (label, None)]
    assert caller.transcript[-1].startswith("enqueue:") or caller.transcript[-1] == "hangup"
    assert not any("[sorry]" in line for line in caller.transcript)
    assert caller.hung_up is (outcome is not QueueOutcome.HUNG_UP)  # the runner hangs up unless the caller did


@pytest.mark.parametrize("outcome", [QueueOutcome.TIMEOUT, QueueOutcome.NO_AGENTS, QueueOutcome.FAILED])
async def test_a_queue_the_caller_is_still_in_returns_to_the_parent(outcome: QueueOutcome) -> None:
    run, _ = await harness(main("sorry"), LANGUAGE, queue_flow()).call(["1"], outcomes=[outcome])
    assert run.path[-3:] == ("q", "sorry", "bye") and run.end is FlowEnd.HANGUP
    assert run.steps[-4].exit == "next" and run.steps[-4].target == "sorry"  # the subflow node went on


async def test_an_exit_for_an_outcome_is_still_taken_when_the_caller_is_done() -> None:
    """A designer may still act after the call (say, a lookup that tells a CRM); only a missing exit ends the
    run. Whatever then talks to a caller who has gone ends it as `caller_gone`."""
    run, _ = await harness(main("sorry"), LANGUAGE, queue_flow(hung_up="noted")).call(
        ["1"], outcomes=[QueueOutcome.HUNG_UP]
    )
    assert run.path[-2:] == ("q", "noted") and run.steps[-2].exit == "hung_up"
    assert (run.end, run.outcome) == (FlowEnd.CALLER_GONE, QueueOutcome.HUNG_UP)


@pytest.mark.parametrize("outcome", [QueueOutcome.TIMEOUT, QueueOutcome.COMPLETED])
async def test_a_subflow_node_without_next_ends_its_flow_as_the_subflow_ended(outcome: QueueOutcome) -> None:
    """After a timeout the subflow returns with the end it would have had on its own; its node goes nowhere."""
    run, caller = await harness(main(), LANGUAGE, queue_flow()).call(["1"], outcomes=[outcome])
    assert run.path[-2:] == ("queue", "q") and (run.end, run.outcome) == (FlowEnd.ENQUEUED, outcome)
    assert caller.hung_up
    returned = flow({"s": {"type": "subflow", "flow": "language"}})
    run, caller = await harness(returned, LANGUAGE).call(["2"])
    assert run.end is FlowEnd.NO_EXIT and run.path == ("s", "choose", "done") and caller.hung_up


async def test_the_caller_hanging_up_in_a_subflows_menu_ends_the_whole_run() -> None:
    run, caller = await harness(main("sorry"), LANGUAGE, queue_flow()).call([HANG_UP])
    assert run.end is FlowEnd.CALLER_GONE and run.path == ("language", "choose")
    assert [s.exit for s in run.steps] == ["caller_gone", "caller_gone"]
    assert caller.enqueued == [] and not caller.hung_up


async def test_a_queue_is_handed_the_path_so_far_with_subflow_nodes_named_and_typed_digits_left_out() -> None:
    account = flow(
        {
            "ask": {
                "type": "collect",
                "say": ["enter-account"],
                "max_digits": 4,
                "variable": "account",
                "next": "queue",
            },
            "queue": {"type": "enqueue", "workflow": "inbound", "attributes": {"account": "{{ account }}"}},
        },
        "queue",
    )
    run, caller = await harness(main(), LANGUAGE, account).call(["2", "7351"])
    request = caller.enqueued[0]
    assert request.attributes["account"] == "7351"  # the task gets what was typed...
    assert request.flow == {
        "name": "main",
        "path": [
            {"node": "language", "exit": "next"},
            {"node": "choose", "exit": "2", "flow": "language"},
            {"node": "done", "exit": "return", "flow": "language"},
            {"node": "hello", "exit": "next"},
            {"node": "queue", "exit": None},  # the subflow node still running
            {"node": "ask", "exit": "next", "flow": "queue"},
        ],
    }
    assert "7351" not in repr(request.flow)  # ...the path never does
    assert run.steps[-1].node == "queue"
