"""A wideband desk phone: baresip with G.722 only is the agent's phone, the SIPp caller speaks PCMA, so the
bridge transcodes G.722 <-> G.711 both ways and each side still hears the other: the phone records what it
decodes, and a packet socket on the loopback keeps the PCMA RTP sent to the caller (rtp_tap.py)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from audio import SILENCE_RMS, read_wav, rms, tone_share, write_tone
from baresip import baresip_phone, module_path, require_baresip
from call_center import AUDIO_PCAP, call_center, dtmf_pcap, finish, stereo_channels
from rtp_tap import RtpTap, require_tap
from sipp import LOOPBACK, free_media_port, require_sipp

from conftest import require_peer

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _peers() -> None:
    require_sipp()
    require_baresip()
    require_tap()
    directory = module_path()
    require_peer("baresip's g722 module", directory is not None and (directory / "g722.so").exists(), "baresip")
    require_peer("sipp pcaps", AUDIO_PCAP is not None and dtmf_pcap("2") is not None, "sip-tester's pcaps")


async def test_g722_agent_phone_and_pcma_caller_hear_each_other(tmp_path: Path) -> None:
    tone = write_tone(tmp_path / "agent-voice.wav", 440, 30, rate=16000)  # baresip's G.722 takes 16 kHz only
    heard = tmp_path / "agent-heard.wav"
    async with call_center(tmp_path, agents={"alice": ["support"]}) as cc:
        async with baresip_phone(
            tmp_path, username="alice", password=cc.agents["alice"].password,
            registrar=(LOOPBACK, cc.sip_port), play=tone, record=heard, codecs=("g722",),
        ) as phone:  # fmt: skip
            await phone.wait_registered()
            await cc.available("alice")
            caller_media = free_media_port()
            with RtpTap(caller_media) as tap:  # what the caller hears
                caller = await cc.start_caller(
                    "caller_rfc4733_uac.xml", "5550022", dtmf=str(dtmf_pcap("2")), pcap=str(AUDIO_PCAP),
                    media_port=caller_media,
                )  # fmt: skip
                await phone.wait_log(r"[Cc]all established", timeout=15)
                talking = time.monotonic()
                await asyncio.sleep(3)  # talk
                await phone.command("hangup")
                await finish(caller)
                caller_heard = tap.audio(talking + 0.5, time.monotonic())
        record = await cc.finished_call("5550022")
    assert (record["outcome"], record["hangup_by"]) == ("completed", "agent"), record
    # The agent's leg was negotiated in G.722 (the phone has no other codec; our offer lists it after G.711).
    assert "Set audio encoder: G722" in phone.log and "Set audio decoder: G722" in phone.log, str(phone)
    # The agent heard the caller: SIPp's PCMA speech came through the bridge as G.722 to baresip.
    samples, rate = read_wav(heard)
    assert rate == 16000 and rms(samples) > SILENCE_RMS, str(phone)
    # The caller heard the agent: the phone's G.722 came to the caller as PCMA, still at 440 Hz.
    assert {kind for _, kind, _ in tap.packets} & {8} and not {kind for _, kind, _ in tap.packets} & {0, 9}
    assert rms(caller_heard) > SILENCE_RMS and tone_share(caller_heard, 440) > 0.8
    # The caller's side of the recording is the caller's speech; the agent's side is baresip's 440 Hz tone,
    # decoded from G.722.
    left, right = stereo_channels(Path(record["recording_path"]))
    assert rms(left) > SILENCE_RMS and rms(right) > SILENCE_RMS
    assert tone_share(right, 440) > 0.8 and tone_share(left, 440) < 0.2
