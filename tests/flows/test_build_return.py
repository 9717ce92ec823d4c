"""Building `return` nodes and subflow nodes without `next`: both end a flow, so neither makes it endless."""

from __future__ import annotations

from flowkit import CATALOG, build, flow

from callboard.flows.build import build_flows
from callboard.flows.model import ReturnNode, SubflowNode

BYE = {"type": "hangup", "say": ["goodbye"]}


def test_a_return_node_builds_and_counts_as_an_end() -> None:
    # Every option leads back into the menu or to the return: without it the flow would never end.
    data = flow(
        {
            "m": {"type": "menu", "say": ["main-menu"], "options": {"1": "done", "9": "m"}, "no_input": "m"},
            "done": {"type": "return"},
        },
        "pick",
    )
    flows = build([data])
    assert flows["pick"].nodes["done"] == ReturnNode("done")
    data["nodes"]["m"]["options"]["1"] = "m"
    del data["nodes"]["done"]
    [problem] = build_flows([data], CATALOG)[1]
    assert "never ends" in problem.message and "returns" in problem.message


def test_a_return_node_takes_no_keys() -> None:
    data = flow({"done": {"type": "return", "next": "x"}})
    [problem] = build_flows([data], CATALOG)[1]
    assert problem.path == (0, "nodes", "done", "next") and "unknown key 'next'" in problem.message


def test_a_subflow_node_may_leave_next_out() -> None:
    flows = build([flow({"s": {"type": "subflow", "flow": "sub"}}), flow({"r": {"type": "return"}}, "sub")])
    assert flows["main"].nodes["s"] == SubflowNode("s", "sub", None)
    with_next = build(
        [
            flow({"s": {"type": "subflow", "flow": "sub", "next": "bye"}, "bye": BYE}),
            flow({"r": {"type": "return"}}, "sub"),
        ]
    )
    assert with_next["main"].nodes["s"] == SubflowNode("s", "sub", "bye")
