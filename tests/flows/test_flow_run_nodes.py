"""Each node type run through a scripted caller on a virtual clock: the exit it takes and what it leaves behind."""

from __future__ import annotations

from typing import Any

import pytest
from flowkit import MONDAY_0930_UTC, FakeSchedule, Harness, flow, harness

from callboard.core.clock import VirtualClock
from callboard.flows.conversation import HttpResult, Message, PromptRef, QueueOutcome, Speech
from callboard.flows.model import QUEUE_EXITS
from callboard.flows.runner import FlowEnd, clock_variables
from callboard.flows.scripted import ScriptedServices

BYE = {"type": "hangup", "say": ["goodbye"]}
OPEN = {"type": "hangup", "say": [{"text": "open"}]}
ANA = {"name": "Ana", "vip": True, "manager": "bob", "language": "es-ES", "priority": 7}


def at(hour: float, day: int = 0) -> VirtualClock:
    """Monday 2026-01-05 plus `day` days, at `hour` UTC."""
    return VirtualClock(MONDAY_0930_UTC - 9.5 * 3600 + day * 86_400 + hour * 3600)


# --- hours ------------------------------------------------------------------------------------------------


def hours_flow(**exits: str) -> dict[str, Any]:
    nodes: dict[str, Any] = {"h": {"type": "hours", "schedule": "madrid", "open": "o", **exits}, "o": OPEN}
    nodes.update({name: {"type": "hangup", "say": [{"text": name}]} for name in exits.values()})
    return flow(nodes)


@pytest.mark.parametrize(
    ("hour", "day", "status", "holiday"),
    [(9.5, 0, "open", None), (19, 0, "closed", None), (7.99, 0, "closed", None), (10, 1, "holiday", "Reyes")],
)
async def test_hours_takes_the_exit_for_the_schedules_state(
    hour: float, day: int, status: str, holiday: str | None
) -> None:
    schedule = FakeSchedule(holidays={"2026-01-06": "Reyes"})
    clock = at(hour, day)
    h = harness(hours_flow(closed="c", holiday="hol"), schedules={"madrid": schedule}, clock=clock)
    run, caller = await h.call()
    assert run.steps[0].exit == status
    assert run.variables["hours"] == status and run.variables["holiday"] == holiday
    assert schedule.asked == [clock.now()]
    assert caller.transcript[0] == "say: " + {"open": "open", "closed": "c", "holiday": "hol"}[status]


async def test_hours_without_closed_or_holiday_exits_says_the_numbers_prompts_and_ends() -> None:
    schedules = {"madrid": FakeSchedule(holidays={"2026-01-06": "Reyes"})}
    h = harness(hours_flow(), schedules=schedules, clock=at(20))
    run, caller = await h.call(variables={"closed_prompt": "after-hours"})
    assert run.end is FlowEnd.HANGUP and run.steps[0].exit == "closed"
    assert caller.said == [Message((PromptRef("after-hours"),), "en")] and caller.hung_up

    h = harness(hours_flow(), schedules=schedules, clock=at(10, day=1))
    run, caller = await h.call(variables={"language": "es"})  # holiday_prompt defaults to `holiday`
    assert caller.said == [Message((PromptRef("holiday"),), "es")]
    assert run.end is FlowEnd.HANGUP and run.variables["holiday"] == "Reyes"


async def test_hours_reads_the_numbers_schedule_when_the_node_names_none() -> None:
    data = flow({"h": {"type": "hours", "open": "o", "closed": "c"}, "o": OPEN, "c": BYE})
    schedules = {"madrid": FakeSchedule(opens=0, closes=1), "denver": FakeSchedule()}
    h = harness(data, schedules=schedules)
    assert (await h.call(variables={"schedule": "madrid"}))[0].steps[0].exit == "closed"
    assert (await h.call(variables={"schedule": "denver"}))[0].steps[0].exit == "open"
    unscheduled, _ = await h.call(variables={"schedule": None})
    assert unscheduled.steps[0].exit == "open" and unscheduled.steps[0].detail == "no schedule: open"  # always open


