"""RFC 3264 offer/answer for audio: codec choice in the offerer's order, directions and hold, rejection."""

from __future__ import annotations

from sdp_bodies import ASTERISK, BARESIP, CHROME_WEBRTC, LEGACY_HOLD, SIPP_UAC

from callboard.voice.media.offer_answer import (
    G722,
    PCMA,
    PCMU,
    TELEPHONE_EVENT_8000,
    Answer,
    accept_answer,
    create_answer,
    create_offer,
    format_event_list,
    parse_event_list,
)
from callboard.voice.media.sdp import Direction, RtpMap, SessionDescription

LOCAL = {"address": "192.0.2.1", "port": 20000, "session_id": "42"}


def answer(body: str, **kwargs: object) -> Answer:
    result = create_answer(SessionDescription.parse(body), **LOCAL, **kwargs)  # type: ignore[arg-type]
    assert SessionDescription.parse(bytes(result.sdp)) == result.sdp
    return result


def test_sipp_pcmu_only() -> None:
    result = answer(SIPP_UAC)
    (audio,) = result.sdp.media
    assert (audio.port, audio.formats, audio.direction) == (20000, ["0"], Direction.SENDRECV)
    assert result.audio is not None
    assert (result.audio.codec, result.audio.payload_type, result.audio.telephone_event) == (PCMU, 0, None)
    assert (result.audio.remote_address, result.audio.remote_port, result.audio.remote_rtcp_port) == (
        "192.0.2.10",
        6000,
        6001,
    )
    assert str(result.sdp.connection) == "IN IP4 192.0.2.1"
    assert result.sdp.origin.session_id == "42"


def test_first_common_codec_in_the_offerers_order() -> None:
    result = answer(BARESIP)  # offers G722, PCMA, PCMU: the phone's first choice wins over ours (PCMU first)
    (audio,) = result.sdp.media
    assert audio.formats == ["9", "101"]
    assert audio.rtpmaps[9] == RtpMap(9, "G722", 8000)  # RFC 3551 §4.5.2: 8000 although it samples at 16 kHz
    assert audio.rtpmaps[101] == RtpMap(101, "telephone-event", 8000)
    assert audio.fmtps == {"101": "0-15"}  # the offer's 0-15 intersected with our 0-16
    assert result.audio is not None and result.audio.codec == G722 and result.audio.telephone_event == 101
    assert (result.audio.payload_type, result.audio.codec.clock_rate) == (9, 8000)
    assert answer(ASTERISK).sdp.media[0].fmtps == {"101": "0-16"}
    assert answer(BARESIP, codecs=(PCMU, PCMA, TELEPHONE_EVENT_8000)).sdp.media[0].formats == ["8", "101"]
    assert answer(BARESIP, codecs=(PCMU, TELEPHONE_EVENT_8000)).sdp.media[0].formats == ["0", "101"]


def test_g722_by_its_static_payload_type_without_rtpmap() -> None:
    body = SIPP_UAC.replace("RTP/AVP 0", "RTP/AVP 9 0").replace("a=rtpmap:0 PCMU/8000\r\n", "")
    result = answer(body)
    assert result.audio is not None and result.audio.codec == G722 and result.sdp.media[0].formats == ["9"]


def test_dynamic_payload_type_of_the_offer_is_kept() -> None:
    body = SIPP_UAC.replace("RTP/AVP 0", "RTP/AVP 0 96") + "a=rtpmap:96 telephone-event/8000\r\n"
    result = answer(body)
    assert result.sdp.media[0].formats == ["0", "96"]
    assert result.sdp.media[0].fmtps == {"96": "0-15"}  # no fmtp in the offer means 0-15 (RFC 4733 §2.4.1)
    assert result.audio is not None and result.audio.telephone_event == 96


def test_telephone_event_at_another_clock_rate_is_not_used() -> None:
    body = SIPP_UAC.replace("RTP/AVP 0", "RTP/AVP 0 110") + "a=rtpmap:110 telephone-event/48000\r\n"
    assert answer(body).sdp.media[0].formats == ["0"]


def test_answer_directions() -> None:
    cases = {
        "sendrecv": Direction.SENDRECV,
        "sendonly": Direction.RECVONLY,  # the offerer holds us: we only listen
        "recvonly": Direction.SENDONLY,
        "inactive": Direction.INACTIVE,
    }
    for offered, expected in cases.items():
        result = answer(SIPP_UAC + f"a={offered}\r\n")
        assert result.sdp.media[0].direction is expected, offered
        assert result.audio is not None and result.audio.direction is expected


