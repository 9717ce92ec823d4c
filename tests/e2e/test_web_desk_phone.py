"""The agent desktop steering a call on a desk phone, end to end: `callboard demo` with SIP on, alice's and bob's
desk phones are baresip (alice's plays a 1 kHz tone and answers when the test presses its key, so the page can be
seen while it rings; bob's plays 1.6 kHz and answers by itself), and a SIPp caller dials the 24-hour line, presses
1 for sales and talks (700 Hz). alice signs in to her page in headless Chromium: the offer shows with "ringing on
your desk phone" and no answer button; once the phone answers, the panel has the desk phone's note and hang up,
hold, keypad and transfer, but no answer or mute (Alt+A and Alt+M do nothing). Hold from the page puts the caller
on hold (the line's state says held; the caller hears music, not alice), Alt+H resumes (alice again), Alt+K opens
the keypad, and Alt+B opens the transfer dialog, from which alice blind-transfers the caller to bob: the caller
hears bob and alice's page goes to wrap-up. A packet socket on the loopback keeps what the caller hears."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from audio import SILENCE_RMS, rms, tone_share, write_tone
from baresip import BaresipPhone, baresip_phone, require_baresip
from call_center import AUDIO_PCAP, SCENARIOS, dtmf_pcap
from rtp_tap import RtpTap, require_tap
from sipp import LOOPBACK, free_media_port, require_sipp
from test_demo_call import ANYTIME_LINE, alaw_file
from test_web_call import PASSWORD, Demo, chromium, demo, open_page  # noqa: F401
from test_webrtc_monitor import NOT_HEARD
from web import end_sipp, require_browser, shoot

from conftest import require_peer

pytestmark = pytest.mark.e2e

CALLER = "5550188"
CALLER_TONE, ALICE_TONE, BOB_TONE = 700, 1000, 1600
PHONE_LIFE = 600  # seconds baresip runs at most (the demo starts before the phones register)
T = TypeVar("T")


@pytest.fixture(autouse=True)
def _peers() -> None:
    require_browser()
    require_sipp()
    require_baresip()
    require_tap()
    require_peer("sipp pcaps", AUDIO_PCAP is not None and dtmf_pcap("1") is not None, "sip-tester's pcaps")


class Phones:
    """baresip desk phones run by an event loop of their own, in a thread, beside Playwright's synchronous API."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.stack = AsyncExitStack()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result()

    def start(self, tmp: Path, node: Demo, name: str, tone: int, answermode: str) -> BaresipPhone:
        voice = write_tone(tmp / f"{name}-voice.wav", tone, PHONE_LIFE)
        assert node.sip_port is not None
        phone = self.run(
            self.stack.enter_async_context(
                baresip_phone(
                    tmp, username=name, password=PASSWORD, registrar=(LOOPBACK, node.sip_port), play=voice,
                    answermode=answermode, limit=PHONE_LIFE,
                )
            )
        )  # fmt: skip
        self.run(phone.wait_registered())
        return phone

    def close(self) -> None:
        try:
            self.run(self.stack.aclose())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join()
            self.loop.close()


@contextmanager
def desk_phones() -> Iterator[Phones]:
    phones = Phones()
    try:
        yield phones
    finally:
        phones.close()


