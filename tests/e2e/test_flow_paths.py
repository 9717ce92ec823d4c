"""The paths of a contact flow over SIP: SIPp callers press digits in a language menu and a department menu, press
wrong digits or none, call on a holiday, call from a VIP's phone, or dial a number the center does not have.

Each test checks what a broken flow gets wrong: the agent whose phone rang and took the call, the task's
attributes, and the flow's path as the call record keeps it (`attributes.flow`: each node and the exit taken).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from call_center import AUDIO_PCAP, CallCenter, call_center, dtmf_pcap, finish
from sipp import free_udp_port, require_sipp

from callboard.core.clock import VirtualClock

pytestmark = [pytest.mark.e2e]

NUMBER = "+34910000200"
ZONE = "Europe/Madrid"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS_OPEN: dict[str, Any] = {"time_zone": ZONE, "weekly": {day: ["00:00-24:00"] for day in DAYS}}

# Calls to a sales agent who speaks the caller's language; a VIP goes to their personal manager first.
WORKFLOWS: list[dict[str, Any]] = [
    {
        "name": "languages",
        "task_reservation_timeout": 20,
        "configuration": {
            "task_routing": {
                "filters": [
                    {
                        "filter_friendly_name": "sales",
                        "expression": 'department == "sales"',
                        "targets": [{"queue": "sales", "expression": "task.language IN worker.languages"}],
                    }
                ],
                "default_filter": {"queue": "support", "expression": "task.language IN worker.languages"},
            }
        },
    },
    {
        "name": "vip",
        "task_reservation_timeout": 20,
        "configuration": {
            "task_routing": {
                "filters": [
                    {
                        "filter_friendly_name": "personal manager",
                        "expression": "vip == true",
                        "targets": [
                            {"queue": "sales", "known_worker_friendly_name": "task.known_worker", "timeout": 30},
                            {"queue": "sales"},
                        ],
                    }
                ],
                "default_filter": {"queue": "sales"},
            }
        },
    },
]


def paths_flow(**language_menu: Any) -> dict[str, Any]:
    """Hours, then a VIP check in the CRM, a language menu (1 en, 2 es, 3 ru) and a department menu (1 sales,
    2 support); `language_menu` overrides keys of the language menu."""
    return {
        "start": "hours",
        "nodes": {
            "hours": {"type": "hours", "open": "crm", "holiday": "holiday"},  # closed: the number's closed prompt
            "holiday": {"type": "hangup", "say": ["holiday"]},
            "crm": {"type": "crm", "found": "vip", "not_found": "language"},
            "vip": {
                "type": "branch",
                "cases": [{"when": "contact.vip == true", "next": "manager"}],
                "default": "language",
            },
            "manager": {
                "type": "enqueue",
                "workflow": "vip",
                "personal_manager": True,
                "attributes": {"department": "sales", "vip": "{{ contact.vip }}", "customer": "{{ contact.name }}"},
            },
            "language": {
                "type": "menu",
                "say": ["choose-language"],
                "options": {
                    "1": {"next": "department", "set": {"language": "en"}},
                    "2": {"next": "department", "set": {"language": "es"}},
                    "3": {"next": "department", "set": {"language": "ru"}},
                },
                "timeout": 3,
                "retries": 2,
                "invalid": "wrong",
                "no_input": "silent",
                **language_menu,
            },
            "department": {
                "type": "menu",
                "say": ["main-menu"],
                "options": {
                    "1": {"next": "queue", "set": {"department": "sales"}},
                    "2": {"next": "queue", "set": {"department": "support"}},
                },
                "no_input": "silent",
            },
            "queue": {
                "type": "enqueue",
                "workflow": "languages",
                "attributes": {"department": "{{ department }}", "language": "{{ language }}"},
            },
            "wrong": {"type": "hangup", "say": ["goodbye"]},
            "silent": {"type": "hangup", "say": ["goodbye"]},
        },
    }


async def configure(cc: CallCenter, schedule: dict[str, Any], flow: dict[str, Any] | None = None) -> None:
    """The number, its schedule and flow, published in the store as the API and `apply` do."""
    ws = cc.workspace.sid
    await cc.store.put_document(ws, "schedule", "madrid", schedule)
    await cc.store.publish_flow(ws, "paths", flow or paths_flow())
    await cc.store.put_document(
        ws, "number", NUMBER, {"site": "madrid", "flow": "paths", "language": "es", "schedule": "madrid"}
    )
    cc.node.ivr_changed(ws)
    snapshot = await cc.node.ivr.snapshot(ws) if cc.node.ivr is not None else None
    assert snapshot is not None and not snapshot.problems, snapshot and snapshot.problems


def path(record: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The nodes the call's flow ran and the exit it took from each."""
    return [(step["node"], step["exit"]) for step in record["attributes"]["flow"]["path"]]


def digits(*keys: str) -> dict[str, str]:
    return {f"dtmf{n}": str(dtmf_pcap(key)) for n, key in enumerate(keys, 1)}


