"""The demo center's flows (examples/demo-center.yaml) run offline on fixed instants: hours and holidays per site,
the language and department menus, the CRM's VIP with a personal manager, voicemail; and once applied to a store,
the same flows through the running center's snapshot and CRM, with the VIP's call offered to her manager first."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from callboard.app.apply import apply_center
from callboard.app.center import Center
from callboard.app.ivr import CenterServices, FlowCalls, IvrConfig
from callboard.config.center import load_center
from callboard.core.clock import VirtualClock
from callboard.flows.build import build_flows
from callboard.flows.catalog import Catalog
from callboard.flows.conversation import PromptRef, QueueOutcome
from callboard.flows.model import FlowSet
from callboard.flows.numbers import Number, build_numbers
from callboard.flows.runner import FlowEnd, FlowRun, FlowRunner
from callboard.flows.schedule import build_schedules
from callboard.flows.scripted import ScriptedConversation, ScriptedServices
from callboard.flows.system_prompts import SYSTEM_PROMPT_NAMES, SYSTEM_PROMPTS
from callboard.routing.workspace import Workspace
from conftest import Database

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo-center.yaml"
MADRID, DENVER, ANYTIME = "+34910000100", "+13035550100", "+34900100200"
STRANGER = "+34699000000"  # a caller the CRM does not know
ANA = "+34600000001"  # VIP, personal manager alice, Spanish, sales
OLGA = "+34611222333"  # known, Russian, no manager


def local(zone: str, year: int, month: int, day: int, hour: int, minute: int) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).timestamp()


@dataclass(frozen=True)
class DemoIvr:
    """The demo workspace's IVR built from the file as the running center builds it from the store."""

    flows: FlowSet
    numbers: dict[str, Number]
    contacts: dict[str, dict[str, Any]]
    texts: dict[tuple[str, str], str]


@functools.cache
def demo_ivr() -> DemoIvr:
    (space,) = load_center(DEMO).workspaces
    schedule_data = [dict(s.body, name=s.name) for s in space.schedules]
    flow_data = [dict(f.definition, name=f.name) for f in space.flows]
    catalog = Catalog(
        prompts=frozenset(p.name for p in space.prompts) | SYSTEM_PROMPT_NAMES,
        workflows=frozenset(w.name for w in space.workflows),
        queues=frozenset(q.name for q in space.queues),
        channels=frozenset(c.name for c in space.channels),
        schedules=frozenset(s["name"] for s in schedule_data),
        flows=frozenset(f["name"] for f in flow_data),
    )
    schedules, schedule_problems = build_schedules(schedule_data, catalog)
    flows, flow_problems = build_flows(flow_data, catalog)
    numbers, number_problems = build_numbers([dict(n.body, number=n.number) for n in space.numbers], catalog, schedules)
    assert (schedule_problems, flow_problems, number_problems) == ([], [], [])
    contacts = {number: dataclasses.asdict(c) for c in space.contacts or () for number in c.numbers}
    texts = {(name, lang): text for lang, prompts in SYSTEM_PROMPTS.items() for name, text in prompts.items()}
    texts |= {(p.name, lang): text for p in space.prompts for lang, text in p.text.items()}
    return DemoIvr(FlowSet(flows, schedules, "demo"), {n.e164: n for n in numbers}, contacts, texts)


async def call(
    number: str, at: float, inputs: list[str | None], *, caller: str = STRANGER, outcomes: tuple[QueueOutcome, ...] = ()
) -> tuple[FlowRun, ScriptedConversation]:
    """A scripted caller dials `number` at the instant `at`, with the variables the running center gives a call."""
    demo = demo_ivr()
    found = demo.numbers[number]
    clock = VirtualClock(at)
    runner = FlowRunner(demo.flows, clock, ScriptedServices(contacts=demo.contacts))
    conversation = ScriptedConversation(inputs, texts=demo.texts, outcomes=outcomes, clock=clock)
    variables = {
        "caller": caller,
        "called": number.lstrip("+"),
        "number": found.e164,
        "workspace": "demo",
        "site": found.site,
        "language": found.language,
        "time_zone": found.time_zone,
        "schedule": found.schedule,
        "closed_prompt": found.closed_prompt,
        "holiday_prompt": found.holiday_prompt,
    }
    return await runner.run(found.flow, conversation, variables), conversation


