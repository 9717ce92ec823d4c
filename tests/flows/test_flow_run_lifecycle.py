"""Whole runs: subflows, versions published mid-call, the step limit, and a TaskRouter-style IVR end to end."""

from __future__ import annotations

from typing import Any

from flowkit import CATALOG, FakeSchedule, build, flow, harness

from callboard.core.clock import VirtualClock
from callboard.flows.conversation import Message, QueueOutcome
from callboard.flows.model import FlowSet
from callboard.flows.runner import FlowEnd, FlowRunner
from callboard.flows.scripted import ScriptedConversation, ScriptedServices

BYE = {"type": "hangup", "say": ["goodbye"]}


def common(say: str = "main-menu", **menu: Any) -> dict[str, Any]:
    """A shared menu: 1 sets a department and returns, 9 hangs up, silence returns."""
    nodes = {
        "m": {
            "type": "menu",
            "say": [say],
            "retries": 0,
            "options": {"1": {"next": "back", "set": {"dept": "sales"}}, "9": "bye"},
            **menu,
        },
        "back": {"type": "set", "values": {"visited": True}, "next": "done"},
        "done": {"type": "menu", "say": [{"text": "returning"}], "retries": 0, "options": {"0": "m"}},
        "bye": BYE,
    }
    return flow(nodes, "common")


MAIN = flow(
    {
        "hello": {"type": "play", "say": ["welcome"], "next": "sub"},
        "sub": {"type": "subflow", "flow": "common", "next": "queue"},
        "queue": {"type": "enqueue", "workflow": "inbound", "attributes": {"dept": "{{ dept }}"}},
    }
)


async def test_a_subflow_that_returns_continues_at_next_with_its_variables() -> None:
    run, caller = await harness(MAIN, common()).call(["1", ""])
    assert [(s.flow, s.node) for s in run.steps] == [
        ("main", "hello"),
        ("main", "sub"),
        ("common", "m"),
        ("common", "back"),
        ("common", "done"),
        ("main", "queue"),
    ]
    assert run.steps[1].exit == "next" and run.steps[1].target == "queue"
    assert run.steps[4].target is None  # the exit it left out returned from the subflow
    assert caller.enqueued[0].attributes == {"dept": "sales"} and run.variables["visited"] is True
    assert run.end is FlowEnd.ENQUEUED


async def test_a_hangup_inside_a_subflow_ends_the_whole_run() -> None:
    run, caller = await harness(MAIN, common()).call(["9"])
    assert run.end is FlowEnd.HANGUP and run.path == ("hello", "sub", "m", "bye")
    assert (run.steps[1].exit, run.steps[1].target) == ("hangup", None)  # the subflow node never continued
    assert caller.enqueued == [] and caller.hung_up


async def test_a_queue_the_caller_is_still_in_after_returns_from_a_subflow_to_the_caller() -> None:
    queue = flow({"q": {"type": "enqueue", "workflow": "inbound", "no_agents": "bye"}, "bye": BYE}, "queue")
    main = flow(
        {
            "sub": {"type": "subflow", "flow": "queue", "next": "sorry"},
            "sorry": {"type": "play", "say": ["sorry"], "next": "end"},
            "end": BYE,
        }
    )
    run, caller = await harness(main, queue).call(outcomes=[QueueOutcome.TIMEOUT])
    assert run.path == ("sub", "q", "sorry", "end") and run.outcome is QueueOutcome.TIMEOUT
    assert run.end is FlowEnd.HANGUP and caller.transcript[-2:] == ["say: Goodbye.", "hangup"]


async def test_a_new_version_published_mid_call_does_not_change_the_call() -> None:
    first = build([MAIN, common("main-menu")])
    second = build([MAIN, common("welcome")])
    runner = FlowRunner(FlowSet(first, {}, "v1"), VirtualClock(), ScriptedServices())

    class Publishing(ScriptedConversation):
        async def say(self, message: Message) -> None:
            runner.publish(FlowSet(second, {}, "v2"))  # while the caller hears the welcome
            await super().say(message)

    during = Publishing(["1", ""])
    run = await runner.run("main", during, {})
    assert run.version == "v1" and run.path[-1] == "queue"
    assert run.steps[2].said[0].parts[0].name == "main-menu"  # type: ignore[union-attr]
    after = await runner.run("main", ScriptedConversation(["9"]), {})
    assert after.version == "v2" and after.path == ("hello", "sub", "m", "bye")
    assert after.steps[2].said[0].parts[0].name == "welcome"  # type: ignore[union-attr]