async def test_time_variables_are_local_to_the_numbers_time_zone() -> None:
    data = flow(
        {
            "b": {
                "type": "branch",
                "cases": [{"when": "day == 'mon' AND hour >= 8 AND hour < 18", "next": "o"}],
                "default": "c",
            },
            "o": OPEN,
            "c": BYE,
        }
    )
    h = harness(data)  # Monday 09:30 UTC
    madrid, _ = await h.call(variables={"time_zone": "Europe/Madrid"})
    denver, _ = await h.call(variables={"time_zone": "America/Denver"})
    assert (madrid.variables["time"], madrid.variables["day"], madrid.variables["hour"]) == ("10:30", "mon", 10)
    assert (denver.variables["time"], denver.variables["date"], denver.variables["hour"]) == ("02:30", "2026-01-05", 2)
    assert madrid.path == ("b", "o") and denver.path == ("b", "c")
    # Late on Monday in UTC is still Monday in Denver but Tuesday in Madrid.
    assert clock_variables(MONDAY_0930_UTC + 14 * 3600, "America/Denver")["day"] == "mon"
    assert clock_variables(MONDAY_0930_UTC + 14 * 3600, "Europe/Madrid")["day"] == "tue"
    assert clock_variables(MONDAY_0930_UTC, "Not/AZone")["time"] == "09:30"  # UTC


# --- branch, set, language, play ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contact", "path"),
    [
        ({"name": "Ana", "vip": True}, ("who", "check", "vip")),
        ({"name": "Bo", "vip": False, "tier": "gold"}, ("who", "check", "gold")),
        ({"name": "Cy", "vip": "true", "tier": "silver"}, ("who", "check", "rest")),  # "true" is not true
        (None, ("who", "check", "rest")),
    ],
)
async def test_branch_over_contact_fields(contact: dict[str, Any] | None, path: tuple[str, ...]) -> None:
    data = flow(
        {
            "who": {"type": "crm", "found": "check"},
            "check": {
                "type": "branch",
                "cases": [
                    {"when": "contact.vip == true", "next": "vip"},
                    {"when": "call.contact.tier IN ['gold', 'platinum']", "next": "gold"},
                ],
                "default": "rest",
            },
            "vip": BYE,
            "gold": BYE,
            "rest": BYE,
        }
    )
    contacts = {"+34600000001": contact} if contact else {}
    run, _ = await harness(data, services=ScriptedServices(contacts=contacts)).call()
    assert run.path == path


async def test_set_renders_in_order_and_play_says_in_the_current_language() -> None:
    data = flow(
        {
            "s": {"type": "set", "values": {"dept": "sales", "greeting": "Hi {{ dept }} {{ caller }}"}, "next": "l"},
            "l": {"type": "language", "language": "{{ contact.language }}", "next": "p"},
            "p": {"type": "play", "say": ["welcome", {"text": {"en": "{{ greeting }}", "es": "Hola"}}], "next": "e"},
            "e": BYE,
        }
    )
    services = ScriptedServices(contacts={})
    run, caller = await harness(data, services=services).call(variables={"contact": {"language": "es-ES"}})
    assert run.variables["greeting"] == "Hi sales +34600000001"
    assert run.variables["language"] == "es"  # es-ES: the known language it is a variant of
    assert run.steps[2].said == (Message((PromptRef("welcome"), Speech("Hola")), "es"),)
    assert caller.transcript[0] == "say: Bienvenido. Hola"


@pytest.mark.parametrize(("value", "language"), [("ru", "ru"), ("EN", "en"), ("fr", "es"), ("", "es"), (None, "es")])
async def test_language_keeps_the_current_one_for_an_unknown_or_empty_value(value: Any, language: str) -> None:
    data = flow({"l": {"type": "language", "language": "{{ wanted }}", "next": "e"}, "e": BYE})
    run, _ = await harness(data).call(variables={"language": "es", "wanted": value})
    assert run.variables["language"] == language


# --- lookup and crm ---------------------------------------------------------------------------------------