MADRID_MONDAY_10 = local("Europe/Madrid", 2026, 3, 9, 10, 0)
DENVER_MONDAY_10 = local("America/Denver", 2026, 3, 9, 10, 0)


def test_the_demo_has_a_number_per_site_and_a_24_hour_line() -> None:
    numbers = demo_ivr().numbers
    assert {(n.site, n.language, n.schedule, n.time_zone) for n in numbers.values()} == {
        ("madrid", "es", "madrid", "Europe/Madrid"),
        ("denver", "en", "denver", "America/Denver"),
        ("madrid", "en", None, "Europe/Madrid"),
    }
    assert numbers[MADRID].closed_prompt == "closed-madrid" and numbers[DENVER].holiday_prompt == "holiday-denver"


@pytest.mark.parametrize(
    ("number", "at", "hours", "holiday", "prompt", "language"),
    [
        (MADRID, local("Europe/Madrid", 2026, 12, 25, 11, 0), "holiday", "Christmas Day", "holiday-madrid", "es"),
        (MADRID, local("Europe/Madrid", 2026, 5, 2, 11, 0), "holiday", "Madrid Day", "holiday-madrid", "es"),
        (MADRID, local("Europe/Madrid", 2026, 12, 26, 11, 0), "holiday", "Company day", "holiday-madrid", "es"),
        (DENVER, local("America/Denver", 2026, 7, 4, 10, 0), "holiday", "Independence Day", "holiday-denver", "en"),
        (DENVER, local("America/Denver", 2026, 3, 31, 10, 0), "holiday", "Cesar Chavez Day", "holiday-denver", "en"),
        # Monday 15:00 in Madrid falls between the split shift's 09:00-14:00 and 16:00-19:00.
        (MADRID, local("Europe/Madrid", 2026, 3, 9, 15, 0), "closed", None, "closed-madrid", "es"),
        (MADRID, local("Europe/Madrid", 2026, 3, 8, 11, 0), "closed", None, "closed-madrid", "es"),  # Sunday
        # Christmas Eve: the override keeps only the morning.
        (MADRID, local("Europe/Madrid", 2026, 12, 24, 17, 0), "closed", None, "closed-madrid", "es"),
        (DENVER, local("America/Denver", 2026, 3, 9, 18, 30), "closed", None, "closed-denver", "en"),
    ],
)
async def test_outside_hours_the_caller_hears_the_numbers_message_in_its_language_and_no_task_is_made(
    number: str, at: float, hours: str, holiday: str | None, prompt: str, language: str
) -> None:
    run, caller = await call(number, at, ["1", "1"])
    assert run.end is FlowEnd.HANGUP and run.path == ("hours",)
    assert (run.variables["hours"], run.variables["holiday"]) == (hours, holiday)
    [message] = caller.said
    assert message.parts == (PromptRef(prompt),) and message.language == language
    assert caller.enqueued == [] and caller.hung_up


@pytest.mark.parametrize(
    "at",
    [
        MADRID_MONDAY_10,
        local("Europe/Madrid", 2026, 3, 9, 17, 0),  # the afternoon shift
        local("Europe/Madrid", 2026, 3, 14, 11, 0),  # Saturday morning
        local("Europe/Madrid", 2026, 12, 24, 10, 0),  # Christmas Eve morning
    ],
)
async def test_madrid_is_open_in_its_shifts(at: float) -> None:
    run, caller = await call(MADRID, at, ["2", "1"])
    assert run.variables["hours"] == "open" and len(caller.enqueued) == 1


