"""Building flows from plain data: each kind of problem at its exact data path, all of them at once."""

from __future__ import annotations

from typing import Any

import pytest
from flowkit import CATALOG, build, flow

from callboard.flows.build import build_flows, build_say
from callboard.flows.conversation import Message, PromptRef, QueueOutcome, SayNumber, Speech
from callboard.flows.model import QUEUE_EXITS, EnqueueNode, MenuNode
from callboard.flows.problems import Problem

BYE = {"type": "hangup", "say": ["goodbye"]}


def problems(data: Any) -> list[Problem]:
    return build_flows(data, CATALOG)[1]


def only(data: Any) -> Problem:
    found = problems(data)
    assert len(found) == 1, found
    return found[0]


def test_a_taskrouter_style_flow_builds_clean() -> None:
    data = [
        flow(
            {
                "hours": {"type": "hours", "schedule": "madrid", "open": "language", "holiday": "closed"},
                "language": {
                    "type": "menu",
                    "say": ["choose-language", {"text": {"en": "Press 1", "es": "Pulse 2"}}],
                    "options": {1: {"next": "account", "set": {"language": "en"}}, "2": "account"},
                    "no_input": "account",
                },
                "account": {
                    "type": "collect",
                    "say": ["enter-account"],
                    "variable": "account",
                    "pattern": "^[0-9]{6,8}$",
                    "next": "who",
                    "failed": "queue",
                },
                "who": {"type": "crm", "found": "check", "not_found": "queue"},
                "check": {
                    "type": "branch",
                    "cases": [{"when": "contact.vip == true AND account != '0'", "next": "queue"}],
                    "default": "queue",
                },
                "queue": {
                    "type": "enqueue",
                    "workflow": "inbound",
                    "attributes": {"language": "{{ language }}", "vip": "{{ contact.vip }}"},
                    "priority": "{{ contact.priority }}",
                    "personal_manager": True,
                    "no_agents": "vm",
                    "callback": "bye",
                },
                "vm": {"type": "voicemail", "say": ["leave-message"], "workflow": "voicemail", "next": "bye"},
                "closed": {"type": "hangup", "say": [{"text": "Closed for {{ holiday }}"}]},
                "bye": BYE,
            }
        )
    ]
    flows = build(data)
    main = flows["main"]
    assert main.start == "hours"
    menu = main.nodes["language"]
    assert isinstance(menu, MenuNode) and set(menu.options) == {"1", "2"}
    assert menu.options["1"].values["language"].render({}) == "en"
    queue = main.nodes["queue"]
    assert isinstance(queue, EnqueueNode)
    assert queue.exits == {QueueOutcome.NO_AGENTS: "vm", QueueOutcome.CALLBACK: "bye"}


def test_the_list_and_each_flow_must_have_the_right_shape() -> None:
    assert only({"name": "main"}) == Problem((), "expected a list of flows, got a mapping")
    found = problems([[], {"name": "a"}, {"name": "b", "nodes": [], "colour": "red"}])
    assert [(p.path, p.at_key) for p in found] == [
        ((0,), False),
        ((1,), False),
        ((2, "colour"), True),
        ((2, "nodes"), False),
    ]
    assert "missing required key 'nodes'" in found[1].message
    assert "expected one of: name, start, nodes" in found[2].message


def test_duplicate_flow_names_are_reported_at_the_second() -> None:
    problem = only([flow({"bye": BYE}), flow({"bye": BYE})])
    assert problem.path == (1, "name") and "already defined" in problem.message


def test_unknown_keys_are_reported_at_the_key_with_the_allowed_ones() -> None:
    problem = only([flow({"bye": {"type": "hangup", "say": ["goodbye"], "next": "x"}})])
    assert problem.path == (0, "nodes", "bye", "next") and problem.at_key
    assert "unknown key 'next' in hangup node 'bye'; expected one of: type, say" in problem.message


def test_unknown_node_types_list_the_types() -> None:
    problem = only([flow({"x": {"type": "dial"}})])
    assert problem.path == (0, "nodes", "x", "type")
    assert "unknown node type 'dial'" in problem.message and "hours, menu, collect" in problem.message
    missing = only([flow({"x": {"say": ["goodbye"]}})])
    assert missing.path == (0, "nodes", "x") and "missing required key 'type'" in missing.message


def test_missing_required_keys_and_wrong_types() -> None:
    found = problems([flow({"h": {"type": "hours"}, "m": {"type": "menu", "options": {"1": "h"}, "timeout": "soon"}})])
    assert [p.path for p in found] == [(0, "nodes", "h"), (0, "nodes", "m", "timeout")]
    assert "missing required key 'open' in hours node 'h'" in found[0].message
    assert "expected a number of seconds for 'timeout', got 'soon'" in found[1].message


