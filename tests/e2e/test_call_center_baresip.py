"""baresip is the agent's phone in the whole call path: it registers with digest, the B2BUA rings it for a
caller (SIPp) who picked support, it answers by itself, and each side hears the other."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from audio import SILENCE_RMS, read_wav, rms, tone_share, write_tone
from baresip import baresip_phone, require_baresip
from call_center import AUDIO_PCAP, call_center, dtmf_pcap, finish, stereo_channels
from sipp import LOOPBACK, require_sipp

from conftest import require_peer

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _peers() -> None:
    require_sipp()
    require_baresip()
    require_peer("sipp pcaps", AUDIO_PCAP is not None and dtmf_pcap("2") is not None, "sip-tester's pcaps")


async def test_baresip_agent_answers_a_queued_caller_and_both_hear_each_other(tmp_path: Path) -> None:
    tone = write_tone(tmp_path / "agent-voice.wav", 440, 30)
    heard = tmp_path / "agent-heard.wav"
    async with call_center(tmp_path, agents={"alice": ["support"]}) as cc:
        async with baresip_phone(
            tmp_path, username="alice", password=cc.agents["alice"].password,
            registrar=(LOOPBACK, cc.sip_port), play=tone, record=heard,
        ) as phone:  # fmt: skip
            await phone.wait_registered()
            assert cc.node.bindings.lookup(f"sip:alice@{LOOPBACK}")
            await cc.available("alice")
            caller = await cc.start_caller(
                "caller_rfc4733_uac.xml", "5550010", dtmf=str(dtmf_pcap("2")), pcap=str(AUDIO_PCAP)
            )
            await phone.wait_log(r"[Cc]all established", timeout=15)
            await asyncio.sleep(3)  # talk
            await phone.command("hangup")
            await finish(caller)
        record = await cc.finished_call("5550010")
    assert (record["outcome"], record["hangup_by"]) == ("completed", "agent"), record
    assert record["worker_sid"] == cc.agents["alice"].worker_sid
    # The agent heard the caller: SIPp's recorded speech came through the bridge to baresip.
    samples, _ = read_wav(heard)
    assert rms(samples) > SILENCE_RMS, str(phone)
    # The caller's side of the recording is the caller's speech; the agent's side is baresip's 440 Hz tone.
    left, right = stereo_channels(Path(record["recording_path"]))
    assert rms(left) > SILENCE_RMS and rms(right) > SILENCE_RMS
    assert tone_share(right, 440) > 0.8 and tone_share(left, 440) < 0.2
