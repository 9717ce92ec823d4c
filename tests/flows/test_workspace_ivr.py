"""What a call to a workspace's number starts with, as both a voice node and `callboard flow test` compute it:
the IVR built from plain data, the caller as the flow sees it, the starting variables, the queued task's
attributes and the emergency closure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from callboard.flows.conversation import EnqueueRequest, Message, PromptRef, Speech
from callboard.flows.numbers import Number
from callboard.flows.system_prompts import SYSTEM_PROMPT_NAMES
from callboard.flows.workspace_ivr import (
    build_workspace_ivr,
    call_variables,
    calling_number,
    closure_for,
    closure_message,
    queue_attributes,
)

MADRID = Number("+34910000000", "madrid", "main", "es", "Europe/Madrid", "madrid", "closed-madrid")
DENVER = Number("+13035550100", "denver", "main", "en", "America/Denver")
MAIN = {"name": "main", "nodes": {"q": {"type": "enqueue", "workflow": "inbound"}}}


def test_the_ivr_builds_against_one_catalog_and_lists_what_did_not_build() -> None:
    ivr = build_workspace_ivr(
        flows=[MAIN, {"name": "broken", "nodes": {"p": {"type": "hangup", "say": ["nowhere"]}}}],
        schedules=[{"name": "madrid", "time_zone": "Europe/Madrid"}],
        numbers=[
            {"number": "+34 910 000 000", "site": "madrid", "flow": "main", "schedule": "madrid"},
            {"number": "+34 910 000 001", "site": "madrid", "flow": "main", "closed_prompt": "welcome"},
        ],
        prompts=["welcome"],
        workflows=["inbound"],
        queues=["sales"],
        channels=["voice"],
    )
    assert ivr.catalog.prompts == SYSTEM_PROMPT_NAMES | {"welcome"}
    assert ivr.catalog.flows == {"main", "broken"} and ivr.catalog.schedules == {"madrid"}
    assert set(ivr.flows.flows) == {"main"} and ivr.flows.version == "2"
    assert set(ivr.numbers) == {"+34910000000"}  # the second has no time zone
    assert ivr.numbers["+34910000000"].time_zone == "Europe/Madrid"  # its schedule's
    assert set(ivr.schedules) == {"madrid"}
    assert len(ivr.problems) == 2
    assert any("nowhere" in p for p in ivr.problems) and any("time_zone" in p for p in ivr.problems)


@pytest.mark.parametrize(
    ("caller", "number", "seen"),
    [
        ("+34610000001", MADRID, "+34610000001"),
        ("610000001", MADRID, "+34610000001"),  # national, read in Spain
        ("0034610000001", MADRID, "+34610000001"),
        ("34610000001", DENVER, "+34610000001"),  # E.164 without its +
        ("3035550199", DENVER, "+13035550199"),
        ("anonymous", MADRID, ""),  # withheld
        ("Anonymous", MADRID, ""),
        ("unknown", MADRID, ""),
        ("restricted", MADRID, ""),
        ("", MADRID, ""),
        ("alice", MADRID, "alice"),  # a SIP user name, as it is
        ("12", MADRID, "12"),
    ],
)
def test_the_caller_as_a_flow_sees_it(caller: str, number: Number, seen: str) -> None:
    assert calling_number(caller, number) == seen


def test_a_calls_starting_variables() -> None:
    now = 1_767_605_400.0
    variables = call_variables(
        MADRID, caller="610000001", called="34910000000", workspace="WS1", call_sid="CA1", now=now
    )
    assert variables == {
        "caller": "+34610000001",
        "called": "34910000000",  # as the trunk sent it
        "number": "+34910000000",
        "workspace": "WS1",
        "site": "madrid",
        "language": "es",
        "time_zone": "Europe/Madrid",
        "schedule": "madrid",
        "closed_prompt": "closed-madrid",
        "holiday_prompt": "holiday",
        "call_sid": "CA1",
        "started_at": datetime.fromtimestamp(now).isoformat(timespec="seconds"),
    }


@pytest.mark.parametrize(
    ("attributes", "known_worker", "expected"),
    [
        ({"department": "sales"}, None, {"department": "sales", "language": "es"}),
        ({"language": "ru"}, None, {"language": "ru"}),  # the node's language wins over the caller's
        ({"vip": True}, "alice", {"vip": True, "language": "es", "known_worker": "alice"}),
        ({"site": "elsewhere", "number": "x"}, None, {"language": "es"}),  # the call's number and site win
    ],
)
def test_the_attributes_of_a_queued_calls_task(
    attributes: dict[str, Any], known_worker: str | None, expected: dict[str, Any]
) -> None:
    request = EnqueueRequest("inbound", attributes, known_worker=known_worker, language="es")
    assert queue_attributes(request, MADRID) == {**expected, "number": "+34910000000", "site": "madrid"}
    assert request.attributes == attributes  # a copy


def test_a_closure_holds_for_its_number_or_its_site() -> None:
    site = {"scope": "site", "target": "madrid", "text": "Closed today."}
    number = {"scope": "number", "target": "+13035550100", "prompt": "storm"}
    assert closure_for([site, number], MADRID) is site
    assert closure_for([site, number], DENVER) is number
    assert closure_for([site], DENVER) is None
    assert closure_for([], MADRID) is None


@pytest.mark.parametrize(
    ("closure", "part"),
    [
        ({"text": "Closed today."}, Speech("Closed today.")),
        ({"text": "Closed today.", "prompt": "storm"}, Speech("Closed today.")),
        ({"prompt": "storm"}, PromptRef("storm")),
        ({"text": None, "prompt": None}, PromptRef("emergency-closed")),
        ({}, PromptRef("emergency-closed")),
    ],
)
def test_what_a_caller_hears_while_a_closure_holds(closure: dict[str, Any], part: Speech | PromptRef) -> None:
    assert closure_message(closure, "es") == Message((part,), "es")
