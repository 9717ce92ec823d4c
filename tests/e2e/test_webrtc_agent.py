"""The agent's softphone in the page, with an aiortc peer connection as the browser: a SIPp caller picks support,
waits in the queue, and the offer rings the agent's browser line (the worker's `phone` attribute is `webrtc`).
The page opens its line, sees the call ringing, answers over the API, each side hears the other (the recording's
two channels), and hangs up over the API; an agent who rejects leaves the call to the next agent's desk phone."""

from __future__ import annotations

import asyncio
import fractions
import math
import socket
from array import array
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from audio import SILENCE_RMS, rms, tone_share
from av import AudioFrame, AudioResampler
from call_center import AUDIO_PCAP, CallCenter, call_center, dtmf_pcap, finish, stereo_channels
from sipp import LOOPBACK, require_sipp

from callboard.api.app import create_api
from callboard.api.auth import digest
from conftest import require_peer

pytestmark = pytest.mark.e2e

AGENT_TONE = 1000.0


@pytest.fixture(autouse=True)
def _peers() -> None:
    require_sipp()
    require_peer("sipp pcaps", AUDIO_PCAP is not None and dtmf_pcap("2") is not None, "sip-tester's pcaps")


class ToneTrack(MediaStreamTrack):
    """The agent's microphone: a sine (1 kHz unless told) at 48 kHz in 20 ms frames, as a browser captures it."""

    kind = "audio"

    def __init__(self, frequency: float = AGENT_TONE) -> None:
        super().__init__()
        self.frequency, self.sent = frequency, 0

    async def recv(self) -> AudioFrame:
        await asyncio.sleep(0.02)
        samples = array(
            "h", (round(12000 * math.sin(2 * math.pi * self.frequency * (self.sent + i) / 48000)) for i in range(960))
        )
        frame = AudioFrame(format="s16", layout="mono", samples=960)
        frame.planes[0].update(samples.tobytes())
        frame.sample_rate, frame.pts, frame.time_base = 48000, self.sent, fractions.Fraction(1, 48000)
        self.sent += 960
        return frame


