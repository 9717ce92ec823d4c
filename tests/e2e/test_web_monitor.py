"""Listen, whisper and barge from the supervisor's wallboard, end to end on the demo center: a SIPp caller dials
the demo's 24-hour line, presses 1 and talks (a 700 Hz tone) to agent alice, who answers in her page (Chromium,
a fake microphone playing 1 kHz). The supervisor's page runs in a Chromium of its own (one fake microphone file
per browser process: 1.5 kHz), finds the call on the wallboard and listens (its line opens then: it hears the
caller and the agent, alice does not hear it), whispers (alice hears the supervisor's tone), barges, leaves
(alice no longer hears it) and listens again before signing out, which closes the line and leaves the call.
What each page hears is measured with an analyser on its <audio> element; the figures go to
test-artifacts/web-latency.txt."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from audio import write_tone
from call_center import SCENARIOS, dtmf_pcap
from sipp import LOOPBACK, free_media_port
from test_demo_call import ANYTIME_LINE, alaw_file
from test_web_call import (  # noqa: F401  (fixtures)
    AGENT_TONE,
    CALLER_TONE,
    PASSWORD,
    Demo,
    _peers,
    chromium,
    demo,
    open_page,
    wait_heard,
)
from web import CHROMIUM, SCREENSHOTS, Tones, end_sipp, shoot, tone_levels

SUPERVISOR_TONE = 1500
CALLER = "5550188"
TONES = [CALLER_TONE, AGENT_TONE, SUPERVISOR_TONE]


def wait_tones(page: Any, testid: str, check: Callable[[Tones], bool], what: str, seconds: float = 30) -> Tones:
    """Measures `testid`'s audio in `page` until `check` holds."""
    deadline = time.monotonic() + seconds
    while True:
        tones = tone_levels(page, testid, TONES)
        if check(tones):
            return tones
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: {tones}")
        time.sleep(0.3)


