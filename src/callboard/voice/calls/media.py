"""One leg's media: its RTP session on a pooled port pair, and the SDP it offers and answers (RFC 3264).

A leg negotiates a codec the media plane encodes and decodes (PCMU, PCMA or G.722, `voice/media/codecs.py`, in
the order of `MediaSettings.codecs`) and RFC 4733 telephone-event, and keeps that codec for the rest of the call:
a re-offer that would change it is refused (488) rather than re-opening the session.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from callboard.core.errors import ValidationError
from callboard.voice.media.clock import MediaClock
from callboard.voice.media.codecs import codec_named
from callboard.voice.media.offer_answer import (
    DEFAULT_CODECS,
    TELEPHONE_EVENT,
    Codec,
    NegotiatedAudio,
    accept_answer,
    create_answer,
    create_offer,
)
from callboard.voice.media.playback import Prompt
from callboard.voice.media.ports import PortLease, RtpPortPool
from callboard.voice.media.sdp import Direction, SdpParseError, SessionDescription
from callboard.voice.media.session import RtpSession, RtpSessionConfig, RtpSessionListener

__all__ = ["IncompatibleMediaError", "LegMedia", "MediaSettings"]

FRAME_MS = 20  # the shared media clock's period: players send one 20 ms frame per tick


class IncompatibleMediaError(ValidationError):
    """An offer or answer with no audio stream we can use (no PCMU, PCMA or G.722; unparsable SDP)."""

    error_id = "incompatible_media"


@dataclass(frozen=True, slots=True)
class MediaSettings:
    """What every leg of a node shares: the port pool, the media clock, the address put in SDP, music on hold."""

    pool: RtpPortPool
    clock: MediaClock
    address: str
    codecs: tuple[Codec, ...] = DEFAULT_CODECS
    rtp_timeout: float | None = 30.0
    hold_music: Prompt | None = None


class LegMedia:
    """The RTP session of one leg and its offer/answer state: session id and version, the negotiated stream."""

    def __init__(self, settings: MediaSettings, listener: RtpSessionListener | None) -> None:
        self.settings = settings
        self.listener = listener  # the leg; None once it has ended
        self.session: RtpSession | None = None
        self.audio: NegotiatedAudio | None = None
        self._lease: PortLease | None = None
        self._session_id = str(int.from_bytes(os.urandom(4), "big"))
        self._version = 0
        self._offer: SessionDescription | None = None

    @property
    def port(self) -> int:
        if self._lease is None:
            raise RuntimeError("the leg's media is not open")
        return self._lease.rtp_port

    async def answer(self, offer: bytes) -> bytes:
        """Answers the far end's initial offer: negotiates, opens the session on a pooled port, returns our SDP."""
        remote = _parse(offer)
        self._lease = lease = self.settings.pool.allocate()
        answer = create_answer(
            remote, address=self.settings.address, port=lease.rtp_port, session_id=self._session_id,
            codecs=self._supported(self.settings.codecs),
        )  # fmt: skip
        if answer.audio is None:
            await self.close()
            raise IncompatibleMediaError("no usable audio stream in the offer")
        await self._open(answer.audio)
        return bytes(answer.sdp)

    async def offer(self) -> bytes:
        """Opens the session (codec still unknown) and returns our initial offer."""
        self._lease = self.settings.pool.allocate()
        self._offer = self._make_offer(self._supported(self.settings.codecs), Direction.SENDRECV)
        await self._open(None)
        return bytes(self._offer)

    def accept(self, answer: bytes) -> NegotiatedAudio:
        """Takes the far end's answer to our last offer: sets the codec and where RTP goes."""
        if self._offer is None:
            raise RuntimeError("no offer is pending")
        offer, self._offer = self._offer, None
        audio = accept_answer(offer, _parse(answer))
        if audio is None or codec_named(audio.codec.name) is None:
            raise IncompatibleMediaError("the answer has no usable audio stream")
        if self.audio is not None and audio.payload_type != self.audio.payload_type:
            raise IncompatibleMediaError("the answer changes the codec")
        self._use(audio)
        return audio

    def reoffer(self, direction: Direction) -> bytes:
        """A new offer for the negotiated stream (hold: `sendonly`; resume: `sendrecv`)."""
        if self.audio is None:
            raise RuntimeError("no stream was negotiated yet")
        self._offer = self._make_offer(self._negotiated_codecs(), direction)
        return bytes(self._offer)

    def cancel_offer(self) -> None:
        self._offer = None

    def answer_reoffer(self, offer: bytes) -> bytes | None:
        """Answers a re-INVITE's offer with the codec we already use; None when that cannot be done."""
        if self.audio is None or self._lease is None:
            return None
        try:
            remote = _parse(offer)
        except IncompatibleMediaError:
            return None
        self._version += 1
        answer = create_answer(
            remote, address=self.settings.address, port=self._lease.rtp_port, session_id=self._session_id,
            session_version=self._version, codecs=self._negotiated_codecs(),
        )  # fmt: skip
        if answer.audio is None or answer.audio.payload_type != self.audio.payload_type:
            return None
        self._use(answer.audio)
        return bytes(answer.sdp)

    async def close(self) -> None:
        """Closes the session (RTCP BYE) and gives the ports back. Idempotent."""
        session, self.session = self.session, None
        lease, self._lease = self._lease, None
        if session is not None:
            await session.close()
            session.listener = None  # a closed session reports nothing more; no cycle back to the leg
        elif lease is not None:
            lease.close_sockets()  # never handed to a session
        if lease is not None:
            self.settings.pool.release(lease)

    # -- helpers

    async def _open(self, audio: NegotiatedAudio | None) -> None:
        assert self._lease is not None
        config = RtpSessionConfig(rtp_timeout=self.settings.rtp_timeout)
        self.session = RtpSession(self._config(config, audio) if audio is not None else config, self.listener)
        try:
            await self.session.open(self._lease)
        except BaseException:
            self.session = None
            await self.close()
            raise
        if audio is not None:
            self._use(audio)

    def _use(self, audio: NegotiatedAudio) -> None:
        assert self.session is not None
        old, self.audio = self.audio, audio
        # The config is replaced rather than the session re-opened: an outbound leg learns its codec from the
        # answer, after the session had to be bound for the offer.
        self.session.config = self._config(self.session.config, audio)
        remote = (audio.remote_address, audio.remote_port, audio.remote_rtcp_port)
        if old is None or (old.remote_address, old.remote_port, old.remote_rtcp_port) != remote:
            self.session.set_remote(audio.remote_address or None, audio.remote_port, audio.remote_rtcp_port)

    @staticmethod
    def _config(config: RtpSessionConfig, audio: NegotiatedAudio) -> RtpSessionConfig:
        return replace(
            config, payload_type=audio.payload_type, telephone_event_type=audio.telephone_event,
            clock_rate=audio.codec.clock_rate, samples_per_frame=audio.codec.clock_rate * FRAME_MS // 1000,
        )  # fmt: skip

    def _make_offer(self, codecs: tuple[Codec, ...], direction: Direction) -> SessionDescription:
        self._version += 1
        return create_offer(
            address=self.settings.address, port=self.port, session_id=self._session_id,
            session_version=self._version, codecs=codecs, direction=direction,
        )  # fmt: skip

    def _negotiated_codecs(self) -> tuple[Codec, ...]:
        assert self.audio is not None
        audio = self.audio
        codec = replace(audio.codec, payload_type=audio.payload_type)
        events = [c for c in self.settings.codecs if c.name.lower() == TELEPHONE_EVENT]
        if audio.telephone_event is None or not events:
            return (codec,)
        return codec, replace(events[0], payload_type=audio.telephone_event)

    @staticmethod
    def _supported(codecs: tuple[Codec, ...]) -> tuple[Codec, ...]:
        return tuple(c for c in codecs if codec_named(c.name) is not None or c.name.lower() == TELEPHONE_EVENT)


def _parse(sdp: bytes) -> SessionDescription:
    try:
        return SessionDescription.parse(sdp)
    except SdpParseError as exc:
        raise IncompatibleMediaError(f"unreadable SDP: {exc}") from exc