async def test_caller_picks_russian_then_sales_and_reaches_the_sales_agent_who_speaks_russian(tmp_path: Path) -> None:
    require_sipp()
    agents: dict[str, Any] = {
        "sam": {"skills": ["sales"], "languages": ["en", "es"]},
        "sasha": {"skills": ["sales"], "languages": ["ru"]},
        "olga": {"skills": ["support"], "languages": ["ru"]},
    }
    async with call_center(tmp_path, agents=agents, workflows=WORKFLOWS) as cc:
        await configure(cc, ALWAYS_OPEN)
        sam_port, sasha_port = free_udp_port(), free_udp_port()
        await cc.register("sam", sam_port)
        await cc.register("sasha", sasha_port)
        await cc.available("sam", "sasha", "olga")  # sam has been idle longest: he would get a call for sales
        await cc.start_phone("agent_answer_uas.xml", sam_port, pcap=str(AUDIO_PCAP))
        sasha = await cc.start_phone("agent_answer_uas.xml", sasha_port, pcap=str(AUDIO_PCAP))
        caller = await cc.start_caller(
            "caller_two_digits_uac.xml", "5550201", called=NUMBER.lstrip("+"), pcap=str(AUDIO_PCAP),
            **digits("3", "1"),
        )  # fmt: skip
        await finish(caller)
        await finish(sasha)
        record = await cc.finished_flow_call("5550201")
        assert record["outcome"] == "completed"
        assert record["worker_sid"] == cc.agents["sasha"].worker_sid
        attributes = record["attributes"]
        assert (attributes["language"], attributes["department"]) == ("ru", "sales")
        assert record["queue_sid"] == next(q.sid for q in cc.workspace.queues.values() if q.friendly_name == "sales")
        assert path(record) == [
            ("hours", "open"), ("crm", "not_found"), ("language", "3"), ("department", "1"), ("queue", "completed"),
        ]  # fmt: skip
        assert attributes["flow"]["hours"] == "open"


async def test_an_invalid_digit_is_asked_again_and_the_next_digits_still_count(tmp_path: Path) -> None:
    require_sipp()
    agents: dict[str, Any] = {"olga": {"skills": ["support"], "languages": ["ru"]}}
    async with call_center(tmp_path, agents=agents, workflows=WORKFLOWS) as cc:
        await configure(cc, ALWAYS_OPEN)
        port = free_udp_port()
        await cc.register("olga", port)
        await cc.available("olga")
        phone = await cc.start_phone("agent_answer_uas.xml", port, pcap=str(AUDIO_PCAP))
        caller = await cc.start_caller(
            "caller_three_digits_uac.xml", "5550202", called=NUMBER.lstrip("+"), pcap=str(AUDIO_PCAP),
            **digits("9", "3", "2"),
        )  # fmt: skip
        await finish(caller)
        await finish(phone)
        record = await cc.finished_flow_call("5550202")
        assert record["outcome"] == "completed" and record["worker_sid"] == cc.agents["olga"].worker_sid
        assert (record["attributes"]["language"], record["attributes"]["department"]) == ("ru", "support")
        assert path(record)[2:4] == [("language", "3"), ("department", "2")]


async def test_a_caller_who_presses_only_wrong_digits_takes_the_invalid_exit_and_no_task_is_made(
    tmp_path: Path,
) -> None:
    require_sipp()
    async with call_center(tmp_path, agents={"olga": ["support"]}, workflows=WORKFLOWS) as cc:
        await configure(cc, ALWAYS_OPEN)
        await cc.available("olga")
        caller = await cc.start_caller(
            "caller_three_digits_uac.xml", "5550203", called=NUMBER.lstrip("+"), pcap=str(AUDIO_PCAP),
            **digits("9", "8", "7"),
        )  # fmt: skip
        await finish(caller)
        record = await cc.finished_flow_call("5550203")
        assert record["outcome"] == "ivr" and record["hangup_by"] == "system"
        assert record["task_sid"] is None and not cc.workspace.tasks
        # Three wrong digits: the first try and both retries; the third wrong one leaves by `invalid`.
        assert path(record)[2:] == [("language", "invalid"), ("wrong", "hangup")]


async def test_a_caller_who_presses_nothing_takes_the_no_input_exit(tmp_path: Path) -> None:
    require_sipp()
    async with call_center(tmp_path, agents={"olga": ["support"]}, workflows=WORKFLOWS) as cc:
        # A menu without a prompt and short waits: the caller's audio (7 s) outlasts the retries.
        await configure(cc, ALWAYS_OPEN, paths_flow(say=None, timeout=1, retries=1))
        await cc.available("olga")
        caller = await cc.start_caller(
            "caller_silent_uac.xml", "5550204", called=NUMBER.lstrip("+"), pcap=str(AUDIO_PCAP)
        )
        await finish(caller)
        record = await cc.finished_flow_call("5550204")
        assert record["outcome"] == "ivr" and record["task_sid"] is None and not cc.workspace.tasks
        assert path(record)[2:] == [("language", "no_input"), ("silent", "hangup")]
        assert record["ended_at"] - record["answered_at"] > 2.0  # both tries waited for a digit