@pytest.mark.parametrize(
    ("number", "at", "digits", "language", "department", "site"),
    [
        (MADRID, MADRID_MONDAY_10, ["2", "1"], "es", "sales", "madrid"),
        (MADRID, MADRID_MONDAY_10, ["3", "3"], "ru", "billing", "madrid"),
        (MADRID, MADRID_MONDAY_10, ["1", "2"], "en", "support", "madrid"),
        (DENVER, DENVER_MONDAY_10, ["2", "3"], "es", "billing", "denver"),
        (DENVER, DENVER_MONDAY_10, ["1", "1"], "en", "sales", "denver"),
        (DENVER, DENVER_MONDAY_10, [None, None, "2"], "en", "support", "denver"),  # no language chosen: the number's
    ],
)
async def test_open_hours_the_language_and_department_chosen_go_to_the_inbound_workflow(
    number: str, at: float, digits: list[str | None], language: str, department: str, site: str
) -> None:
    run, caller = await call(number, at, digits)
    [request] = caller.enqueued
    assert request.workflow == "inbound" and request.known_worker is None
    assert request.attributes == {"department": department, "language": language, "site": site, "vip": None}
    assert request.language == language
    # The language is chosen in a subflow that returns; the call ends in the queue, with the agent.
    assert run.path == (
        "hours",
        "welcome",
        "identify",
        "choose-language",
        "choose",
        "done",
        "departments",
        "menu",
        "queue",
    )
    assert (run.end, run.outcome) == (FlowEnd.ENQUEUED, QueueOutcome.COMPLETED) and caller.hung_up
    # The department menu is asked in the language chosen.
    menu = next(step for step in run.steps if step.node == "menu")
    assert {message.language for message in menu.said} == {language}


@pytest.mark.parametrize("outcome", [QueueOutcome.HUNG_UP, QueueOutcome.CALLBACK, QueueOutcome.FAILED])
async def test_however_the_queue_ends_without_voicemail_the_call_ends_there(outcome: QueueOutcome) -> None:
    """Hung up, called back later or a task that could not be made: nothing more is said, the run ends
    `enqueued` with the queue's outcome, and the call is hung up unless the caller already did."""
    run, caller = await call(MADRID, MADRID_MONDAY_10, ["2", "1"], outcomes=(outcome,))
    assert run.path[-3:] == ("departments", "menu", "queue") and (run.end, run.outcome) == (FlowEnd.ENQUEUED, outcome)
    queued = next(i for i, line in enumerate(caller.transcript) if line.startswith("enqueue: inbound"))
    assert caller.transcript[queued + 1 :] == ([] if outcome is QueueOutcome.HUNG_UP else ["hangup"])


async def test_a_caller_who_hangs_up_at_the_language_menu_ends_the_run_there() -> None:
    run, caller = await call(MADRID, MADRID_MONDAY_10, [])
    assert run.end is FlowEnd.CALLER_GONE and run.path[-2:] == ("choose-language", "choose")
    assert caller.enqueued == [] and not caller.hung_up


async def test_the_24_hour_line_answers_on_a_holiday_night_and_1_is_sales_in_english() -> None:
    """What `callboard demo` tells a newcomer to call, and what tests/e2e/test_demo_call.py dials."""
    run, caller = await call(ANYTIME, local("Europe/Madrid", 2026, 12, 25, 3, 0), ["1"])
    [request] = caller.enqueued
    assert request.attributes == {"department": "sales", "language": "en", "site": "madrid", "vip": None}
    assert run.path[:2] == ("welcome", "departments")


async def test_a_vip_with_a_personal_manager_is_greeted_by_name_and_offered_to_the_manager_first() -> None:
    run, caller = await call(MADRID, MADRID_MONDAY_10, [], caller=ANA)
    [request] = caller.enqueued
    assert request.known_worker == "alice" and request.language == "es"
    assert request.attributes == {
        "department": "sales",
        "language": "es",
        "site": "madrid",
        "vip": True,
        "contact": "Ana García",
    }
    assert "choose-language" not in run.path and "menu" not in run.path
    assert "say: Bienvenido de nuevo, Ana García. Un momento, por favor. Le pasamos con un agente." in caller.transcript


async def test_a_vip_whose_manager_does_not_answer_in_time_leaves_a_message_for_that_manager() -> None:
    run, caller = await call(MADRID, MADRID_MONDAY_10, [], caller=ANA, outcomes=(QueueOutcome.TIMEOUT,))
    [voicemail] = caller.voicemails
    assert voicemail.workflow == "voicemail" and voicemail.language == "es"
    assert voicemail.attributes["known_worker"] == "alice" and voicemail.attributes["contact"] == "Ana García"
    assert run.end is FlowEnd.HANGUP and run.steps[-1].node == "saved"