def test_an_exit_to_no_node_names_it_and_lists_some_that_exist() -> None:
    data = [flow({"menu": {"type": "menu", "options": {"1": {"next": "sales"}, "2": "bye"}}, "bye": BYE})]
    problem = only(data)
    assert problem.path == (0, "nodes", "menu", "options", "1", "next")
    assert problem.message == "unknown node 'sales'; nodes in flow 'main': bye, menu"
    string_form = only([flow({"menu": {"type": "menu", "options": {"1": "sales", "2": "bye"}}, "bye": BYE})])
    assert string_form.path == (0, "nodes", "menu", "options", "1")


def test_bad_option_digits_and_start() -> None:
    found = problems([flow({"m": {"type": "menu", "options": {"12": "bye", "#": "bye"}}, "bye": BYE}, start="nope")])
    assert [(p.path, p.at_key) for p in found] == [((0, "nodes", "m", "options", "12"), True), ((0, "start"), False)]
    assert "unknown node 'nope' for 'start'" in found[1].message


def test_unreachable_nodes_are_reported_at_their_name() -> None:
    problem = only([flow({"a": {"type": "play", "say": ["welcome"], "next": "bye"}, "bye": BYE, "lost": BYE})])
    assert problem == Problem((0, "nodes", "lost"), "node 'lost' is never reached from 'a'", at_key=True)
    # From `start`, not from the first node.
    shifted = only(
        [flow({"lost": BYE, "a": {"type": "play", "say": ["welcome"], "next": "bye"}, "bye": BYE}, start="a")]
    )
    assert shifted.path == (0, "nodes", "lost")


def test_a_flow_that_can_never_end_is_reported_but_a_loop_with_a_way_out_is_not() -> None:
    endless = {
        "a": {"type": "play", "say": ["welcome"], "next": "b"},
        "b": {"type": "set", "values": {"x": 1}, "next": "a"},
    }
    problem = only([flow(endless)])
    assert problem.path == (0, "nodes") and "never ends" in problem.message
    # A menu that loops back to itself on a digit but leaves `no_input` out can end.
    looping = {"m": {"type": "menu", "say": ["main-menu"], "options": {"9": "m", "1": "m"}}}
    assert problems([flow(looping)]) == []
    all_exits = {
        "q": {"type": "enqueue", "workflow": "inbound", **{key: "q" for key in QUEUE_EXITS.values()}},
    }
    assert "never ends" in only([flow(all_exits)]).message


def test_bad_expressions_give_the_column_inside_the_expression() -> None:
    data = [
        flow({"b": {"type": "branch", "cases": [{"when": "contact.vip == ", "next": "x"}], "default": "x"}, "x": BYE})
    ]
    problem = only(data)
    assert problem.path == (0, "nodes", "b", "cases", 0, "when")
    assert problem.message == "bad expression at column 16: expected a value or a path, found end of expression"


def test_bad_templates_and_patterns() -> None:
    data = [
        flow(
            {
                "s": {"type": "set", "values": {"greeting": "Hi {{ contact.name"}, "next": "c"},
                "c": {"type": "collect", "variable": "n", "pattern": "[0-9", "next": "t"},
                "t": {"type": "transfer", "to": "{{ agent.number "},
            }
        )
    ]
    found = problems(data)
    assert [p.path for p in found] == [
        (0, "nodes", "s", "values", "greeting"),
        (0, "nodes", "c", "pattern"),
        (0, "nodes", "t", "to"),
    ]
    assert found[0].message == "bad template at column 4: '{{' is never closed with '}}'"
    assert found[1].message.startswith("bad pattern: unterminated character set")


def test_unknown_catalog_names() -> None:
    data = [
        flow(
            {
                "h": {"type": "hours", "schedule": "tokyo", "open": "p"},
                "p": {"type": "play", "say": ["welcom", {"text": {"fr": "Bonjour"}}], "next": "l"},
                "l": {"type": "language", "language": "de", "next": "q"},
                "q": {"type": "enqueue", "workflow": "outbound"},
                "s": {"type": "subflow", "flow": "common", "next": "q"},
            }
        )
    ]
    found = problems(data)
    paths = [p.path for p in found]
    assert paths == [
        (0, "nodes", "h", "schedule"),
        (0, "nodes", "p", "say", 0),
        (0, "nodes", "p", "say", 1, "text", "fr"),
        (0, "nodes", "l", "language"),
        (0, "nodes", "q", "workflow"),
        (0, "nodes", "s"),  # unreachable from h
        (0, "nodes", "s", "flow"),
    ]
    assert found[0].message == "unknown schedule 'tokyo'; known: denver, madrid"
    assert found[1].message.startswith("unknown prompt 'welcom'; known: after-hours, callback-offer")
    assert found[4].message == "unknown workflow 'outbound'; known: callbacks, inbound, voicemail"
    assert found[6].message.startswith("unknown flow 'common'; known: main")


