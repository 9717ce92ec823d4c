"""Calls to a configured number run its contact flow over SIP: SIPp callers press digits, hours decide the path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from call_center import AUDIO_PCAP, CallCenter, call_center, dtmf_pcap, finish
from sipp import free_udp_port, require_sipp

pytestmark = [pytest.mark.e2e]

NUMBER = "+34910000100"
FLOW: dict[str, Any] = {
    "start": "hours",
    "nodes": {
        "hours": {"type": "hours", "open": "menu"},
        "menu": {
            "type": "menu",
            "say": ["main-menu"],
            "options": {
                "1": {"next": "queue", "set": {"department": "sales"}},
                "2": {"next": "queue", "set": {"department": "support"}},
                "3": {"next": "queue", "set": {"department": "billing"}},
            },
            "no_input": "goodbye",
        },
        "queue": {
            "type": "enqueue",
            "workflow": "inbound",
            "attributes": {"department": "{{ department }}", "language": "{{ language }}"},
            "timed_out": "goodbye",
        },
        "goodbye": {"type": "hangup", "say": ["goodbye"]},
    },
}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS_OPEN = {"time_zone": "Europe/Madrid", "weekly": {day: ["00:00-24:00"] for day in DAYS}}
NEVER_OPEN = {"time_zone": "Europe/Madrid", "weekly": {}}


async def configure(cc: CallCenter, schedule: dict[str, Any]) -> None:
    """The number, its schedule and flow, published in the store as the API and `apply` do."""
    ws = cc.workspace.sid
    await cc.store.put_document(ws, "schedule", "madrid", schedule)
    await cc.store.publish_flow(ws, "main", FLOW)
    await cc.store.put_document(
        ws, "number", NUMBER, {"site": "madrid", "flow": "main", "language": "es", "schedule": "madrid"}
    )
    cc.node.ivr_changed(ws)


async def test_open_hours_caller_picks_support_in_the_flow_and_talks_to_the_support_agent(tmp_path: Path) -> None:
    require_sipp()
    async with call_center(tmp_path, agents={"alice": ["support"], "sam": ["sales"]}) as cc:
        await configure(cc, ALWAYS_OPEN)
        phone_port = free_udp_port()
        await cc.register("alice", phone_port)
        await cc.available("alice", "sam")
        phone = await cc.start_phone("agent_answer_uas.xml", phone_port, pcap=str(AUDIO_PCAP))
        caller = await cc.start_caller(
            "caller_rfc4733_uac.xml", "5550101", called=NUMBER.lstrip("+"), dtmf=str(dtmf_pcap("2")),
            pcap=str(AUDIO_PCAP),
        )  # fmt: skip
        await finish(caller)
        await finish(phone)
        record = await cc.finished_call("5550101")
        assert record["outcome"] == "completed"
        assert record["worker_sid"] == cc.agents["alice"].worker_sid
        # The flow set the task's attributes: the department the digit chose, the number's language and site.
        attributes = record["attributes"]
        assert attributes["department"] == "support" and attributes["language"] == "es"
        assert attributes["number"] == NUMBER and attributes["site"] == "madrid"


async def test_closed_hours_caller_hears_the_closed_message_and_no_task_is_made(tmp_path: Path) -> None:
    require_sipp()
    async with call_center(tmp_path, agents={"alice": ["support"]}) as cc:
        await configure(cc, NEVER_OPEN)
        await cc.available("alice")
        caller = await cc.start_caller(
            "caller_rfc4733_uac.xml", "5550102", called=NUMBER.lstrip("+"), dtmf=str(dtmf_pcap("2")),
            pcap=str(AUDIO_PCAP),
        )  # fmt: skip
        await finish(caller)
        record = await cc.finished_flow_call("5550102")
        assert record["outcome"] == "ivr" and record["hangup_by"] == "system"
        # The hours node found the number closed (not a holiday) and, having no closed exit, ended the call.
        flow = record["attributes"]["flow"]
        assert (flow["hours"], flow["holiday"], flow["end"]) == ("closed", None, "hangup")
        assert flow["path"] == [{"node": "hours", "exit": "closed"}]
        assert record["task_sid"] is None and record["enqueued_at"] is None
        assert not cc.workspace.tasks
        # Long enough to have said the closed prompt (in Spanish) before hanging up.
        assert record["ended_at"] - record["answered_at"] > 1.0