async def test_a_subflow_missing_from_the_published_set_ends_the_run() -> None:
    catalog = type(CATALOG)(**{**CATALOG.__dict__, "flows": frozenset({"common"})})
    flows = build([MAIN], catalog)
    h = harness(MAIN, common())
    h.runner.publish(FlowSet(flows, {}, "partial"))
    run, caller = await h.call()
    assert run.end is FlowEnd.MISSING_FLOW and run.path == ("hello", "sub") and caller.hung_up
    run, caller = await h.call(flow="nope")
    assert run.end is FlowEnd.MISSING_FLOW and run.steps == () and caller.hung_up


async def test_the_step_limit_stops_a_loop_that_never_asks() -> None:
    data = flow(
        {
            "a": {"type": "set", "values": {"n": "{{ n }}x"}, "next": "b"},
            "b": {"type": "branch", "cases": [{"when": "n == 'never'", "next": "bye"}], "default": "a"},
            "bye": BYE,
        }
    )
    h = harness(data, max_steps=50)
    run, caller = await h.call()
    assert run.end is FlowEnd.STEP_LIMIT and len(run.steps) == 50
    assert len(run.variables["n"]) == 25 and caller.hung_up


async def test_a_menu_loop_waiting_on_the_caller_is_bounded_by_its_input() -> None:
    data = flow({"m": {"type": "menu", "say": ["main-menu"], "options": {"0": "m", "1": "bye"}}, "bye": BYE})
    run, _ = await harness(data).call(["0"] * 30 + ["1"])
    assert run.end is FlowEnd.HANGUP and len(run.steps) == 32


TASKROUTER_IVR = flow(
    {
        "hours": {"type": "hours", "schedule": "madrid", "open": "language", "closed": "closed"},
        "language": {
            "type": "menu",
            "say": [{"text": {"en": "For English press 1", "es": "Para español pulse 2"}}],
            "options": {
                "1": {"next": "who", "set": {"language": "en"}},
                "2": {"next": "who", "set": {"language": "es"}},
            },
            "no_input": "who",
        },
        "who": {"type": "crm", "found": "greet", "not_found": "dept"},
        "greet": {
            "type": "play",
            "say": [{"text": {"en": "Hello {{ contact.name }}", "es": "Hola {{ contact.name }}"}}],
            "next": "dept",
        },
        "dept": {
            "type": "menu",
            "say": ["main-menu"],
            "options": {
                "1": {"next": "route", "set": {"skill": "sales"}},
                "2": {"next": "route", "set": {"skill": "support"}},
            },
        },
        "route": {
            "type": "branch",
            "cases": [{"when": "contact.vip == true", "next": "vip"}],
            "default": "queue",
        },
        "vip": {"type": "set", "values": {"priority": 10}, "next": "queue"},
        "queue": {
            "type": "enqueue",
            "workflow": "inbound",
            "attributes": {"selected_product": "{{ skill }}", "language": "{{ language }}", "vip": "{{ contact.vip }}"},
            "priority": "{{ priority }}",
            "personal_manager": True,
            "no_agents": "vm",
            "callback": "bye",
        },
        "vm": {"type": "voicemail", "say": ["leave-message"], "workflow": "voicemail", "next": "bye"},
        "closed": {"type": "hangup", "say": ["after-hours"]},
        "bye": BYE,
    }
)


async def test_a_taskrouter_style_ivr_end_to_end() -> None:
    services = ScriptedServices(contacts={"+34600000001": {"name": "Ana", "vip": True, "manager": "bob"}})
    h = harness(TASKROUTER_IVR, schedules={"madrid": FakeSchedule()}, services=services)
    run, caller = await h.call(["2", "2"], outcomes=[QueueOutcome.NO_AGENTS])
    assert run.path == ("hours", "language", "who", "greet", "dept", "route", "vip", "queue", "vm", "bye")
    (request,) = caller.enqueued
    assert request.attributes == {"selected_product": "support", "language": "es", "vip": True}
    assert (request.priority, request.known_worker, request.language) == (10, "bob", "es")
    assert caller.transcript[:4] == ["ask: For English press 1", "caller: 2", "say: Hola Ana", "ask: [main-menu]"]
    assert caller.voicemails[0].language == "es" and run.end is FlowEnd.HANGUP

    anonymous, caller = await h.call(["", "", "", "1"], variables={"caller": "+34611111111"})
    assert anonymous.path == ("hours", "language", "who", "dept", "route", "queue")
    assert caller.enqueued[0].priority == 0 and caller.enqueued[0].known_worker is None
    assert caller.enqueued[0].attributes["vip"] is None  # no contact: the lone placeholder renders as None