async def test_a_known_caller_is_answered_in_the_crm_language_without_the_language_menu() -> None:
    run, caller = await call(MADRID, MADRID_MONDAY_10, ["2"], caller=OLGA)
    [request] = caller.enqueued
    assert request.attributes == {"department": "support", "language": "ru", "site": "madrid", "vip": False}
    assert request.known_worker is None and "choose-language" not in run.path


async def test_an_invalid_key_is_said_to_be_invalid_and_the_menu_asked_again() -> None:
    run, caller = await call(MADRID, MADRID_MONDAY_10, ["2", "7", "3"])
    menu = next(step for step in run.steps if step.node == "menu")
    assert menu.inputs == ("7", "3") and menu.exit == "3"
    assert [part for message in menu.said for part in message.parts][2:4] == [
        PromptRef("invalid"),
        PromptRef("try-again"),
    ]
    assert caller.enqueued[0].attributes["department"] == "billing"


async def test_no_key_or_wrong_keys_to_the_end_send_the_caller_to_support() -> None:
    for digits in ([None, None, None], ["7", "8", "0"]):
        _, caller = await call(DENVER, DENVER_MONDAY_10, ["1", *digits])
        assert caller.enqueued[0].attributes["department"] == "support"


async def test_9_leaves_a_message_for_the_department() -> None:
    run, caller = await call(MADRID, MADRID_MONDAY_10, ["2", "9"])
    assert caller.enqueued == []
    [voicemail] = caller.voicemails
    assert voicemail.workflow == "voicemail" and voicemail.attributes["known_worker"] is None
    assert run.steps[-1].node == "saved" and caller.hung_up


@pytest.mark.parametrize("outcome", [QueueOutcome.TIMEOUT, QueueOutcome.NO_AGENTS])
async def test_a_queue_that_times_out_or_has_nobody_offers_voicemail(outcome: QueueOutcome) -> None:
    _, caller = await call(DENVER, DENVER_MONDAY_10, ["1", "3"], outcomes=(outcome,))
    [voicemail] = caller.voicemails
    assert voicemail.attributes["department"] == "billing" and voicemail.language == "en"


async def test_applied_the_demo_routes_the_vips_call_to_her_manager(database: Database) -> None:
    """The flows as the running center has them after `apply`: its snapshot of the store, the store's CRM, the
    variables a call gets; the task the flow asks for goes to alice, Ana's personal manager, alone."""
    store = await database.open()
    await store.migrate()
    clock = VirtualClock(MADRID_MONDAY_10)
    center = await Center.start(store, clock, timers=False)
    try:
        await apply_center(center, load_center(DEMO))
        config, services = IvrConfig(center), CenterServices(center)
        found = await config.number("34910000100")
        assert found is not None
        snapshot, number = found
        assert snapshot.problems == ()
        calls = FlowCalls(config, None, services, clock, None)  # only its variables are used: no voice
        variables = calls.variables(SimpleNamespace(caller=ANA, called="34910000100", sid="CA1"), snapshot, number)
        conversation = ScriptedConversation([], clock=clock)
        await FlowRunner(snapshot.flows, clock, services).run(number.flow, conversation, variables)
        await services.close()
        [request] = conversation.enqueued
        assert request.known_worker == "alice" and request.attributes["vip"] is True

        ws = snapshot.workspace_sid
        engine = center.workspace(ws)
        available = next(a.sid for a in engine.activities.values() if a.friendly_name == "Available")

        def staff(*names: str) -> Callable[[Workspace], None]:
            def op(w: Workspace) -> None:
                for name in names:
                    w.update_worker(w.worker_by_name(name).sid, activity_sid=available)

            return op

        await center.run(ws, staff("bob", "carlos"))
        clock.advance(60)  # bob has waited longest: the VIP team's next call would be his
        await center.run(ws, staff("alice"))
        inbound = next(w.sid for w in engine.workflows.values() if w.friendly_name == "inbound")
        attributes = {**request.attributes, "known_worker": request.known_worker}
        task = await center.run(ws, lambda w: w.create_task(inbound, attributes=attributes, channel="voice"))
        offered = {engine.reservations[r].worker_sid for r in task.reservations}
        assert offered == {engine.worker_by_name("alice").sid}
    finally:
        await center.stop()
        await store.close()
