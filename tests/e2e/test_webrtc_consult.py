"""A consultative transfer and a conference from the agent's page, over SIP and WebRTC: a SIPp caller streams a
440 Hz tone, alice answers in her page (aiortc, 1 kHz), holds the caller and calls bob, who answers in his page
(aiortc, 1.6 kHz). She cancels (the caller is back with her), consults again, makes it a conference (the caller
hears both), then completes: the caller stays with bob, alice wraps up, and the record says so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from audio import read_wav, tone_share, write_alaw, write_tone
from call_center import AUDIO_PCAP, CallCenter, call_center, dtmf_pcap, finish
from sipp import require_sipp
from test_webrtc_agent import AGENT_TONE, Page
from test_webrtc_monitor import HEARD, NOT_HEARD, CallerEar, during

from callboard.api.app import create_api
from callboard.api.auth import digest
from conftest import require_peer

pytestmark = pytest.mark.e2e

CALLER_TONE = 440.0
BOB_TONE = 1600.0


@pytest.fixture(autouse=True)
def _peers() -> None:
    require_sipp()
    require_peer("sipp pcaps", AUDIO_PCAP is not None and dtmf_pcap("2") is not None, "sip-tester's pcaps")


@asynccontextmanager
async def two_pages(cc: CallCenter) -> AsyncIterator[tuple[Page, Page]]:
    app = create_api(cc.center, recordings_dir=cc.recordings)
    app.state.phone = cc.node.b2bua.lines
    transport = httpx.ASGITransport(app=app)
    base = f"/api/v1/workspaces/{cc.workspace.sid}/workers"
    clients = []
    for name in ("alice", "bob"):
        user = await cc.store.get_user_by_name(name)
        assert user is not None
        await cc.store.create_api_token(user["id"], "page", digest(f"token-{name}"))
        headers = {"Authorization": f"Bearer token-{name}"}
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://callboard.test", headers=headers))
    alice = Page(clients[0], f"{base}/{cc.agents['alice'].worker_sid}/phone")
    bob = Page(clients[1], f"{base}/{cc.agents['bob'].worker_sid}/phone", tone=BOB_TONE)
    try:
        yield alice, bob
    finally:
        for page in (alice, bob):
            await page.close()
        for client in clients:
            await client.aclose()


async def answer_when_rung(page: Page) -> dict[str, Any]:
    """What the line showed while it rang, once answered."""
    ringing = await page.wait_state("ringing")
    assert (await page.do("answer")).status_code == 200
    return ringing


async def test_agent_consults_cancels_conferences_and_completes_from_the_page(tmp_path: Path) -> None:
    agents: dict[str, Any] = {
        "alice": {"skills": ["support"], "phone": "webrtc"},
        "bob": {"skills": ["billing"], "phone": "webrtc"},
    }
    async with call_center(tmp_path, agents=agents) as cc, two_pages(cc) as (alice, bob):
        write_alaw(tmp_path / "caller-voice.al", read_wav(write_tone(tmp_path / "caller.wav", CALLER_TONE, 2))[0])
        await alice.open_line()
        await bob.open_line()
        await cc.available("alice")
        caller = await cc.start_caller("caller_stream_uac.xml", "5550401", dtmf=str(dtmf_pcap("2")))
        await answer_when_rung(alice)
        await alice.wait_state("talking")
        [call_sid] = cc.node.b2bua.live_call_sids()
        live = cc.node.b2bua.live_call(call_sid)
        assert live is not None
        ear = CallerEar(live.customer.session)

        nobody = await alice.do("consult", target="nobody")
        assert nobody.json()["error"]["id"] == "consult_target_not_found", nobody.text
        answering = asyncio.ensure_future(answer_when_rung(bob))
        consulted = await alice.do("consult", target="bob")
        assert (await answering)["ringing"]["caller"] == "5550401"  # bob sees whom he will take
        assert consulted.status_code == 200, consulted.text
        assert consulted.json()["consult"] == {"target": "bob", "state": "talking"} and consulted.json()["held"]
        await asyncio.sleep(1.0)
        heard_by_alice, heard_by_caller = await during(1.5, alice, ear)
        assert tone_share(heard_by_alice, BOB_TONE) > HEARD and tone_share(heard_by_alice, CALLER_TONE) < NOT_HEARD
        assert tone_share(heard_by_caller, BOB_TONE) < NOT_HEARD and tone_share(heard_by_caller, AGENT_TONE) < NOT_HEARD

        cancelled = await alice.do("consult/cancel")
        assert cancelled.json()["consult"] is None and cancelled.json()["held"] is False, cancelled.text
        await bob.wait_state("idle")
        heard_by_caller = (await during(1.5, ear))[0]
        assert tone_share(heard_by_caller, AGENT_TONE) > 0.5

        answering = asyncio.ensure_future(answer_when_rung(bob))
        assert (await alice.do("consult", target="bob")).status_code == 200
        await answering
        together = await alice.do("conference")
        assert together.json()["consult"] == {"target": "bob", "state": "conference"}, together.text
        assert together.json()["held"] is False
        await asyncio.sleep(0.5)
        heard_by_caller, heard_by_bob, heard_by_alice = await during(2.0, ear, bob, alice)
        assert tone_share(heard_by_caller, BOB_TONE) > HEARD and tone_share(heard_by_caller, AGENT_TONE) > HEARD
        assert tone_share(heard_by_bob, CALLER_TONE) > HEARD and tone_share(heard_by_bob, AGENT_TONE) > HEARD
        assert tone_share(heard_by_alice, CALLER_TONE) > HEARD and tone_share(heard_by_alice, BOB_TONE) > HEARD

        completed = await alice.do("consult/complete")
        assert completed.status_code == 200 and completed.json() == {"transferred": True}, completed.text
        await alice.wait_state("idle")
        await bob.wait_state("talking")
        heard_by_caller = (await during(1.5, ear))[0]
        assert tone_share(heard_by_caller, BOB_TONE) > 0.5 and tone_share(heard_by_caller, AGENT_TONE) < NOT_HEARD
        assert (await bob.do("hangup")).status_code == 200
        await finish(caller)
        record = await cc.finished_call("5550401")
    assert record["outcome"] == "completed", record
    assert record["worker_sid"] == cc.agents["alice"].worker_sid
    [moved] = record["attributes"]["transfers"]
    assert moved["attended"] is True and moved["to"] == "bob"
    assert moved["from_worker_sid"] == cc.agents["alice"].worker_sid


async def test_agent_consults_a_queue_and_completes(tmp_path: Path) -> None:
    """The target is the billing queue: a task of the consultation's waits there, its offer rings bob's page, and
    once the caller is his, bob is busy with that task and wraps up when the call ends."""
    agents: dict[str, Any] = {
        "alice": {"skills": ["support"], "phone": "webrtc"},
        "bob": {"skills": ["billing"], "phone": "webrtc"},
    }
    async with call_center(tmp_path, agents=agents) as cc, two_pages(cc) as (alice, bob):
        write_alaw(tmp_path / "caller-voice.al", read_wav(write_tone(tmp_path / "caller.wav", CALLER_TONE, 2))[0])
        await alice.open_line()
        await bob.open_line()
        await cc.available("alice")
        caller = await cc.start_caller("caller_stream_uac.xml", "5550402", dtmf=str(dtmf_pcap("2")))
        await answer_when_rung(alice)
        await alice.wait_state("talking")
        await cc.available("bob")  # only now: the caller's own task must not go to bob
        answering = asyncio.ensure_future(answer_when_rung(bob))
        consulted = await alice.do("consult", target="billing")
        ringing = await answering
        assert consulted.status_code == 200, consulted.text
        assert consulted.json()["consult"] == {"target": "billing", "state": "talking"}
        assert ringing["ringing"]["caller"] == "5550402" and ringing["ringing"]["reservation_sid"]
        engine = cc.center.workspace(cc.workspace.sid)
        consult_task = engine.tasks[ringing["ringing"]["task_sid"]]
        assert consult_task.attributes["consult"] is True and consult_task.worker_sid == cc.agents["bob"].worker_sid
        heard_by_alice = (await during(1.5, alice))[0]
        assert tone_share(heard_by_alice, BOB_TONE) > HEARD
        completed = await alice.do("consult/complete")
        assert completed.status_code == 200, completed.text
        await alice.wait_state("idle")
        await bob.wait_state("talking")
        assert (await bob.do("hangup")).status_code == 200
        await finish(caller)
        record = await cc.finished_call("5550402")
        await asyncio.sleep(0.2)
        assert engine.reservations[ringing["ringing"]["reservation_sid"]].status.value == "wrapping"
    [moved] = record["attributes"]["transfers"]
    assert (moved["to"], moved["attended"]) == ("billing", True)
