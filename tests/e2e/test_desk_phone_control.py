"""Call control from the page for agents on desk phones: a SIPp caller streams a 440 Hz tone, the call is routed
to alice, whose phone is a registered, auto-answering baresip (1 kHz), and the test drives the REST API as the
agent's page does. The page sees the call on the desk phone; it holds the caller (the caller hears music, not
alice) without the phone taking part, resumes, finds answering and muting left to the phone, and transfers the
caller to bob, another baresip (1.6 kHz), who answers; in another call it consults bob (the caller on hold, bob
connected to alice's desk phone) and completes the transfer. The call records, reservations and events say who
had the call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from audio import SILENCE_RMS, read_wav, rms, tone_share, write_alaw, write_tone
from baresip import BaresipPhone, baresip_phone, require_baresip
from call_center import AUDIO_PCAP, CallCenter, call_center, dtmf_pcap, finish
from sipp import LOOPBACK, require_sipp
from test_webrtc_agent import LineClient
from test_webrtc_monitor import HEARD, NOT_HEARD, CallerEar, during

from callboard.api.app import create_api
from callboard.api.auth import digest
from conftest import require_peer

pytestmark = pytest.mark.e2e

CALLER_TONE = 440.0
ALICE_TONE = 1000.0
BOB_TONE = 1600.0


@pytest.fixture(autouse=True)
def _peers() -> None:
    require_sipp()
    require_baresip()
    require_peer("sipp pcaps", AUDIO_PCAP is not None and dtmf_pcap("2") is not None, "sip-tester's pcaps")


@asynccontextmanager
async def desk_agents(cc: CallCenter, tmp_path: Path) -> AsyncIterator[dict[str, tuple[LineClient, BaresipPhone]]]:
    """alice's and bob's baresip phones, registered and auto-answering, and their pages against the node's API."""
    app = create_api(cc.center, recordings_dir=cc.recordings)
    app.state.phone = cc.node.b2bua.phones
    transport = httpx.ASGITransport(app=app)
    agents: dict[str, tuple[LineClient, BaresipPhone]] = {}
    async with AsyncExitStack() as stack:
        for name, frequency in (("alice", ALICE_TONE), ("bob", BOB_TONE)):
            voice = write_tone(tmp_path / f"{name}-voice.wav", frequency, 60)
            phone = await stack.enter_async_context(
                baresip_phone(
                    tmp_path, username=name, password=cc.agents[name].password,
                    registrar=(LOOPBACK, cc.sip_port), play=voice, record=tmp_path / f"{name}-heard.wav",
                )
            )  # fmt: skip
            await phone.wait_registered()
            user = await cc.store.get_user_by_name(name)
            assert user is not None
            await cc.store.create_api_token(user["id"], "page", digest(f"token-{name}"))
            client = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=transport, base_url="http://callboard.test",
                    headers={"Authorization": f"Bearer token-{name}"},
                )
            )  # fmt: skip
            url = f"/api/v1/workspaces/{cc.workspace.sid}/workers/{cc.agents[name].worker_sid}/phone"
            agents[name] = (LineClient(client, url), phone)
        yield agents


def caller_voice(tmp_path: Path) -> None:
    """What the streaming caller says (SIPp reads it from its working folder)."""
    write_alaw(tmp_path / "caller-voice.al", read_wav(write_tone(tmp_path / "caller.wav", CALLER_TONE, 2))[0])


async def accepted_by(cc: CallCenter) -> list[str]:
    """The workers whose reservations were accepted, in order, for any task of the workspace."""
    events = [e for _, e in await cc.store.events(cc.workspace.sid)]
    return [e.data["worker_sid"] for e in events if e.name == "reservation.accepted"]


async def wrapped_up(cc: CallCenter) -> list[str]:
    """The workers whose reservations went to wrap-up, once there is one (the event log is written as they go)."""
    for _ in range(100):
        events = [e for _, e in await cc.store.events(cc.workspace.sid)]
        wrapped = [e.data["worker_sid"] for e in events if e.name == "reservation.wrapup"]
        if wrapped:
            return wrapped
        await asyncio.sleep(0.05)
    return []


