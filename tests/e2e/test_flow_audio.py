"""What a caller hears, checked on the audio itself: baresip calls a number and records what reaches it, and
the recording is compared with the shipped prompts it should contain: its loudness, the length of the speech,
and the 20 ms envelope of the prompt (a fingerprint that another prompt, or the same message in another
language, does not match)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from audio import SILENCE_RMS, active_seconds, concatenate, envelope_match, read_wav, rms, write_tone
from baresip import BaresipPhone, baresip_phone, require_baresip
from call_center import CallCenter, call_center
from sipp import LOOPBACK

from callboard.app.ivr_voice import SYSTEM_PROMPTS_DIR
from callboard.flows import say

pytestmark = pytest.mark.e2e

NUMBER = "+34910000300"
CALLER = "5550301"  # no user of the center: an outside caller
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS_OPEN = {"time_zone": "Europe/Madrid", "weekly": {day: ["00:00-24:00"] for day in DAYS}}
NEVER_OPEN = {"time_zone": "Europe/Madrid", "weekly": {}}
LANGUAGES = ("en", "es", "ru")


@pytest.fixture(autouse=True)
def _peers() -> None:
    require_baresip()


def prompt(language: str, *names: str) -> Any:
    """The samples of shipped system prompts said one after the other, as the node joins a message."""
    return concatenate(*(SYSTEM_PROMPTS_DIR / language / f"{name}.wav" for name in names))


async def configure(cc: CallCenter, flow: dict[str, Any], schedule: dict[str, Any], language: str) -> None:
    ws = cc.workspace.sid
    await cc.store.put_document(ws, "schedule", "madrid", schedule)
    await cc.store.publish_flow(ws, "main", flow)
    await cc.store.put_document(
        ws, "number", NUMBER, {"site": "madrid", "flow": "main", "language": language, "schedule": "madrid"}
    )
    await cc.store.put_document(
        ws, "queue_waiting", "support", {"announce_position": True, "announce_wait": False, "announce_every": 0}
    )
    cc.node.ivr_changed(ws)


async def dial(cc: CallCenter, phone: BaresipPhone) -> None:
    await phone.command("dial", f"sip:{NUMBER.lstrip('+')}@{LOOPBACK}:{cc.sip_port}")
    await phone.wait_log(r"[Cc]all established", timeout=15)


def position_message(language: str, position: int) -> tuple[str, ...]:
    return ("you-are-number", *say.compose(position, language, "position"), "in-line")


def scores(heard: Any, rate: int, *names: str) -> dict[str, float]:
    """How well the message made of `names` matches what was heard, in each shipped language."""
    return {language: envelope_match(heard, prompt(language, *names), rate) for language in LANGUAGES}


async def test_a_caller_out_of_hours_hears_the_closed_message_in_the_numbers_language(tmp_path: Path) -> None:
    silence = write_tone(tmp_path / "silence.wav", 440, 40, amplitude=0.0)  # the caller says nothing
    heard_path = tmp_path / "heard.wav"
    flow = {"start": "hours", "nodes": {"hours": {"type": "hours", "open": "bye"}, "bye": {"type": "hangup"}}}
    async with call_center(tmp_path, agents={"alice": ["support"]}) as cc:
        await configure(cc, flow, NEVER_OPEN, "es")
        async with baresip_phone(
            tmp_path, username=CALLER, password="unused", registrar=(LOOPBACK, cc.sip_port),
            play=silence, record=heard_path, regint=0,
        ) as phone:  # fmt: skip
            await dial(cc, phone)
            await phone.wait_log(r"terminated", timeout=30)  # the node hangs up after the message
        record = await cc.finished_call(CALLER)
    assert (record["outcome"], record["hangup_by"]) == ("ivr", "system")
    heard, rate = read_wav(heard_path)
    expected = prompt("es", "closed")
    # Loud enough to be speech, and as long as the Spanish message (6.1 s; the English one is 4.7 s).
    assert rms(heard) > SILENCE_RMS, str(phone)
    assert abs(active_seconds(heard, rate) - active_seconds(expected)) < 0.5
    # Its envelope is the Spanish closed message's, not the English or Russian one's, nor another prompt's.
    match = scores(heard, rate, "closed")
    assert match["es"] > 0.95, match
    assert max(match["en"], match["ru"]) < match["es"] - 0.3, match
    assert envelope_match(heard, prompt("es", "holiday"), rate) < match["es"] - 0.2


async def test_a_queued_caller_hears_its_position_in_line_in_its_language(tmp_path: Path) -> None:
    silence = write_tone(tmp_path / "silence.wav", 440, 40, amplitude=0.0)
    heard_path = tmp_path / "heard.wav"
    flow = {
        "start": "queue",
        "nodes": {"queue": {"type": "enqueue", "workflow": "inbound", "attributes": {"department": "support"}}},
    }
    async with call_center(tmp_path, agents={"alice": ["support"]}) as cc:
        await configure(cc, flow, ALWAYS_OPEN, "es")
        async with baresip_phone(
            tmp_path, username=CALLER, password="unused", registrar=(LOOPBACK, cc.sip_port),
            play=silence, record=heard_path, regint=0,
        ) as phone:  # fmt: skip
            await dial(cc, phone)
            await asyncio.sleep(6)  # the announcement (about 3 s), then music
            await phone.command("hangup")
        record = await cc.finished_call(CALLER)
    assert record["outcome"] == "abandoned" and record["task_sid"] is not None
    heard, rate = read_wav(heard_path)
    # "You are number one in line" in Spanish: its words, each padded to a 20 ms frame, back to back.
    match = {
        language: envelope_match(heard, prompt(language, *position_message(language, 1)), rate)
        for language in LANGUAGES
    }
    assert match["es"] > 0.95, match
    assert max(match["en"], match["ru"]) < match["es"] - 0.3, match
    # Even the same message with another position (a wrong count of callers ahead) scores worse.
    assert envelope_match(heard, prompt("es", *position_message("es", 2)), rate) < match["es"] - 0.1