class LineClient:
    """What an agent's page asks of its worker's phone (`url`, .../workers/{sid}/phone) through the API."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client, self.url = client, url

    async def line(self) -> dict[str, Any]:
        response = await self.client.get(self.url)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def wait_state(self, state: str) -> dict[str, Any]:
        """Polls the line (as a page would on the stream's reservation events) until it is in `state`."""
        for _ in range(300):
            line = await self.line()
            if line["state"] == state:
                return line
            await asyncio.sleep(0.05)
        raise AssertionError(f"the line is {line['state']}, not {state}")

    async def do(self, action: str, **body: Any) -> httpx.Response:
        return await self.client.post(f"{self.url}/{action}", json=body or None)


class Page(LineClient):
    """The agent's page: its API client and its line's peer connection (which keeps what it hears)."""

    def __init__(self, client: httpx.AsyncClient, phone_url: str, tone: float = AGENT_TONE) -> None:
        super().__init__(client, phone_url)
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.transceiver = self.pc.addTransceiver(ToneTrack(tone), direction="sendrecv")
        self.heard = array("h")
        self._listening: asyncio.Task[None] | None = None

    async def open_line(self) -> dict[str, Any]:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        response = await self.client.post(self.url, json={"type": "offer", "sdp": self.pc.localDescription.sdp})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        await self.pc.setRemoteDescription(RTCSessionDescription(body["sdp"], body["type"]))
        self._listening = asyncio.get_running_loop().create_task(self._listen(self.transceiver.receiver.track))
        return body

    async def _listen(self, track: MediaStreamTrack) -> None:
        resampler = AudioResampler(format="s16", layout="mono", rate=8000)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            for out in resampler.resample(frame):
                self.heard.frombytes(bytes(out.planes[0])[: out.samples * 2])

    async def close(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with suppress(asyncio.CancelledError):
                await self._listening
        await self.pc.close()


@asynccontextmanager
async def agent_page(cc: CallCenter, username: str) -> AsyncIterator[Page]:
    """The agent's page, signed in with an API token, against the API of the node under test."""
    app = create_api(cc.center, recordings_dir=cc.recordings)
    app.state.phone = cc.node.b2bua.lines
    user = await cc.store.get_user_by_name(username)
    assert user is not None
    token = f"token-{username}"
    await cc.store.create_api_token(user["id"], "page", digest(token))
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://callboard.test", headers=headers) as client:
        url = f"/api/v1/workspaces/{cc.workspace.sid}/workers/{cc.agents[username].worker_sid}/phone"
        page = Page(client, url)
        try:
            yield page
        finally:
            await page.close()


def _free_sip_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


async def test_agent_answers_in_the_page_both_hear_each_other_and_hangs_up(tmp_path: Path) -> None:
    agents: dict[str, Any] = {"alice": {"skills": ["support"], "phone": "webrtc"}}
    async with call_center(tmp_path, agents=agents) as cc, agent_page(cc, "alice") as page:
        opened = await page.open_line()
        assert opened["line"]["state"] == "idle" and opened["line"]["codec"] == "PCMU"
        await cc.available("alice")
        caller = await cc.start_caller(
            "caller_rfc4733_uac.xml", "5550101", dtmf=str(dtmf_pcap("2")), pcap=str(AUDIO_PCAP)
        )
        ringing = await page.wait_state("ringing")
        assert ringing["ringing"]["caller"] == "5550101"
        answered = await page.do("answer")
        assert answered.status_code == 200, answered.text
        await page.wait_state("talking")
        await asyncio.sleep(3)  # talk
        hung_up = await page.do("hangup")
        assert hung_up.status_code == 200 and hung_up.json()["state"] == "idle", hung_up.text
        await finish(caller)
        record = await cc.finished_call("5550101")
    assert (record["outcome"], record["hangup_by"]) == ("completed", "agent"), record
    assert record["worker_sid"] == cc.agents["alice"].worker_sid
    # The agent heard the caller: SIPp's speech went through the bridge and the line to the page.
    assert rms(page.heard) > SILENCE_RMS
    # The recording: the caller's speech on the left, the page's 1 kHz tone on the right.
    left, right = stereo_channels(Path(record["recording_path"]))
    assert rms(left) > SILENCE_RMS and rms(right) > SILENCE_RMS
    assert tone_share(right, AGENT_TONE) > 0.8 and tone_share(left, AGENT_TONE) < 0.2


async def test_agent_who_rejects_in_the_page_leaves_the_call_to_the_next_agent(tmp_path: Path) -> None:
    agents: dict[str, Any] = {"alice": {"skills": ["support"], "phone": "webrtc"}, "bob": ["support"]}
    async with call_center(tmp_path, agents=agents) as cc, agent_page(cc, "alice") as page:
        await page.open_line()
        bob_port = _free_sip_port()
        await cc.register("bob", bob_port)
        await cc.available("alice", "bob")  # alice has been idle longest: her line rings first
        phone = await cc.start_phone("agent_answer_uas.xml", bob_port, pcap=str(AUDIO_PCAP))
        caller = await cc.start_caller(
            "caller_rfc4733_uac.xml", "5550102", dtmf=str(dtmf_pcap("2")), pcap=str(AUDIO_PCAP)
        )
        await page.wait_state("ringing")
        rejected = await page.do("reject")
        assert rejected.status_code == 200, rejected.text
        await finish(caller)
        await finish(phone)
        record = await cc.finished_call("5550102")
        assert (record["outcome"], record["worker_sid"]) == ("completed", cc.agents["bob"].worker_sid)
        logged = [e for _, e in await cc.store.events(cc.workspace.sid) if e.data.get("task_sid") == record["task_sid"]]
        assert [e.data["worker_sid"] for e in logged if e.name == "reservation.rejected"] == [
            cc.agents["alice"].worker_sid
        ]
        assert (await page.line())["state"] == "idle"
        assert (await page.do("answer")).json()["error"]["id"] == "line_not_ringing"


async def test_agent_holds_then_transfers_the_caller_to_the_billing_queue_from_the_page(tmp_path: Path) -> None:
    agents: dict[str, Any] = {"alice": {"skills": ["support"], "phone": "webrtc"}, "bill": ["billing"]}
    async with call_center(tmp_path, agents=agents) as cc, agent_page(cc, "alice") as page:
        await page.open_line()
        bill_port = _free_sip_port()
        await cc.register("bill", bill_port)
        await cc.available("alice", "bill")
        taking = await cc.start_phone("agent_answer_uas.xml", bill_port, pcap=str(AUDIO_PCAP))
        caller = await cc.start_caller(
            "caller_rfc4733_uac.xml", "5550103", dtmf=str(dtmf_pcap("2")), pcap=str(AUDIO_PCAP)
        )
        await page.wait_state("ringing")
        assert (await page.do("answer")).status_code == 200
        await page.wait_state("talking")
        held = await page.do("hold")
        assert held.status_code == 200 and held.json()["held"] is True, held.text
        await asyncio.sleep(1)
        assert (await page.do("resume")).json()["held"] is False
        assert (await page.do("dtmf", digits="1")).status_code == 200
        transferred = await page.do("transfer", target="billing")
        assert transferred.status_code == 200 and transferred.json()["transferred"] is True, transferred.text
        await page.wait_state("idle")
        await finish(caller)
        await finish(taking)
        record = await cc.finished_call("5550103")
    alice, bill = cc.agents["alice"].worker_sid, cc.agents["bill"].worker_sid
    assert (record["outcome"], record["worker_sid"]) == ("completed", bill)
    assert record["attributes"]["transfers"][0] == {**record["attributes"]["transfers"][0], "from_worker_sid": alice}
    assert record["attributes"]["transfers"][0]["to"] == "billing"
    assert record["hold_seconds"] > 0.5
