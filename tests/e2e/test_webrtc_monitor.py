"""A supervisor on an agent's live call, over SIP and WebRTC: a SIPp caller streams a 440 Hz tone, the agent
answers in their page (aiortc, a 1 kHz tone) and the supervisor's page (aiortc, a 1.6 kHz tone, its own line
keyed by the user) listens, whispers and barges through the API, then leaves. What the caller hears is taken off
the caller's RTP session on the server (SIPp keeps no audio): in whisper it never holds the supervisor's tone,
which the agent hears; in barge everyone hears everyone."""

from __future__ import annotations

import asyncio
from array import array
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from audio import read_wav, rms, tone_share, write_alaw, write_tone
from call_center import AUDIO_PCAP, CallCenter, call_center, dtmf_pcap, finish
from sipp import require_sipp
from test_flow_waiting import free_sip_port, start_uas
from test_webrtc_agent import AGENT_TONE, Page

from callboard.api.app import create_api
from callboard.api.auth import digest
from callboard.voice.calls.leg import LegState
from callboard.voice.media.g711 import alaw_decode, ulaw_decode
from conftest import require_peer

pytestmark = pytest.mark.e2e

CALLER_TONE = 440.0
SUPERVISOR_TONE = 1600.0
HEARD = 0.08  # share of a tone in what a party hears when it is one of the voices mixed in
NOT_HEARD = 0.02


@pytest.fixture(autouse=True)
def _peers() -> None:
    require_sipp()
    require_peer("sipp pcaps", AUDIO_PCAP is not None and dtmf_pcap("2") is not None, "sip-tester's pcaps")


@asynccontextmanager
async def pages(cc: CallCenter) -> AsyncIterator[tuple[Page, Page, httpx.AsyncClient, httpx.AsyncClient]]:
    """The agent alice's page and the supervisor sue's page (with their API clients), on one API."""
    app = create_api(cc.center, recordings_dir=cc.recordings)
    app.state.phone = cc.node.b2bua.lines
    sue = await cc.store.create_user("sue", "$argon2id$unused", "supervisor")
    alice = await cc.store.get_user_by_name("alice")
    assert alice is not None
    for user in (alice, sue):
        await cc.store.create_api_token(user["id"], "page", digest(f"token-{user['username']}"))
    transport = httpx.ASGITransport(app=app)
    base = f"/api/v1/workspaces/{cc.workspace.sid}"

    def client(name: str) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer token-{name}"}
        return httpx.AsyncClient(transport=transport, base_url="http://callboard.test", headers=headers)

    async with client("alice") as agent_client, client("sue") as sue_client:
        agent = Page(agent_client, f"{base}/workers/{cc.agents['alice'].worker_sid}/phone")
        supervisor = Page(sue_client, f"{base}/monitor/line", tone=SUPERVISOR_TONE)
        try:
            yield agent, supervisor, agent_client, sue_client
        finally:
            await agent.close()
            await supervisor.close()


class CallerEar:
    """What the server sends the caller: a tap on the caller leg's RTP session (A-law or µ-law)."""

    def __init__(self, session: Any) -> None:
        self.heard = array("h")
        send = session.send_frame
        decode = alaw_decode if session.payload_type == 8 else ulaw_decode

        def tapped(payload: bytes, *, marker: bool = False, samples: int | None = None) -> None:
            self.heard.frombytes(decode(payload))
            send(payload, marker=marker, samples=samples)

        session.send_frame = tapped


async def during(seconds: float, *ears: Page | CallerEar) -> list[array[int]]:
    starts = [len(ear.heard) for ear in ears]
    await asyncio.sleep(seconds)
    return [ear.heard[start:] for ear, start in zip(ears, starts, strict=True)]


