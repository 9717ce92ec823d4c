"""Consultative transfer and click-to-call in the page, end to end on the demo center (the same setup as
test_web_call.py: `callboard demo` with SIP, Debian's Chromium with fake microphones, agents alice and bob on
`phone: webrtc`). The demo has no trunk, so click-to-call dials a colleague by name: alice calls bob from her
softphone's number field (the call's own task never rings her page as an offer), he answers in his page, she
hangs up and wraps up. Then a SIPp caller dials the demo's 24-hour line and presses 1; alice answers in her page,
tries to consult a name nobody has (the API's error id shows), consults bob from the transfer dialog (the
caller is held, his page rings with the caller's number and he answers), and completes the transfer: bob talks
to the caller, alice wraps up, and the call's record lists the transfer as attended."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from audio import write_tone
from call_center import AUDIO_PCAP, SCENARIOS, dtmf_pcap
from sipp import LOOPBACK, free_media_port, require_sipp
from test_demo_call import ANYTIME_LINE, alaw_file
from test_web_call import CALLER_TONE, PASSWORD, Demo, chromium, demo, open_page, wait_heard  # noqa: F401
from web import end_sipp, require_browser, shoot

from conftest import require_peer

pytestmark = pytest.mark.e2e

CALLER = "5550188"


@pytest.fixture(autouse=True)
def _peers() -> None:
    require_browser()
    require_sipp()
    require_peer("sipp pcaps", AUDIO_PCAP is not None and dtmf_pcap("1") is not None, "sip-tester's pcaps")


def wrap_up(page: Any, disposition: str) -> None:
    from playwright.sync_api import expect

    wrapup = page.get_by_test_id("wrapup")
    expect(wrapup).to_be_visible(timeout=10_000)
    wrapup.get_by_test_id("disposition").select_option(disposition)
    wrapup.get_by_test_id("wrapup-done").click()
    expect(page.get_by_test_id("no-offers")).to_be_visible(timeout=10_000)


def rings(page: Any) -> int:
    return int(page.evaluate("document.body.dataset.rings || 0"))


def test_alice_calls_bob_then_consults_him_and_completes_the_transfer(
    tmp_path: Path,
    demo: Demo,  # noqa: F811
    chromium: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    demo.quiet(webrtc=("alice", "bob"))
    alice = open_page(chromium, demo, "alice", PASSWORD)
    line = alice.get_by_test_id("line-state")
    expect(line).to_have_attribute("data-state", "idle", timeout=30_000)
    bob = open_page(chromium, demo, "bob", PASSWORD)
    bob_line = bob.get_by_test_id("line-state")
    expect(bob_line).to_have_attribute("data-state", "idle", timeout=30_000)
    bob.get_by_test_id("go-ready").click()
    expect(bob.get_by_test_id("my-state")).to_have_text("Available")
    alice.get_by_test_id("go-ready").click()
    expect(alice.get_by_test_id("my-state")).to_have_text("Available")

    # Click-to-call: a name nobody has shows the API's error id; bob's name calls him.
    dialer = alice.get_by_test_id("dialer")
    dialer.get_by_test_id("dial-number").fill("nobody")
    dialer.get_by_test_id("dial-go").click()
    expect(dialer.get_by_test_id("dial-error")).to_have_attribute("data-error-id", "dial_target_not_found")
    rung = rings(alice)
    dialer.get_by_test_id("dial-number").fill("bob")
    alice.evaluate("document.activeElement.blur()")
    alice.keyboard.press("Alt+l")  # out of the field: calls the number typed
    expect(line).to_have_attribute("data-state", re.compile("connecting|talking"), timeout=15_000)
    expect(alice.get_by_test_id("phone-outgoing")).to_be_visible()
    expect(alice.get_by_test_id("phone-caller")).to_contain_text("bob")
    offer = alice.get_by_test_id("offer")
    expect(offer).to_have_attribute("data-status", "accepted", timeout=10_000)  # the dial's own task
    expect(bob_line).to_have_attribute("data-state", "ringing", timeout=15_000)
    expect(alice.locator("body")).to_have_attribute("data-ringbacks", re.compile(r"^[1-9]"))  # she hears it ring
    bob.get_by_test_id("phone-answer").click()
    expect(line).to_have_attribute("data-state", "talking", timeout=15_000)
    expect(bob_line).to_have_attribute("data-state", "talking", timeout=15_000)
    wait_heard(bob, 1000)  # alice's microphone
    shoot(alice, "agent-softphone-dialed")
    assert rings(alice) == rung, "the agent's own call rang her page as an offer"
    alice.get_by_test_id("phone-hangup").click()
    expect(line).to_have_attribute("data-state", "idle", timeout=15_000)
    expect(bob_line).to_have_attribute("data-state", "idle", timeout=15_000)
    wrap_up(alice, "resolved")
    expect(alice.get_by_test_id("my-state")).to_have_text("Available", timeout=10_000)

    caller_voice = alaw_file(write_tone(tmp_path / "caller.wav", CALLER_TONE, 2), tmp_path / "caller-voice.al")
    assert caller_voice.parent == tmp_path
    caller = subprocess.Popen(
        ["sipp", f"{LOOPBACK}:{demo.sip_port}", "-sf", str(SCENARIOS / "caller_stream_uac.xml"), "-s", ANYTIME_LINE,
         "-key", "caller", CALLER, "-key", "dtmf", str(dtmf_pcap("1")),
         "-i", LOOPBACK, "-mi", LOOPBACK, "-p", "0", "-mp", str(free_media_port()), "-m", "1",
         "-timeout", "180s", "-timeout_error", "-nostdin"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        offer = alice.get_by_test_id("offer")
        expect(offer).to_have_attribute("data-status", "pending", timeout=60_000)
        expect(line).to_have_attribute("data-state", "ringing", timeout=10_000)
        expect(offer.get_by_test_id("pop-call")).to_be_disabled()  # the line rings: no call out now
        alice.get_by_test_id("phone-answer").click()
        expect(line).to_have_attribute("data-state", "talking", timeout=15_000)
        wait_heard(alice, CALLER_TONE)

        # A target nobody has: the dialog closes, the softphone shows the API's error id, the call goes on.
        alice.keyboard.press("Alt+b")
        dialog = alice.get_by_test_id("transfer-dialog")
        dialog.get_by_test_id("transfer-target").fill("nobody")
        dialog.get_by_test_id("consult-go").click()
        expect(dialog).to_be_hidden()
        consult = alice.get_by_test_id("consult")
        expect(consult.get_by_test_id("consult-error")).to_have_attribute(
            "data-error-id", "consult_target_not_found", timeout=15_000
        )
        expect(line).to_have_attribute("data-state", "talking")

        # Consult bob, then cancel while his page rings: the ring stops, alice has the caller back, no error.
        alice.get_by_test_id("phone-transfer").click()
        dialog.locator("[data-testid=consult-pick][data-target=bob]").click()
        expect(bob_line).to_have_attribute("data-state", "ringing", timeout=30_000)
        expect(consult).to_have_attribute("data-state", "dialing")
        expect(alice.get_by_test_id("held")).to_be_visible()
        alice.keyboard.press("Alt+q")
        expect(bob_line).to_have_attribute("data-state", "idle", timeout=15_000)
        expect(consult).to_have_count(0, timeout=15_000)
        expect(alice.get_by_test_id("held")).to_be_hidden(timeout=10_000)
        expect(line).to_have_attribute("data-state", "talking")
        wait_heard(alice, CALLER_TONE)

        # Consult bob, picked from the directory: the caller is held and bob's page rings with the caller.
        alice.get_by_test_id("phone-transfer").click()
        dialog.locator("[data-testid=consult-pick][data-target=bob]").click()
        expect(dialog).to_be_hidden()
        expect(consult.get_by_test_id("consult-target")).to_have_text("Consulting bob")
        expect(bob_line).to_have_attribute("data-state", "ringing", timeout=30_000)
        expect(consult).to_have_attribute("data-state", "dialing")
        expect(bob.get_by_test_id("phone-caller")).to_contain_text(CALLER)
        bob.get_by_test_id("phone-answer").click()
        # The server keeps the consulted agent's line `connecting` until the transfer puts the caller through.
        expect(bob_line).to_have_attribute("data-state", re.compile("connecting|talking"), timeout=15_000)
        expect(consult).to_have_attribute("data-state", "talking", timeout=15_000)
        expect(alice.get_by_test_id("held")).to_be_visible()
        expect(alice.get_by_test_id("phone-hold")).to_be_disabled()
        expect(alice.get_by_test_id("consult-error")).to_be_hidden()
        shoot(alice, "agent-softphone-consult")

        # A conference first (the caller comes off hold), then the transfer is completed.
        alice.get_by_test_id("consult-conference").click()
        expect(consult).to_have_attribute("data-state", "conference", timeout=15_000)
        expect(consult.get_by_test_id("consult-target")).to_have_text("Conference with bob")
        expect(alice.get_by_test_id("held")).to_be_hidden()
        shoot(alice, "agent-softphone-conference")
        time.sleep(1)
        alice.get_by_test_id("consult-complete").click()
        expect(line).to_have_attribute("data-state", "idle", timeout=15_000)
        expect(bob_line).to_have_attribute("data-state", "talking", timeout=15_000)
        wait_heard(bob, CALLER_TONE)
        wrap_up(alice, "sale")

        time.sleep(1)
        bob.get_by_test_id("phone-hangup").click()
        expect(bob_line).to_have_attribute("data-state", "idle", timeout=15_000)
        output, _ = caller.communicate(timeout=60)
        assert caller.returncode == 0, output
    finally:
        end_sipp(caller)
    assert alice.errors == [] and bob.errors == []

    deadline = time.monotonic() + 30
    while True:
        calls = demo.admin.get(demo.ws("/calls"), params={"outcome": "completed"}).json()["items"]
        mine = [c for c in calls if c["caller"] == CALLER]
        if mine or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    [call] = mine
    alice_sid = demo.worker("alice")["sid"]
    [moved] = call["attributes"]["transfers"]
    assert moved["attended"] is True and moved["to"] == "bob", call
    assert moved["from_worker_sid"] == alice_sid
    # The record keeps the agent who answered (alice); the attended transfer names bob.
    assert call["worker_sid"] == alice_sid, call
    dialed = [c for c in demo.admin.get(demo.ws("/calls")).json()["items"] if c["direction"] == "internal"]
    assert dialed and dialed[0]["called"] == "bob", dialed