def line_state(center: Demo, worker_sid: str, state: str, timeout: float = 10.0) -> dict[str, Any]:
    """The worker's phone line once it is in `state`, or as it is after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        line = center.admin.get(center.ws(f"/workers/{worker_sid}/phone")).json()
        if line["state"] == state or time.monotonic() > deadline:
            return line
        time.sleep(0.1)


def heard_by_caller(tap: RtpTap, seconds: float = 1.5) -> Any:
    """What the caller hears over the next `seconds`."""
    start = time.monotonic()
    time.sleep(seconds)
    return tap.audio(start, time.monotonic())


def test_an_agent_on_a_desk_phone_holds_and_transfers_from_the_page(
    tmp_path: Path,
    demo: Demo,  # noqa: F811
    chromium: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    demo.quiet(webrtc=())
    alice_sid, bob_sid = demo.worker("alice")["sid"], demo.worker("bob")["sid"]
    assert "phone" not in demo.worker("alice")["attributes"]  # calls ring her desk phone
    with desk_phones() as phones:
        alice_phone = phones.start(tmp_path, demo, "alice", ALICE_TONE, "manual")
        bob_phone = phones.start(tmp_path, demo, "bob", BOB_TONE, "auto")

        alice = open_page(chromium, demo, "alice", PASSWORD)
        panel = alice.get_by_test_id("softphone")
        line = alice.get_by_test_id("line-state")
        expect(panel).to_have_attribute("data-mode", "sip")
        expect(line).to_have_attribute("data-state", "idle", timeout=10_000)
        expect(alice.get_by_test_id("dialer")).to_have_count(0)  # a desk phone dials on the phone
        alice.get_by_test_id("go-ready").click()
        expect(alice.get_by_test_id("my-state")).to_have_text("Available")

        voice = alaw_file(write_tone(tmp_path / "caller.wav", CALLER_TONE, 2), tmp_path / "caller-voice.al")
        assert voice.parent == tmp_path  # rtp_stream reads it from SIPp's working folder
        caller_media = free_media_port()
        tap = RtpTap(caller_media).start()
        caller = subprocess.Popen(
            ["sipp", f"{LOOPBACK}:{demo.sip_port}", "-sf", str(SCENARIOS / "caller_stream_uac.xml"),
             "-s", ANYTIME_LINE, "-key", "caller", CALLER, "-key", "dtmf", str(dtmf_pcap("1")),
             "-i", LOOPBACK, "-mi", LOOPBACK, "-p", "0", "-mp", str(caller_media), "-m", "1",
             "-timeout", "180s", "-timeout_error", "-nostdin"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            # The offer, ringing the desk phone: the page says where to answer and has no answer button.
            offer = alice.get_by_test_id("offer")
            expect(offer).to_have_attribute("data-status", "pending", timeout=60_000)
            expect(line).to_have_attribute("data-state", "ringing", timeout=10_000)
            expect(alice.get_by_test_id("desk-ringing")).to_have_text("Ringing on your desk phone: answer it there.")
            expect(alice.get_by_test_id("phone-caller")).to_contain_text(CALLER)
            expect(offer.get_by_test_id("pop-number")).to_contain_text(CALLER)
            for absent in ("phone-answer", "phone-reject", "phone-hangup"):
                expect(alice.get_by_test_id(absent)).to_have_count(0)
            # The offer card has no Accept either (it would take the task without the call), and says so.
            expect(offer).to_have_attribute("data-desk-call", "true")
            expect(offer.get_by_test_id("accept")).to_have_count(0)
            expect(offer.get_by_test_id("answer-on-desk")).to_have_text("Answer it on your desk phone")
            expect(offer.get_by_test_id("reject")).to_be_visible()
            phones.run(alice_phone.wait_log(r"[Ii]ncoming call"))
            alice.keyboard.press("Alt+a")  # answering is the phone's: the page asks nothing
            shoot(alice, "agent-desk-phone-ringing")
            expect(line).to_have_attribute("data-state", "ringing")
            expect(offer).to_have_attribute("data-status", "pending")
            expect(alice.get_by_test_id("error")).to_have_count(0)

            phones.run(alice_phone.command("accept"))
            expect(line).to_have_attribute("data-state", "talking", timeout=15_000)
            expect(offer).to_have_attribute("data-status", "accepted", timeout=10_000)
            expect(alice.get_by_test_id("desk-note")).to_have_text(
                "On your desk phone: the server holds, transfers and hangs up for it."
            )
            for shown in ("phone-hangup", "phone-hold", "phone-keypad", "phone-transfer"):
                expect(alice.get_by_test_id(shown)).to_be_enabled()
            for absent in ("phone-answer", "phone-reject", "phone-mute", "desk-ringing"):
                expect(alice.get_by_test_id(absent)).to_have_count(0)
            time.sleep(0.5)
            talking = heard_by_caller(tap)
            assert tone_share(talking, ALICE_TONE) > 0.5, "the caller hears alice's phone"
            alice.keyboard.press("Alt+m")  # muting is the phone's too
            expect(alice.get_by_test_id("muted")).to_have_count(0)
            shoot(alice, "agent-desk-phone")

            # Hold from the page: the server holds the caller (music), the phone takes no part.
            phone_url = demo.ws(f"/workers/{alice_sid}/phone")
            alice.get_by_test_id("phone-hold").click()
            expect(alice.get_by_test_id("held")).to_be_visible(timeout=5_000)
            expect(alice.get_by_test_id("phone-hold")).to_have_attribute("aria-pressed", "true")
            state = demo.admin.get(phone_url).json()
            assert (state["device"], state["state"], state["held"]) == ("sip", "talking", True), state
            time.sleep(0.3)
            on_hold = heard_by_caller(tap)
            assert rms(on_hold) > SILENCE_RMS, "the caller hears music on hold"
            assert tone_share(on_hold, ALICE_TONE) < NOT_HEARD, "and not alice"
            shoot(alice, "agent-desk-phone-held")
            alice.keyboard.press("Alt+h")
            expect(alice.get_by_test_id("held")).to_have_count(0, timeout=5_000)
            assert demo.admin.get(phone_url).json()["held"] is False
            time.sleep(0.3)
            assert tone_share(heard_by_caller(tap), ALICE_TONE) > 0.5, "alice again"

            alice.keyboard.press("Alt+k")
            expect(alice.get_by_test_id("keypad")).to_be_visible()
            alice.keyboard.press("Alt+k")
            expect(alice.get_by_test_id("keypad")).to_have_count(0)

            # A blind transfer to bob from the dialog Alt+B opens; bob's phone answers by itself.
            demo.admin.patch(demo.ws(f"/workers/{bob_sid}"), json={"activity_sid": demo.activity("Available")})
            alice.keyboard.press("Alt+b")
            dialog = alice.get_by_test_id("transfer-dialog")
            expect(dialog).to_be_visible()
            dialog.get_by_test_id("transfer-target").fill("bob")
            shoot(alice, "agent-desk-phone-transfer")
            dialog.get_by_test_id("transfer-go").click()
            expect(dialog).to_be_hidden(timeout=30_000)
            expect(line).to_have_attribute("data-state", "idle", timeout=15_000)
            expect(alice.get_by_test_id("wrapup")).to_be_visible(timeout=10_000)
            expect(alice.get_by_test_id("phone-hold")).to_have_count(0)
            phones.run(bob_phone.wait_log(r"[Cc]all established", timeout=30))
            # The phone logs the call established when our ACK comes; the node then accepts bob's reservation in
            # the engine and the store before it shows the call on his line, so that can come a moment later.
            with_bob = line_state(demo, bob_sid, "talking")
            assert (with_bob["device"], with_bob["state"]) == ("sip", "talking"), with_bob
            assert with_bob["call"]["caller"] == CALLER, with_bob
            time.sleep(0.5)
            assert tone_share(heard_by_caller(tap), BOB_TONE) > 0.5, "the caller hears bob"
            shoot(alice, "agent-desk-phone-wrapup")

            phones.run(bob_phone.command("hangup"))
            output, _ = caller.communicate(timeout=60)
            assert caller.returncode == 0, output
        finally:
            end_sipp(caller)
            tap.close()
    assert alice.errors == []

    deadline = time.monotonic() + 30
    while True:
        calls = demo.admin.get(demo.ws("/calls"), params={"outcome": "completed"}).json()["items"]
        mine = [c for c in calls if c["caller"] == CALLER]
        if mine or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    [call] = mine
    assert call["worker_sid"] == bob_sid, call
    [moved] = call["attributes"]["transfers"]
    assert (moved["from_worker_sid"], moved["to"]) == (alice_sid, "bob"), moved
    assert call["hold_seconds"] > 0.5, call
