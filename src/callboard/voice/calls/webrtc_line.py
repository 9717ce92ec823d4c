"""An agent's persistent WebRTC line: one peer connection from their browser, opened when they log in and kept
across calls (as Amazon Connect's persistent connection), so that answering a call costs no negotiation.

The browser offers (non-trickle: its SDP carries every candidate) and the line answers, gathering all of its own
candidates before it does (aiortc). With STUN and TURN servers (`IceServer`, the same the page is given) the
answer also carries the server-reflexive address the STUN server saw (the public address of a server behind a
1:1 NAT) and a relayed address at the TURN server; aiortc uses the first STUN URL and the first TURN URL it
supports, and aioice waits at most 5 seconds for their answers, then answers with the candidates it has.

G.711 is preferred, PCMU then PCMA, so that audio is only G.711 <-> PCM on each side; Opus is accepted when the
browser offers nothing else. An offer for the agent rings the line (`ring`): the page shows it (the reservation
events) and the agent answers or rejects it through the API; the answered call is a `WebRtcLeg` on the line's
audio, which the B2BUA bridges and records as any agent leg.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.rtcrtpparameters import RTCRtpCodecCapability

from callboard.core.errors import InvalidStateError, ValidationError
from callboard.voice.calls.errors import DialError
from callboard.voice.calls.events import HangupCause
from callboard.voice.calls.leg import LegState
from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.webrtc_audio import LineAudio
from callboard.voice.calls.webrtc_leg import WebRtcLeg

__all__ = ["IceServer", "LineState", "Ring", "WebRtcLine", "preferred_codecs"]

logger = logging.getLogger(__name__)

PREFERENCE = ("audio/PCMU", "audio/PCMA", "audio/opus")


class LineState(enum.Enum):
    IDLE = "idle"  # open, no call
    RINGING = "ringing"  # an offer waits for the agent's answer
    CONNECTING = "connecting"  # answered on the page, the caller is being put through
    TALKING = "talking"  # a call is on the line
    CLOSED = "closed"


_TRANSITIONS = {
    LineState.IDLE: {LineState.RINGING, LineState.CONNECTING, LineState.CLOSED},
    LineState.RINGING: {LineState.IDLE, LineState.CONNECTING, LineState.CLOSED},
    LineState.CONNECTING: {LineState.TALKING, LineState.IDLE, LineState.CLOSED},
    LineState.TALKING: {LineState.IDLE, LineState.CLOSED},
    LineState.CLOSED: set(),
}


@dataclass(frozen=True, slots=True)
class Ring:
    """The call ringing a line, as the page shows it."""

    reservation_sid: str
    task_sid: str
    call_sid: str
    caller: str  # the number (or user) calling
    caller_name: str | None = None  # as the caller's phone presents it
    workspace_sid: str | None = None

    def view(self) -> dict[str, Any]:
        return {
            "reservation_sid": self.reservation_sid, "task_sid": self.task_sid, "call_sid": self.call_sid,
            "caller": self.caller, "caller_name": self.caller_name,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class IceServer:
    """A STUN or TURN server of the lines' ICE, as WebRTC's RTCIceServer has it (`stun:`, `turn:`, `turns:` URLs;
    TURN with a user name and a credential)."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None

    def rtc(self) -> RTCIceServer:
        return RTCIceServer(list(self.urls), self.username, self.credential)


def preferred_codecs() -> list[RTCRtpCodecCapability]:
    """aiortc's audio codecs in our order: G.711 first, Opus last."""
    codecs = RTCRtpSender.getCapabilities("audio").codecs
    return sorted((c for c in codecs if c.mimeType in PREFERENCE), key=lambda c: PREFERENCE.index(c.mimeType))