LOOKUP = flow(
    {
        "f": {
            "type": "lookup",
            "method": "POST",
            "url": "https://crm.example/orders?phone={{ caller }}",
            "body": {"phone": "{{ caller }}", "vip": "{{ contact.vip }}"},
            "timeout": 2,
            "into": {"order_status": "status", "order_id": "items[0].id", "missing": "items[3].id"},
            "next": "ok",
            "fallback": "down",
        },
        "ok": BYE,
        "down": BYE,
    }
)
URL = "https://crm.example/orders?phone=+34600000001"


async def test_lookup_sends_the_rendered_request_and_fills_variables_from_the_reply() -> None:
    services = ScriptedServices({URL: {"status": "shipped", "items": [{"id": "A-1"}]}})
    run, _ = await harness(LOOKUP, services=services).call(variables={"contact": {"vip": True}})
    assert run.path == ("f", "ok")
    assert (run.variables["order_status"], run.variables["order_id"], run.variables["missing"]) == (
        "shipped",
        "A-1",
        None,
    )
    (request,) = services.requests
    assert (request.method, request.url, request.timeout) == ("POST", URL, 2.0)
    assert request.body == {"phone": "+34600000001", "vip": True}
    assert run.steps[0].detail == f"POST {URL} -> 200"


@pytest.mark.parametrize(
    "reply",
    [OSError("refused"), TimeoutError(), HttpResult(503, {"status": "x"}), HttpResult(302), HttpResult(200, None)],
)
async def test_lookup_takes_the_fallback_when_the_server_fails(reply: Any) -> None:
    run, _ = await harness(LOOKUP, services=ScriptedServices({URL: reply})).call()
    assert run.path == ("f", "down") and "order_status" not in run.variables


async def test_lookup_of_an_unscripted_url_is_unreachable() -> None:
    run, _ = await harness(LOOKUP).call()
    assert run.path == ("f", "down") and run.steps[0].detail.endswith("-> OSError")


async def test_crm_found_and_not_found() -> None:
    data = flow({"who": {"type": "crm", "found": "hi", "not_found": "anon"}, "hi": BYE, "anon": BYE})
    services = ScriptedServices(contacts={"+34600000001": ANA})
    h = harness(data, services=services)
    found, _ = await h.call()
    assert found.path == ("who", "hi") and found.variables["contact"] == ANA
    unknown, _ = await h.call(variables={"caller": "+34699999999", "contact": {"name": "stale"}})
    assert unknown.path == ("who", "anon") and unknown.variables["contact"] == {}
    withheld, _ = await h.call(variables={"caller": ""})
    assert withheld.path == ("who", "anon")
    assert services.searches == [("acme", "+34600000001"), ("acme", "+34699999999")]  # never for no number


# --- enqueue ----------------------------------------------------------------------------------------------


def queue_flow(**node: Any) -> dict[str, Any]:
    exits = {key: f"after-{key}" for key in QUEUE_EXITS.values()}
    nodes: dict[str, Any] = {
        "who": {"type": "crm", "found": "q"},
        "q": {"type": "enqueue", "workflow": "inbound", **exits, **node},
    }
    nodes.update({target: BYE for target in exits.values()})
    return flow(nodes)


@pytest.mark.parametrize("outcome", list(QueueOutcome))
async def test_each_queue_outcome_takes_its_exit(outcome: QueueOutcome) -> None:
    h = harness(queue_flow())
    run, _ = await h.call(outcomes=[outcome])
    assert run.path == ("who", "q", f"after-{QUEUE_EXITS[outcome]}")
    assert run.outcome is outcome and run.variables["queue_outcome"] == outcome.value


async def test_an_outcome_without_an_exit_ends_the_run_enqueued() -> None:
    h = harness(flow({"q": {"type": "enqueue", "workflow": "inbound", "no_agents": "bye"}, "bye": BYE}))
    run, caller = await h.call(outcomes=[QueueOutcome.TIMEOUT])
    assert (run.end, run.outcome, run.steps[-1].target) == (FlowEnd.ENQUEUED, QueueOutcome.TIMEOUT, None)
    assert caller.hung_up
    run, caller = await h.call(outcomes=[QueueOutcome.HUNG_UP])
    assert run.end is FlowEnd.ENQUEUED and not caller.hung_up  # the caller had already left