async def test_supervisor_listens_whispers_barges_and_leaves_an_agents_call(tmp_path: Path) -> None:
    agents: dict[str, Any] = {"alice": {"skills": ["support"], "phone": "webrtc"}}
    async with call_center(tmp_path, agents=agents) as cc, pages(cc) as (agent, supervisor, alice, sue):
        write_alaw(tmp_path / "caller-voice.al", read_wav(write_tone(tmp_path / "caller.wav", CALLER_TONE, 2))[0])
        await agent.open_line()
        opened = await supervisor.open_line()
        assert opened["line"]["monitoring"] is None and opened["line"]["codec"] == "PCMU"
        await cc.available("alice")
        caller = await cc.start_caller("caller_stream_uac.xml", "5550301", dtmf=str(dtmf_pcap("2")))
        await agent.wait_state("ringing")
        assert (await agent.do("answer")).status_code == 200
        await agent.wait_state("talking")
        [call_sid] = cc.node.b2bua.live_call_sids()
        ear = CallerEar(cc.node.b2bua.live_call(call_sid).customer.session)  # type: ignore[union-attr]
        monitor = f"/api/v1/workspaces/{cc.workspace.sid}/calls/{call_sid}/monitor"
        assert (await alice.post(monitor, json={"mode": "listen"})).status_code == 403

        joined = await sue.post(monitor, json={"mode": "listen"})
        assert joined.status_code == 200 and joined.json()["connected"] is True, joined.text
        await asyncio.sleep(1.0)
        heard_by_sue, heard_by_caller = await during(2.5, supervisor, ear)
        assert tone_share(heard_by_sue, CALLER_TONE) > HEARD and tone_share(heard_by_sue, AGENT_TONE) > HEARD
        assert tone_share(heard_by_caller, SUPERVISOR_TONE) < NOT_HEARD
        assert tone_share(heard_by_caller, AGENT_TONE) > HEARD

        whisper = await sue.patch(monitor, json={"mode": "whisper"})
        assert whisper.json()["monitors"][0]["mode"] == "whisper", whisper.text
        heard_by_agent, heard_by_caller = await during(2.5, agent, ear)
        assert tone_share(heard_by_agent, SUPERVISOR_TONE) > HEARD and tone_share(heard_by_agent, CALLER_TONE) > HEARD
        assert tone_share(heard_by_caller, SUPERVISOR_TONE) < NOT_HEARD

        assert (await sue.patch(monitor, json={"mode": "barge"})).status_code == 200
        heard_by_agent, heard_by_caller, heard_by_sue = await during(2.5, agent, ear, supervisor)
        assert tone_share(heard_by_caller, SUPERVISOR_TONE) > HEARD and tone_share(heard_by_caller, AGENT_TONE) > HEARD
        assert tone_share(heard_by_agent, SUPERVISOR_TONE) > HEARD
        assert tone_share(heard_by_sue, CALLER_TONE) > HEARD

        assert (await sue.delete(monitor)).status_code == 204
        assert (await supervisor.line())["monitoring"] is None
        await asyncio.sleep(0.5)
        heard_by_caller, heard_by_agent = await during(2.0, ear, agent)
        assert tone_share(heard_by_caller, SUPERVISOR_TONE) < NOT_HEARD
        assert tone_share(heard_by_caller, AGENT_TONE) > 0.5
        assert tone_share(heard_by_agent, SUPERVISOR_TONE) < NOT_HEARD and rms(heard_by_agent) > 500

        assert (await agent.do("hangup")).status_code == 200
        await finish(caller)
        record = await cc.finished_call("5550301")
    assert (record["outcome"], record["hangup_by"]) == ("completed", "agent"), record


async def test_supervisor_whispers_to_an_agent_on_a_sip_desk_phone(tmp_path: Path) -> None:
    """The mixer works on any bridged legs: here the agent answers on a registered SIP phone (SIPp, streaming
    speech); what the server sends that phone and the caller is tapped on their RTP sessions."""
    agents: dict[str, Any] = {"alice": {"skills": ["support"], "phone": "webrtc"}, "bob": ["support"]}
    async with call_center(tmp_path, agents=agents) as cc, pages(cc) as (_agent, supervisor, _alice, sue):
        write_alaw(tmp_path / "caller-voice.al", read_wav(write_tone(tmp_path / "caller.wav", CALLER_TONE, 2))[0])
        await supervisor.open_line()
        bob_port = free_sip_port()
        await cc.register("bob", bob_port)
        await cc.available("bob")
        phone = await start_uas(cc, "agent_callback_uas.xml", bob_port, "bob", pcap=str(AUDIO_PCAP))
        caller = await cc.start_caller("caller_stream_uac.xml", "5550302", dtmf=str(dtmf_pcap("2")))
        live = None
        for _ in range(300):
            sids = cc.node.b2bua.live_call_sids()
            live = cc.node.b2bua.live_call(next(iter(sids))) if sids else None
            if live is not None and live.customer.state is LegState.BRIDGED:
                break
            await asyncio.sleep(0.05)
        assert live is not None and live.customer.peer is not None
        caller_ear, phone_ear = CallerEar(live.customer.session), CallerEar(live.customer.peer.session)
        monitor = f"/api/v1/workspaces/{cc.workspace.sid}/calls/{live.sid}/monitor"
        assert (await sue.post(monitor, json={"mode": "listen"})).status_code == 200
        await asyncio.sleep(1.0)
        heard_by_sue = (await during(2.0, supervisor))[0]
        assert tone_share(heard_by_sue, CALLER_TONE) > HEARD and rms(heard_by_sue) > 500
        assert (await sue.patch(monitor, json={"mode": "whisper"})).status_code == 200
        heard_by_caller, heard_by_phone = await during(2.0, caller_ear, phone_ear)
        assert tone_share(heard_by_phone, SUPERVISOR_TONE) > HEARD and tone_share(heard_by_phone, CALLER_TONE) > HEARD
        assert tone_share(heard_by_caller, SUPERVISOR_TONE) < NOT_HEARD
        assert (await sue.delete(monitor)).status_code == 204
        await live.customer.hangup()
        await finish(caller)
        await finish(phone)
        record = await cc.finished_call("5550302")
    assert (record["outcome"], record["worker_sid"]) == ("completed", cc.agents["bob"].worker_sid), record
