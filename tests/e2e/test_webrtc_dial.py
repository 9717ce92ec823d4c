"""Click-to-call from the agent's page, over SIP and WebRTC: alice (aiortc, a 1 kHz tone) dials a number, which
goes out through the trunk (a SIPp customer that answers, talks for 3 s and hangs up). The line connects, the two
talk, the call is recorded with an outbound record, and its task, given to alice as it was made, goes to wrap-up."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from audio import SILENCE_RMS, rms, tone_share
from call_center import AUDIO_PCAP, call_center, finish, stereo_channels
from sipp import require_sipp
from test_flow_waiting import free_sip_port, start_uas
from test_webrtc_agent import AGENT_TONE, agent_page

from callboard.routing.model import TaskStatus
from conftest import require_peer

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _peers() -> None:
    require_sipp()
    require_peer("sipp pcaps", AUDIO_PCAP is not None, "sip-tester's pcaps")


async def test_agent_dials_a_number_from_the_page(tmp_path: Path) -> None:
    trunk_port = free_sip_port()
    # bob is free too, longest idle in support: the call alice places must not be offered to him, even for a moment.
    agents: dict[str, Any] = {
        "bob": {"skills": ["support"], "phone": "webrtc"},
        "alice": {"skills": ["support"], "phone": "webrtc"},
    }
    async with call_center(tmp_path, agents=agents, trunk_port=trunk_port) as cc, agent_page(cc, "alice") as page:
        await page.open_line()
        nobody = await page.do("dial", number="nobody")
        assert nobody.json()["error"]["id"] == "dial_target_not_found", nobody.text
        busy = await page.do("dial", number="+15550123")  # alice is offline: no task can be hers
        assert busy.json()["error"]["id"] == "agent_not_available", busy.text
        await cc.available("bob")
        await cc.available("alice")
        customer = await start_uas(cc, "customer_answer_uas.xml", trunk_port, "customer", pcap=str(AUDIO_PCAP))
        dialed = await page.do("dial", number="+15550123")
        assert dialed.status_code == 200, dialed.text
        placed = dialed.json()
        assert placed["line"]["state"] == "connecting"
        again = await page.do("dial", number="+15550124")
        assert again.json()["error"]["id"] == "line_busy", again.text
        await page.wait_state("talking")
        engine = cc.center.workspace(cc.workspace.sid)
        task = engine.tasks[placed["task_sid"]]
        assert task.status is TaskStatus.ASSIGNED and task.worker_sid == cc.agents["alice"].worker_sid
        assert task.attributes["direction"] == "outbound" and task.attributes["call_sid"] == placed["call_sid"]
        offered = [engine.reservations[sid].worker_sid for sid in task.reservations]
        assert offered == [cc.agents["alice"].worker_sid], offered
        await page.wait_state("idle")  # the customer hangs up after 3 s
        await finish(customer)
        await asyncio.sleep(0.2)
        assert engine.tasks[placed["task_sid"]].status is TaskStatus.WRAPPING
        [record] = [c for c in await cc.store.list_calls(cc.workspace.sid, limit=10) if c["sid"] == placed["call_sid"]]
    assert (record["direction"], record["outcome"], record["hangup_by"]) == ("outbound", "completed", "called"), record
    assert record["called"] == "+15550123" and record["worker_sid"] == cc.agents["alice"].worker_sid
    assert record["task_sid"] == placed["task_sid"] and record["talk_seconds"] > 2
    left, right = stereo_channels(Path(record["recording_path"]))
    assert rms(left) > SILENCE_RMS and tone_share(right, AGENT_TONE) > 0.8
    assert rms(page.heard) > SILENCE_RMS