def test_session_level_hold_and_local_direction() -> None:
    session_hold = SIPP_UAC.replace("t=0 0\r\n", "t=0 0\r\na=sendonly\r\n")
    assert answer(session_hold).sdp.media[0].direction is Direction.RECVONLY
    assert answer(SIPP_UAC, direction=Direction.SENDONLY).sdp.media[0].direction is Direction.SENDONLY  # music on hold
    assert answer(session_hold, direction=Direction.SENDONLY).sdp.media[0].direction is Direction.INACTIVE


def test_legacy_hold_with_zero_connection_address() -> None:
    result = answer(LEGACY_HOLD)
    assert result.sdp.media[0].direction is Direction.RECVONLY  # never send to 0.0.0.0
    assert result.sdp.media[0].formats == ["0", "101"]


def test_no_common_codec_rejects_the_stream_with_port_zero() -> None:
    body = SIPP_UAC.replace("RTP/AVP 0", "RTP/AVP 18").replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:18 G729/8000")
    result = answer(body)
    (audio,) = result.sdp.media
    assert (audio.port, audio.protocol, audio.formats) == (0, "RTP/AVP", ["18"])
    assert result.audio is None


def test_webrtc_offer_is_rejected_by_the_plain_rtp_answerer() -> None:
    result = answer(CHROME_WEBRTC)
    (audio,) = result.sdp.media
    assert (audio.port, audio.protocol) == (0, "UDP/TLS/RTP/SAVPF")
    assert audio.formats == ["111", "63", "9", "0", "8", "13", "110", "126"]
    assert result.audio is None


def test_every_m_line_is_answered_in_order() -> None:
    body = ASTERISK + "m=video 14564 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n" + "m=audio 14566 RTP/AVP 0\r\n"
    result = answer(body)
    assert [(m.media, m.port) for m in result.sdp.media] == [("audio", 20000), ("video", 0), ("audio", 0)]
    assert result.audio is not None and result.audio.remote_port == 14562


def test_offer_answer_between_two_callboards_and_hold() -> None:
    offer = create_offer(address="192.0.2.1", port=20000, session_id="1")
    assert offer.media[0].formats == ["0", "8", "9", "101"]  # G.711 first: no transcoding for the common case
    assert offer.media[0].rtpmaps[9] == RtpMap(9, "G722", 8000)
    assert offer.media[0].fmtps == {"101": "0-16"} and offer.media[0].ptime == 20
    wire_offer = SessionDescription.parse(bytes(offer))
    reply = create_answer(wire_offer, address="198.51.100.2", port=30000, session_id="2", codecs=(PCMA, PCMU))
    negotiated = accept_answer(offer, SessionDescription.parse(bytes(reply.sdp)))
    assert negotiated is not None
    assert (negotiated.payload_type, negotiated.codec.name, negotiated.telephone_event) == (0, "PCMU", None)
    assert (negotiated.remote_address, negotiated.remote_port, negotiated.direction) == (
        "198.51.100.2",
        30000,
        Direction.SENDRECV,
    )

    hold = create_offer(
        address="192.0.2.1", port=20000, session_id="1", session_version=1, direction=Direction.SENDONLY
    )
    held = create_answer(SessionDescription.parse(bytes(hold)), address="198.51.100.2", port=30000, session_id="2")
    assert held.sdp.media[0].direction is Direction.RECVONLY
    on_hold = accept_answer(hold, held.sdp)
    assert on_hold is not None and on_hold.direction is Direction.SENDONLY


def test_accept_answer_that_rejected_the_audio() -> None:
    offer = create_offer(address="192.0.2.1", port=20000, session_id="1", codecs=(PCMU,))
    rejected = create_answer(offer, address="198.51.100.2", port=30000, session_id="2", codecs=(PCMA,))
    assert rejected.sdp.media[0].port == 0
    assert accept_answer(offer, rejected.sdp) is None


def test_event_lists() -> None:
    assert parse_event_list("0-15,66,70-71") == {*range(16), 66, 70, 71}
    assert parse_event_list("x,3") == {3}
    assert format_event_list({*range(17)}) == "0-16"
    assert format_event_list({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8"