def test_a_language_set_by_a_menu_is_checked_too() -> None:
    data = [flow({"m": {"type": "menu", "options": {"1": {"next": "m", "set": {"language": "fr"}}}}})]
    assert only(data).path == (0, "nodes", "m", "options", "1", "set", "language")


def test_a_subflow_may_name_a_flow_in_the_catalog_built_elsewhere() -> None:
    data = [flow({"s": {"type": "subflow", "flow": "shared", "next": "bye"}, "bye": BYE})]
    assert build_flows(data, CATALOG)[1] != []
    catalog = type(CATALOG)(**{**CATALOG.__dict__, "flows": frozenset({"shared"})})
    assert build_flows(data, catalog)[1] == []


def test_subflow_cycles_are_reported_with_the_chain() -> None:
    def calls(target: str) -> dict[str, Any]:
        return {"s": {"type": "subflow", "flow": target, "next": "bye"}, "bye": BYE}

    found = problems([flow(calls("b"), "a"), flow(calls("c"), "b"), flow(calls("a"), "c"), flow(calls("b"), "d")])
    assert [(p.path, p.message) for p in found] == [
        ((0, "nodes", "s", "flow"), "subflow cycle: a -> b -> c -> a"),
        ((1, "nodes", "s", "flow"), "subflow cycle: b -> c -> a -> b"),
        ((2, "nodes", "s", "flow"), "subflow cycle: c -> a -> b -> c"),
    ]  # d calls into the cycle but is not on it
    itself = only([flow(calls("a"), "a")])
    assert itself.message == "subflow cycle: a -> a"


def test_lookup_checks() -> None:
    data = [
        flow(
            {
                "f": {
                    "type": "lookup",
                    "url": "ftp://crm",
                    "body": {"x": 1},
                    "into": {"status": "items[x]", "ok": 5},
                    "next": "bye",
                },
                "bye": BYE,
            }
        )
    ]
    found = problems(data)
    assert [p.path for p in found] == [
        (0, "nodes", "f"),
        (0, "nodes", "f", "url"),
        (0, "nodes", "f", "body"),
        (0, "nodes", "f", "into", "status"),
        (0, "nodes", "f", "into", "ok"),
    ]
    assert "missing required key 'fallback'" in found[0].message
    assert "'body' is sent only with method POST" in found[2].message
    assert found[3].message == "bad path at column 6: expected '.', '[' or the end of the path"


def test_collect_limits_and_enqueue_priority() -> None:
    data = [
        flow(
            {
                "c": {"type": "collect", "variable": "2x", "min_digits": 9, "max_digits": 4, "next": "q"},
                "q": {"type": "enqueue", "workflow": "inbound", "priority": -1, "timeout": 0},
            }
        )
    ]
    found = problems(data)
    assert [p.path for p in found] == [
        (0, "nodes", "c", "variable"),
        (0, "nodes", "c", "min_digits"),
        (0, "nodes", "q", "priority"),
        (0, "nodes", "q", "timeout"),
    ]


def test_many_problems_in_many_flows_are_reported_at_once() -> None:
    data = [
        flow({"a": {"type": "dial"}}, "one"),
        flow({"b": {"type": "play", "say": ["nope"], "next": "c"}}, "two"),
        flow({"c": {"type": "transfer", "to": "12345"}}, "three"),
    ]
    found = problems(data)
    assert [p.path[0] for p in found] == [0, 1, 1, 2]
    flows, _ = build_flows(data, CATALOG)
    assert flows == {}  # none of them is usable


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["welcome", {"number": "{{ position }}", "unit": "minutes"}], None),
        ("welcome", None),
        ([{"text": "hi", "voice": "x"}], "unknown key 'voice'"),
        ([{"number": "{{ position }}", "unit": "hours"}], "expected one of minutes, seconds, position"),
        ([42], "expected a prompt name"),
    ],
)
def test_build_say_is_public_for_numbers_and_reports_relative_to_the_given_path(data: Any, message: str | None) -> None:
    _, found = build_say(data, CATALOG, ("numbers", 0, "closed"))
    if message is None:
        assert found == []
        return
    assert len(found) == 1 and message in found[0].message
    assert found[0].path[:3] == ("numbers", 0, "closed")


def test_a_built_say_renders_a_message_in_the_callers_language() -> None:
    say, found = build_say(
        [
            "welcome",
            {"text": {"en": "You are {{ position }}", "es": "Es el {{ position }}"}},
            {"number": "{{ wait }}", "unit": "minutes"},
            {"number": "{{ none }}"},
        ],
        CATALOG,
    )
    assert found == []
    assert say.message({"position": 2, "wait": "4"}, "es") == Message(
        (PromptRef("welcome"), Speech("Es el 2"), SayNumber(4, "minutes")), "es"
    )
    assert say.message({"position": 2, "wait": 4.0}, "ru").parts[1] == Speech("You are 2")  # English when missing