async def test_the_page_holds_resumes_and_blind_transfers_a_desk_phones_call(tmp_path: Path) -> None:
    agents: dict[str, Any] = {"alice": ["support"], "bob": ["billing"]}
    async with call_center(tmp_path, agents=agents) as cc, desk_agents(cc, tmp_path) as desks:
        (alice, alice_phone), (bob, _) = desks["alice"], desks["bob"]
        caller_voice(tmp_path)
        idle = await alice.line()
        assert (idle["device"], idle["state"], idle["call"]) == ("sip", "idle", None), idle
        await cc.available("alice")
        caller = await cc.start_caller("caller_stream_uac.xml", "5550601", dtmf=str(dtmf_pcap("2")))
        talking = await alice.wait_state("talking")
        assert talking["device"] == "sip" and talking["call"]["caller"] == "5550601", talking
        assert talking["held"] is False and talking["codec"] in ("PCMU", "PCMA")
        await alice_phone.wait_log(r"[Cc]all established")
        [call_sid] = cc.node.b2bua.live_call_sids()
        assert talking["call"]["call_sid"] == call_sid
        live = cc.node.b2bua.live_call(call_sid)
        assert live is not None
        ear = CallerEar(live.customer.session)
        await asyncio.sleep(0.5)
        assert tone_share((await during(1.5, ear))[0], ALICE_TONE) > 0.5  # the caller hears alice's phone

        refusals = (("answer", "answer_on_phone"), ("mute", "mute_on_phone"), ("reject", "answer_on_phone"))
        for action, refused in refusals:
            response = await alice.do(action)
            assert (response.status_code, response.json()["error"]["id"]) == (409, refused), response.text

        held = await alice.do("hold")
        assert held.status_code == 200 and held.json()["held"] is True, held.text
        await asyncio.sleep(0.3)
        on_hold = (await during(1.5, ear))[0]
        assert rms(on_hold) > SILENCE_RMS and tone_share(on_hold, ALICE_TONE) < NOT_HEARD  # music, not alice
        assert (await alice.line())["held"] is True
        resumed = await alice.do("resume")
        assert resumed.status_code == 200 and resumed.json()["held"] is False, resumed.text
        await asyncio.sleep(0.3)
        assert tone_share((await during(1.5, ear))[0], ALICE_TONE) > 0.5  # alice again
        assert (await alice.do("dtmf", digits="1")).status_code == 200

        await cc.available("bob")
        transferred = await alice.do("transfer", target="bob")
        assert transferred.status_code == 200 and transferred.json()["transferred"] is True, transferred.text
        after = await alice.wait_state("idle")
        assert (after["device"], after["call"]) == ("sip", None)
        with_bob = await bob.wait_state("talking")
        assert with_bob["device"] == "sip" and with_bob["call"]["caller"] == "5550601", with_bob
        await asyncio.sleep(0.5)
        assert tone_share((await during(1.5, ear))[0], BOB_TONE) > 0.5  # the caller hears bob now
        hung_up = await bob.do("hangup")
        assert hung_up.status_code == 200 and hung_up.json()["state"] == "idle", hung_up.text
        await finish(caller)
        record = await cc.finished_call("5550601")
        assert await accepted_by(cc) == [cc.agents["alice"].worker_sid, cc.agents["bob"].worker_sid]
    assert (record["outcome"], record["hangup_by"]) == ("completed", "agent"), record
    assert record["worker_sid"] == cc.agents["bob"].worker_sid
    [moved] = record["attributes"]["transfers"]
    assert (moved["from_worker_sid"], moved["to"]) == (cc.agents["alice"].worker_sid, "bob")
    assert record["hold_seconds"] > 1.0


async def test_the_page_consults_a_colleague_for_a_desk_phones_call_and_completes(tmp_path: Path) -> None:
    agents: dict[str, Any] = {"alice": ["support"], "bob": ["billing"]}
    async with call_center(tmp_path, agents=agents) as cc, desk_agents(cc, tmp_path) as desks:
        (alice, alice_phone), (_, bob_phone) = desks["alice"], desks["bob"]
        caller_voice(tmp_path)
        await cc.available("alice")
        caller = await cc.start_caller("caller_stream_uac.xml", "5550602", dtmf=str(dtmf_pcap("2")))
        await alice.wait_state("talking")
        await alice_phone.wait_log(r"[Cc]all established")
        [call_sid] = cc.node.b2bua.live_call_sids()
        live = cc.node.b2bua.live_call(call_sid)
        assert live is not None
        ear = CallerEar(live.customer.session)

        consulted = await alice.do("consult", target="bob")
        assert consulted.status_code == 200, consulted.text
        assert consulted.json()["consult"] == {"target": "bob", "state": "talking"} and consulted.json()["held"]
        await bob_phone.wait_log(r"[Cc]all established")
        await asyncio.sleep(0.5)
        on_hold = (await during(1.5, ear))[0]
        assert tone_share(on_hold, ALICE_TONE) < NOT_HEARD and tone_share(on_hold, BOB_TONE) < NOT_HEARD
        assert rms(on_hold) > SILENCE_RMS  # music
        twice = await alice.do("consult", target="bob")
        assert (twice.status_code, twice.json()["error"]["id"]) == (409, "consult_in_progress"), twice.text

        completed = await alice.do("consult/complete")
        assert completed.status_code == 200 and completed.json() == {"transferred": True}, completed.text
        after = await alice.wait_state("idle")
        assert after["consult"] is None and after["call"] is None
        await asyncio.sleep(0.5)
        heard = (await during(1.5, ear))[0]
        assert tone_share(heard, BOB_TONE) > HEARD and tone_share(heard, ALICE_TONE) < NOT_HEARD
        alice_sid = cc.agents["alice"].worker_sid
        assert await wrapped_up(cc) == [alice_sid]  # alice is done while the caller still talks to bob
        assert await accepted_by(cc) == [alice_sid]  # bob took the caller as a colleague, not by an offer
        await bob_phone.command("hangup")
        await finish(caller)
        record = await cc.finished_call("5550602")
    assert record["outcome"] == "completed" and record["worker_sid"] == cc.agents["alice"].worker_sid, record
    [moved] = record["attributes"]["transfers"]
    assert (moved["from_worker_sid"], moved["to"], moved["attended"]) == (cc.agents["alice"].worker_sid, "bob", True)
    assert record["hold_seconds"] > 0.5, record  # the caller held while alice talked to bob
