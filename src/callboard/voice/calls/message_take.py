"""Taking a message: the caller's audio, decoded to 8 kHz linear PCM, until a digit, silence of the line or a limit.

Voicemail needs only what the caller says, so this listens to the leg's incoming RTP rather than a bridge. Packets
are kept in arrival order (a voicemail tolerates the rare reordered packet); a lost packet leaves its 20 ms out.
"""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

from callboard.voice.media.codecs import CODECS, PCMU
from callboard.voice.media.rtp import RtpPacket

__all__ = ["MessageTake", "write_wav"]

SAMPLE_RATE = 8000


class MessageTake:
    """Collects a caller's audio for at most `max_seconds`; `done` resolves when the limit is reached."""

    def __init__(self, max_seconds: float, payload_type: int) -> None:
        self.max_bytes = int(max_seconds * SAMPLE_RATE) * 2
        self.decode = CODECS.get(payload_type, CODECS[PCMU]).decoder()  # G.722's keeps state: this stream's own
        self.payload_type = payload_type
        self.pcm = bytearray()
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 2 / SAMPLE_RATE

    def feed(self, packet: RtpPacket) -> None:
        if self.done.done() or packet.payload_type != self.payload_type:
            return  # telephone-events and comfort noise are not speech
        self.pcm += self.decode(packet.payload)
        if len(self.pcm) >= self.max_bytes:
            del self.pcm[self.max_bytes :]
            self.done.set_result(None)


def write_wav(path: Path, pcm: bytes) -> None:
    """Writes 8 kHz mono 16-bit PCM as a WAV file (run it in a thread: it blocks)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm)