class WebRtcLine:
    """One agent's browser line: its peer connection, its audio, and the call ringing or talking on it."""

    def __init__(self, worker_sid: str, settings: MediaSettings, pc: RTCPeerConnection, audio: LineAudio) -> None:
        self.worker_sid = worker_sid
        self.settings = settings
        self.pc = pc
        self.audio = audio
        self.state = LineState.IDLE
        self.ringing: Ring | None = None
        self.leg: WebRtcLeg | None = None
        self.answered: Ring | None = None  # the call on the line, as it rang
        self._answer: asyncio.Future[bool] | None = None  # True: answered, False: rejected
        self._closed = asyncio.get_running_loop().create_future()

    def __repr__(self) -> str:
        return f"<WebRtcLine {self.worker_sid} {self.state.value}>"

    @classmethod
    async def open(
        cls, worker_sid: str, offer: str, settings: MediaSettings, *, ice_servers: Sequence[IceServer] = ()
    ) -> tuple[WebRtcLine, str]:
        """Answers the browser's offer: the line and the SDP answer, with every candidate in it (those from
        `ice_servers` too). Raises `ValidationError` for an offer with no audio we can use."""
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[server.rtc() for server in ice_servers]))
        audio = LineAudio()
        line = cls(worker_sid, settings, pc, audio)
        transceiver = pc.addTransceiver(audio.track, direction="sendrecv")
        transceiver.setCodecPreferences(preferred_codecs())
        try:
            await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except (ValueError, LookupError) as exc:  # aiortc's errors for an unreadable or unusable offer
            await pc.close()
            message = f"the line's offer cannot be answered: {exc}"
            raise ValidationError(message, error_id="line_offer_refused") from None
        audio.receive(transceiver.receiver.track)

        @pc.on("connectionstatechange")
        async def changed() -> None:
            if pc.connectionState in ("failed", "closed") and line.state is not LineState.CLOSED:
                logger.info("%r: the browser's connection is %s", line, pc.connectionState)
                await line.close()

        return line, pc.localDescription.sdp

    @property
    def codec(self) -> str | None:
        """The codec the browser and the line agreed on (`PCMU`, `PCMA`, `opus`)."""
        for transceiver in self.pc.getTransceivers():
            codecs = transceiver._codecs  # aiortc keeps the negotiated list there, first is used to send
            if codecs:
                return str(codecs[0].mimeType.split("/")[1])
        return None

    def _set_state(self, state: LineState) -> None:
        old = self.state
        if state not in _TRANSITIONS[old]:
            raise InvalidStateError(f"{self!r} cannot go from {old.value} to {state.value}", state=old.value)
        self.state = state
        logger.debug("%r: %s -> %s", self, old.value, state.value)

    # -- ringing

    async def ring(self, ring: Ring, seconds: float) -> WebRtcLeg:
        """Rings the line for up to `seconds`: the answered call's leg; `DialError` when the agent rejects it
        (REJECTED), does not answer (NO_ANSWER), is busy on another call (BUSY) or the line closes."""
        if self.state in (LineState.RINGING, LineState.CONNECTING, LineState.TALKING):
            raise DialError(HangupCause.BUSY)
        if self.state is LineState.CLOSED:
            raise DialError(HangupCause.TRANSPORT_ERROR)
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._answer, self.ringing = answer, ring
        self._set_state(LineState.RINGING)
        try:
            done, _ = await asyncio.wait({answer, self._closed}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # the offer ended (timed out or rescinded by the engine): the ring stops
            self._stop_ringing()
            raise
        closed = not self._is(LineState.RINGING)
        self._stop_ringing()
        if closed:
            raise DialError(HangupCause.TRANSPORT_ERROR)
        if answer not in done:
            raise DialError(HangupCause.NO_ANSWER)
        if not answer.result():
            raise DialError(HangupCause.REJECTED)
        leg = self.leg = WebRtcLeg.connected(self.settings, self.audio)
        self.answered = ring
        self._set_state(LineState.CONNECTING)
        leg.on_bridged = self._bridged
        leg.subscribe(self._leg_event)
        return leg

    def place(self, call: Ring) -> WebRtcLeg:
        """A call the agent places from the page: the line's leg, `connecting` until the called side answers and
        is bridged to it. `InvalidStateError` when the line is not idle."""
        if self.state is not LineState.IDLE:
            raise InvalidStateError(f"{self!r} is busy", error_id="line_busy", state=self.state.value)
        leg = self.leg = WebRtcLeg.connected(self.settings, self.audio)
        self.answered = call
        self._set_state(LineState.CONNECTING)
        leg.on_bridged = self._bridged
        leg.subscribe(self._leg_event)
        return leg

    def _is(self, state: LineState) -> bool:
        return self.state is state

    def _stop_ringing(self) -> None:
        self._answer, self.ringing = None, None
        if self.state is LineState.RINGING:
            self._set_state(LineState.IDLE)

    def _leg_event(self, event: Any) -> None:
        leg = self.leg
        if leg is not None and leg.state is LegState.ENDED:
            self.leg = None
            self.answered = None
            self.audio.muted = False
            if self.state in (LineState.CONNECTING, LineState.TALKING):
                self._set_state(LineState.IDLE)

    def _bridged(self) -> None:
        """The caller is put through: from now on the page steers the call."""
        if self.state is LineState.CONNECTING:
            self._set_state(LineState.TALKING)

    def answer(self) -> Ring:
        """The agent answers the call ringing the line."""
        return self._reply(True)

    def reject(self) -> Ring:
        """The agent rejects the call ringing the line."""
        return self._reply(False)

    def _reply(self, answered: bool) -> Ring:
        answer, ring = self._answer, self.ringing
        if answer is None or ring is None or answer.done():
            message = f"{self!r}: no call is ringing"
            raise InvalidStateError(message, error_id="line_not_ringing", state=self.state.value)
        answer.set_result(answered)
        return ring

    def talking(self, *, connecting: bool = False) -> WebRtcLeg:
        """The call on the line (once put through, or still `connecting`); `InvalidStateError` when there is none."""
        leg = self.leg
        states = (LineState.CONNECTING, LineState.TALKING) if connecting else (LineState.TALKING,)
        if leg is None or leg.state is LegState.ENDED or self.state not in states:
            message = f"{self!r}: no call on the line"
            raise InvalidStateError(message, error_id="line_not_talking", state=self.state.value)
        return leg

    def view(self) -> dict[str, Any]:
        """The line as the page shows it."""
        ring = self.ringing
        leg = self.leg
        consult = leg.consultation if leg is not None else None
        call = ring or self.answered
        return {
            "worker_sid": self.worker_sid,
            "device": "webrtc",
            "state": self.state.value,
            "codec": self.codec,
            "connection": self.pc.connectionState,
            "ringing": None if ring is None else ring.view(),
            "call": None if call is None else call.view(),
            "held": leg is not None and leg.far_end_held,
            "muted": self.audio.muted,
            "consult": None if consult is None or consult.state == "ended" else consult.view(),
        }

    async def close(self) -> None:
        """Hangs up the call on the line and closes the peer connection. Idempotent."""
        if self.state is LineState.CLOSED:
            return
        self._set_state(LineState.CLOSED)
        if not self._closed.done():
            self._closed.set_result(None)
        leg, self.leg = self.leg, None
        if leg is not None:
            leg.hang_up_by_agent()
        await self.audio.close()
        await self.pc.close()
