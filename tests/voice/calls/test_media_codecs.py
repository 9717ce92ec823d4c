"""A leg's codec: G.722 when the phone offers it first or answers with it, G.711 first in our own offers, and a
message taken from a G.722 caller decoded to speech."""

from __future__ import annotations

import math
from array import array

from callboard.voice.calls.media import LegMedia, MediaSettings
from callboard.voice.calls.message_take import MessageTake
from callboard.voice.media.clock import VirtualMediaClock
from callboard.voice.media.codecs import G722, codec
from callboard.voice.media.ports import RtpPortPool
from callboard.voice.media.rtp import RtpPacket
from callboard.voice.media.sdp import SessionDescription

PHONE_OFFER = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 9 8 0 101\r\na=rtpmap:9 G722/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n"
)
G722_ANSWER = (
    "v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40002 RTP/AVP 9 101\r\na=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
)


def settings() -> MediaSettings:
    return MediaSettings(RtpPortPool(24300, 24400, host="127.0.0.1"), VirtualMediaClock(), "127.0.0.1")


class Listener:
    def rtp_received(self, packet: object) -> None: ...
    def dtmf_received(self, digit: object) -> None: ...
    def rtcp_received(self, packet: object) -> None: ...
    def rtp_timeout(self, cause: object) -> None: ...


async def test_a_phone_offering_g722_first_gets_g722() -> None:
    media = LegMedia(settings(), Listener())
    try:
        answer = SessionDescription.parse(await media.answer(PHONE_OFFER.encode()))
        assert answer.media[0].formats == ["9", "101"]
        assert media.session is not None and media.session.payload_type == G722
        assert (media.session.config.clock_rate, media.session.config.samples_per_frame) == (8000, 160)
    finally:
        await media.close()


async def test_our_offer_puts_g711_first_and_takes_a_g722_answer() -> None:
    media = LegMedia(settings(), Listener())
    try:
        offer = SessionDescription.parse(await media.offer())
        assert offer.media[0].formats == ["0", "8", "9", "101"]
        audio = media.accept(G722_ANSWER.encode())
        assert (audio.codec.name, audio.payload_type) == ("G722", 9)
        assert media.session is not None and media.session.payload_type == G722
    finally:
        await media.close()


async def test_a_message_from_a_g722_caller_is_decoded() -> None:
    take = MessageTake(0.5, G722)
    encode = codec(G722).encoder()
    pcm = array("h", (round(8000 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(4000))).tobytes()
    for n in range(25):
        take.feed(RtpPacket(G722, n, 160 * n, 1, encode(pcm[320 * n : 320 * (n + 1)])))
    assert take.done.done() and take.seconds == 0.5
    heard = array("h", bytes(take.pcm))[800:]
    assert math.sqrt(sum(s * s for s in heard) / len(heard)) > 5000