def test_a_supervisor_listens_whispers_and_barges_on_alices_call(
    tmp_path: Path,
    demo: Demo,  # noqa: F811
    chromium: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    demo.quiet(webrtc=("alice",))
    measured: list[str] = []

    alice = open_page(chromium, demo, "alice", PASSWORD)
    line = alice.get_by_test_id("line-state")
    expect(line).to_have_attribute("data-state", "idle", timeout=30_000)
    alice.get_by_test_id("go-ready").click()
    expect(alice.get_by_test_id("my-state")).to_have_text("Available")

    mic = write_tone(tmp_path / "supervisor.wav", SUPERVISOR_TONE, 10, amplitude=0.4, rate=48000)
    args = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={mic}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    second = chromium.browser_type.launch(executable_path=str(CHROMIUM), args=args)
    caller: subprocess.Popen[str] | None = None
    try:
        sup = open_page(second, demo, "supervisor", "supervisor")
        expect(sup).to_have_url(re.compile(r"#/wallboard$"))
        calls = sup.get_by_test_id("live-calls")
        expect(calls.get_by_test_id("no-calls")).to_be_visible()
        expect(calls).to_have_attribute("data-line", "off")

        caller_voice = alaw_file(write_tone(tmp_path / "caller.wav", CALLER_TONE, 2), tmp_path / "caller-voice.al")
        assert caller_voice.parent == tmp_path  # rtp_stream reads it from SIPp's working folder
        caller = subprocess.Popen(
            ["sipp", f"{LOOPBACK}:{demo.sip_port}", "-sf", str(SCENARIOS / "caller_stream_uac.xml"),
             "-s", ANYTIME_LINE, "-key", "caller", CALLER, "-key", "dtmf", str(dtmf_pcap("1")),
             "-i", LOOPBACK, "-mi", LOOPBACK, "-p", "0", "-mp", str(free_media_port()), "-m", "1",
             "-timeout", "180s", "-timeout_error", "-nostdin"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        expect(line).to_have_attribute("data-state", "ringing", timeout=60_000)
        alice.get_by_test_id("phone-answer").click()
        expect(line).to_have_attribute("data-state", "talking", timeout=15_000)
        wait_heard(alice, CALLER_TONE)

        # The call shows on the wallboard within a few seconds of the answer.
        row = calls.locator('[data-testid=call-row][data-agent="alice"]')
        expect(row).to_be_visible(timeout=5_000)
        expect(row).to_contain_text(CALLER)
        call_sid = row.get_attribute("data-call")
        assert call_sid and call_sid.startswith("CA"), call_sid

        # Listen: the line opens (microphone, offer, answer) and joins; the supervisor hears both sides.
        started = time.monotonic()
        row.get_by_test_id("monitor-listen").click()
        expect(calls).to_have_attribute("data-mode", "listen", timeout=30_000)
        expect(calls).to_have_attribute("data-line", "open")
        expect(sup.get_by_test_id("monitor-mode")).to_have_text("Listening")
        levels = wait_tones(
            sup, "monitor-audio", lambda t: t.heard(CALLER_TONE) and t.heard(AGENT_TONE),
            "the supervisor should hear the caller and the agent",
        )  # fmt: skip
        measured.append(f"listen -> supervisor hears both: {(time.monotonic() - started) * 1000:.0f} ms")
        measured.append(f"listen, supervisor hears: {levels}")
        agent_hears = tone_levels(alice, "phone-audio", TONES, ms=1500)
        assert agent_hears.absent(SUPERVISOR_TONE), f"alice hears the listener: {agent_hears}"
        measured.append(f"listen, alice hears: {agent_hears}")
        view = demo.admin.get(demo.ws(f"/calls/{call_sid}/monitor")).json()
        assert [m["mode"] for m in view["monitors"]] == ["listen"] and view["connected"], view
        shoot(sup, "supervisor-monitor-listen")

        # Whisper (the keyboard: Alt+I): alice hears the supervisor.
        started = time.monotonic()
        sup.keyboard.press("Alt+i")
        expect(calls).to_have_attribute("data-mode", "whisper", timeout=10_000)
        expect(row).to_have_attribute("data-mode", "whisper")
        levels = wait_tones(
            alice, "phone-audio", lambda t: t.heard(SUPERVISOR_TONE),
            "alice should hear the supervisor's whisper",
        )  # fmt: skip
        measured.append(f"whisper -> alice hears the supervisor: {(time.monotonic() - started) * 1000:.0f} ms")
        measured.append(f"whisper, alice hears: {levels}")
        shoot(sup, "supervisor-monitor-whisper")

        # Barge: a three-way call; alice still hears the supervisor, the supervisor both sides.
        row.get_by_test_id("monitor-barge").click()
        expect(calls).to_have_attribute("data-mode", "barge", timeout=10_000)
        view = demo.admin.get(demo.ws(f"/calls/{call_sid}/monitor")).json()
        assert [m["mode"] for m in view["monitors"]] == ["barge"], view
        levels = wait_tones(alice, "phone-audio", lambda t: t.heard(SUPERVISOR_TONE), "barge: alice")
        measured.append(f"barge, alice hears: {levels}")
        levels = wait_tones(sup, "monitor-audio", lambda t: t.heard(CALLER_TONE), "barge: the supervisor")
        measured.append(f"barge, supervisor hears: {levels}")

        # Leave: the call goes on without the supervisor.
        row.get_by_test_id("monitor-leave").click()
        expect(calls).to_have_attribute("data-mode", "", timeout=10_000)
        expect(row.get_by_test_id("monitor-leave")).to_have_count(0)
        view = demo.admin.get(demo.ws(f"/calls/{call_sid}/monitor")).json()
        assert view["monitors"] == [], view
        levels = wait_tones(
            alice, "phone-audio", lambda t: t.absent(SUPERVISOR_TONE) and t.heard(CALLER_TONE),
            "after leaving, alice should hear the caller only",
        )  # fmt: skip
        measured.append(f"left, alice hears: {levels}")
        expect(line).to_have_attribute("data-state", "talking")

        # Listen again, then sign out: the line closes and the call loses its listener.
        row.get_by_test_id("monitor-listen").click()
        expect(calls).to_have_attribute("data-mode", "listen", timeout=10_000)
        sup.get_by_test_id("logout").click()
        expect(sup.locator("input[name=username]")).to_be_visible()
        deadline = time.monotonic() + 10
        while demo.admin.get(demo.ws(f"/calls/{call_sid}/monitor")).json()["monitors"]:
            assert time.monotonic() < deadline, "signing out should leave the call"
            time.sleep(0.2)
        expect(line).to_have_attribute("data-state", "talking")
        assert sup.errors == [], sup.errors

        alice.get_by_test_id("phone-hangup").click()
        expect(line).to_have_attribute("data-state", "idle", timeout=15_000)
        output, _ = caller.communicate(timeout=60)
        assert caller.returncode == 0, output
    finally:
        end_sipp(caller)
        second.close()
    assert alice.errors == [], alice.errors
    for entry in measured:
        print(entry)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with (SCREENSHOTS.parent / "web-latency.txt").open("a") as out:
        out.write("".join(f"monitor: {entry}\n" for entry in measured))