async def test_the_request_carries_rendered_attributes_the_language_and_the_personal_manager() -> None:
    data = queue_flow(
        attributes={"language": "{{ language }}", "vip": "{{ contact.vip }}", "note": "for {{ contact.name }}"},
        priority="{{ contact.priority }}",
        timeout=600,
        personal_manager=True,
    )
    h = harness(data, services=ScriptedServices(contacts={"+34600000001": ANA}))
    _, caller = await h.call(variables={"language": "es"})
    (request,) = caller.enqueued
    assert request.attributes == {"language": "es", "vip": True, "note": "for Ana"}
    assert (request.workflow, request.priority, request.timeout) == ("inbound", 7, 600)
    assert (request.known_worker, request.language) == ("bob", "es")


@pytest.mark.parametrize(
    ("personal_manager", "contact", "known_worker"),
    [
        (False, ANA, None),
        (True, {**ANA, "manager": ""}, None),
        (True, {**ANA, "manager": None}, None),
        (True, None, None),
    ],
)
async def test_no_known_worker_without_the_option_or_a_manager(
    personal_manager: bool, contact: dict[str, Any] | None, known_worker: str | None
) -> None:
    contacts = {"+34600000001": contact} if contact else {}
    h = harness(queue_flow(personal_manager=personal_manager), services=ScriptedServices(contacts=contacts))
    _, caller = await h.call()
    assert caller.enqueued[0].known_worker == known_worker and caller.enqueued[0].priority == 0


# --- voicemail, transfer, hangup --------------------------------------------------------------------------


async def test_voicemail_records_after_the_prompt_and_goes_on() -> None:
    data = flow(
        {
            "vm": {
                "type": "voicemail",
                "say": ["leave-message"],
                "workflow": "voicemail",
                "max_seconds": 60,
                "attributes": {"from": "{{ caller }}"},
                "next": "thanks",
                "failed": "sorry",
            },
            "thanks": BYE,
            "sorry": BYE,
        }
    )
    h = harness(data)
    run, caller = await h.call()
    assert run.path == ("vm", "thanks") and run.variables["voicemail"] == "VM1"
    (request,) = caller.voicemails
    assert (request.workflow, request.max_seconds, request.attributes) == ("voicemail", 60, {"from": "+34600000001"})
    assert caller.transcript[:2] == ["say: [leave-message]", "voicemail: voicemail -> VM1"]
    run, _ = await h.call(voicemail_sid=None)
    assert run.path == ("vm", "sorry")


async def test_transfer_connects_or_takes_failed() -> None:
    data = flow({"t": {"type": "transfer", "to": "{{ agent }}", "failed": "sorry"}, "sorry": BYE})
    h = harness(data)
    run, caller = await h.call(variables={"agent": "sip:desk@pbx.example"})
    assert (run.end, run.path, caller.transfers, caller.hung_up) == (
        FlowEnd.TRANSFER,
        ("t",),
        ["sip:desk@pbx.example"],
        False,
    )
    run, _ = await h.call(variables={"agent": "+14155550100"}, transfer_connects=False)
    assert run.path == ("t", "sorry") and run.end is FlowEnd.HANGUP
    run, caller = await h.call()  # nobody to transfer to
    assert run.path == ("t", "sorry") and caller.transfers == []


async def test_hangup_says_goodbye_then_hangs_up() -> None:
    run, caller = await harness(flow({"bye": BYE})).call()
    assert run.end is FlowEnd.HANGUP and caller.transcript == ["say: Goodbye.", "hangup"]


def test_fixtures_agree_on_the_instant() -> None:
    assert clock_variables(Harness({}).clock.now(), "UTC") == {
        "time": "09:30",
        "day": "mon",
        "date": "2026-01-05",
        "hour": 9,
    }