async def test_on_a_public_holiday_the_caller_hears_the_holiday_path_not_the_closed_one(tmp_path: Path) -> None:
    require_sipp()
    # Christmas Day at noon in Madrid: inside the weekly hours, but a public holiday in Spain.
    christmas = datetime(2026, 12, 25, 12, 0, tzinfo=ZoneInfo(ZONE)).timestamp()
    schedule = {**ALWAYS_OPEN, "holidays": {"country": "ES"}}
    async with call_center(
        tmp_path, agents={"olga": ["support"]}, workflows=WORKFLOWS, flow_clock=VirtualClock(christmas)
    ) as cc:
        await configure(cc, schedule)
        await cc.available("olga")
        caller = await cc.start_caller(
            "caller_silent_uac.xml", "5550205", called=NUMBER.lstrip("+"), pcap=str(AUDIO_PCAP)
        )
        await finish(caller)
        record = await cc.finished_flow_call("5550205")
        assert record["outcome"] == "ivr" and record["task_sid"] is None and not cc.workspace.tasks
        flow = record["attributes"]["flow"]
        assert flow["hours"] == "holiday" and flow["holiday"]  # the name the holidays package gives the day
        assert path(record) == [("hours", "holiday"), ("holiday", "hangup")]
        assert record["ended_at"] - record["answered_at"] > 2.0  # the holiday prompt was said


async def test_a_custom_holiday_today_closes_the_number_while_the_weekly_hours_are_open(tmp_path: Path) -> None:
    require_sipp()
    today = datetime.now(ZoneInfo(ZONE)).date()
    # Today and tomorrow, in case the call starts after midnight in Madrid.
    dates = [{"date": str(day), "name": "Company day"} for day in (today, today + timedelta(days=1))]
    async with call_center(tmp_path, agents={"olga": ["support"]}, workflows=WORKFLOWS) as cc:
        await configure(cc, {**ALWAYS_OPEN, "dates": dates})
        await cc.available("olga")
        caller = await cc.start_caller(
            "caller_silent_uac.xml", "5550206", called=NUMBER.lstrip("+"), pcap=str(AUDIO_PCAP)
        )
        await finish(caller)
        record = await cc.finished_flow_call("5550206")
        assert record["outcome"] == "ivr" and record["task_sid"] is None and not cc.workspace.tasks
        flow = record["attributes"]["flow"]
        assert (flow["hours"], flow["holiday"]) == ("holiday", "Company day")
        assert path(record) == [("hours", "holiday"), ("holiday", "hangup")]


async def test_a_vip_calling_from_a_national_number_goes_to_their_personal_manager_first(tmp_path: Path) -> None:
    require_sipp()
    agents: dict[str, Any] = {"pat": ["sales"], "maria": ["sales"]}
    async with call_center(tmp_path, agents=agents, workflows=WORKFLOWS) as cc:
        await configure(cc, ALWAYS_OPEN)
        contact = {"name": "Ana Big", "numbers": ["+34610000001"], "vip": True, "manager": "maria"}
        await cc.store.put_contact(cc.workspace.sid, contact)
        pat_port, maria_port = free_udp_port(), free_udp_port()
        await cc.register("pat", pat_port)
        await cc.register("maria", maria_port)
        await cc.available("pat", "maria")  # pat has been idle longest: the queue alone would pick him
        await cc.start_phone("agent_answer_uas.xml", pat_port, pcap=str(AUDIO_PCAP))
        maria = await cc.start_phone("agent_answer_uas.xml", maria_port, pcap=str(AUDIO_PCAP))
        # The trunk sends the caller's number as dialled in Spain: national, without +34.
        caller = await cc.start_caller(
            "caller_silent_uac.xml", "610000001", called=NUMBER.lstrip("+"), pcap=str(AUDIO_PCAP)
        )
        await finish(caller)
        await finish(maria)
        record = await cc.finished_flow_call("610000001")
        assert record["outcome"] == "completed"
        assert record["worker_sid"] == cc.agents["maria"].worker_sid
        attributes = record["attributes"]
        assert attributes["known_worker"] == "maria" and attributes["vip"] is True
        assert attributes["customer"] == "Ana Big"
        assert path(record) == [
            ("hours", "open"),
            ("crm", "found"),
            ("vip", "contact.vip == true"),
            ("manager", "completed"),
        ]


async def test_a_number_the_center_does_not_have_is_refused_with_404(tmp_path: Path) -> None:
    require_sipp()
    async with call_center(tmp_path, agents={"olga": ["support"]}, workflows=WORKFLOWS) as cc:
        await configure(cc, ALWAYS_OPEN)
        await cc.available("olga")
        caller = await cc.start_caller("caller_not_found_uac.xml", "5550207", called="34910000999")
        await finish(caller)  # the scenario expects 404 Not Found and acknowledges it
        assert not cc.workspace.tasks
        assert await cc.store.list_calls(cc.workspace.sid, limit=10) == []  # the call reached no workspace
