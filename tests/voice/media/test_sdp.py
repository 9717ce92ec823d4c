"""SDP (RFC 8866) parsing and printing: real-world bodies, round trips, line-numbered errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sdp_bodies import ASTERISK, BARESIP, CHROME_WEBRTC, LEGACY_HOLD, SIPP_UAC

from callboard.voice.media.sdp import (
    Connection,
    Direction,
    Origin,
    RtcpAttribute,
    RtpMap,
    SdpParseError,
    SessionDescription,
)


@pytest.mark.parametrize("body", [SIPP_UAC, BARESIP, ASTERISK, CHROME_WEBRTC, LEGACY_HOLD])
def test_round_trip_real_world_bodies(body: str) -> None:
    parsed = SessionDescription.parse(body.encode())
    printed = bytes(parsed)
    assert SessionDescription.parse(printed) == parsed
    assert bytes(SessionDescription.parse(printed)) == printed
    assert sorted(printed.decode().splitlines()) == sorted(body.replace("\r\n", "\n").splitlines())


def test_sipp_body_prints_back_byte_for_byte() -> None:
    assert str(SessionDescription.parse(SIPP_UAC)) == SIPP_UAC


def test_baresip_typed_fields() -> None:
    sdp = SessionDescription.parse(BARESIP)
    assert sdp.origin == Origin("-", "1452345390", 2736263711, "IN", "IP4", "198.51.100.7")
    assert sdp.connection == Connection("198.51.100.7")
    assert sdp.attributes == [("tool", "baresip 3.10.1")]
    (audio,) = sdp.media
    assert (audio.media, audio.port, audio.protocol, audio.formats) == (
        "audio",
        10302,
        "RTP/AVP",
        ["9", "8", "0", "101"],
    )
    assert audio.rtpmaps[101] == RtpMap(101, "telephone-event", 8000)
    assert audio.fmtps == {"101": "0-15"}
    assert (audio.ptime, audio.direction, audio.lines) == (20, Direction.SENDRECV, [("b", "AS:88")])
    assert ("rtcp-rsize", None) in audio.attributes


def test_webrtc_body_typed_fields() -> None:
    sdp = SessionDescription.parse(CHROME_WEBRTC)
    (audio,) = sdp.media
    assert audio.protocol == "UDP/TLS/RTP/SAVPF"
    assert audio.rtcp == RtcpAttribute(9, Connection("0.0.0.0"))
    assert audio.rtpmaps[111] == RtpMap(111, "opus", 48000, 2)
    assert audio.fmtps["111"] == "minptime=10;useinbandfec=1"
    assert ("rtcp-fb", "111 transport-cc") in audio.attributes
    assert ("msid-semantic", " WMS 5c1f3a") in sdp.attributes
    assert sdp.media_connection(audio) == Connection("0.0.0.0")


def test_static_payload_types_without_rtpmap() -> None:
    (audio,) = SessionDescription.parse(LEGACY_HOLD).media
    assert audio.rtpmap(0) == RtpMap(0, "PCMU", 8000)
    assert audio.rtpmap(101) == RtpMap(101, "telephone-event", 8000)
    assert audio.rtpmap(96) is None


def test_direction_at_session_and_media_level() -> None:
    body = SIPP_UAC.replace("t=0 0\r\n", "t=0 0\r\na=sendonly\r\n")
    sdp = SessionDescription.parse(body)
    assert sdp.direction is Direction.SENDONLY
    assert sdp.media_direction(sdp.media[0]) is Direction.SENDONLY
    sdp.media[0].direction = Direction.INACTIVE
    assert sdp.media_direction(sdp.media[0]) is Direction.INACTIVE
    assert SessionDescription.parse(bytes(sdp)) == sdp
    fresh = SessionDescription.parse(SIPP_UAC)
    assert fresh.media_direction(fresh.media[0]) is Direction.SENDRECV
    assert SessionDescription.parse(ASTERISK).media[0].maxptime == 150


def test_lf_only_and_blank_lines_are_tolerated() -> None:
    assert SessionDescription.parse(SIPP_UAC.replace("\r\n", "\n") + "\n\n") == SessionDescription.parse(SIPP_UAC)


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("", 0, "empty"),
        ("o=- 1 1 IN IP4 192.0.2.1\r\n", 1, "first line"),
        ("v=1\r\n", 1, "v=0"),
        ("v=0\r\nhello\r\n", 2, "<type>=<value>"),
        ("v=0\r\no=- 1 IN IP4 x\r\n", 2, "o= needs"),
        ("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=now 0\r\n", 4, "t= needs"),
        ("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nc=IN IP4\r\n", 4, "c= needs"),
        ("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nm=audio 70000 RTP/AVP 0\r\n", 4, "port"),
        ("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nm=audio 5004 RTP/AVP 0 300\r\n", 4, "payload types"),
        ("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nm=audio 5004\r\n", 4, "m= needs"),
        ("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nm=audio 5004 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n", 5, "rtpmap"),
        ("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nm=audio 5004 RTP/AVP 0\r\na=rtpmap:0 PCMU/fast\r\n", 5, "rtpmap"),
        ("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nm=audio 5004 RTP/AVP 0\r\na=ptime:twenty\r\n", 5, "ptime"),
        ("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nm=audio 5004 RTP/AVP 0\r\na=rtcp:x\r\n", 5, "rtcp"),
        ("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nm=audio 5004 RTP/AVP 0\r\na=:x\r\n", 5, "attribute name"),
        ("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nm=audio 5004 RTP/AVP 0\r\nt=0 0\r\n", 5, "media-level"),
        ("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nx=1\r\n", 4, "session-level"),
        ("v=0\r\ns=-\r\n", 0, "missing o="),
    ],
)
def test_malformed_bodies_name_the_line(body: str, line: int, message: str) -> None:
    with pytest.raises(SdpParseError, match=message) as caught:
        SessionDescription.parse(body)
    assert caught.value.line == line


def test_non_utf8_body() -> None:
    with pytest.raises(SdpParseError, match="UTF-8"):
        SessionDescription.parse(b"v=0\r\ns=\xff\r\n")


@given(st.text(alphabet="vosctmab=0123456789 :/\r\nPCMUIN", max_size=120))
@settings(max_examples=400, deadline=None)
def test_random_text_parses_or_raises_sdp_parse_error(text: str) -> None:
    try:
        sdp = SessionDescription.parse(text)
    except SdpParseError:
        return
    assert SessionDescription.parse(bytes(sdp)) == sdp
