"""Requests and responses: round trips, framing on datagrams and streams, folding, limits, §8.2 responses."""

from __future__ import annotations

import pytest

from callboard.voice.sip.headers import Headers
from callboard.voice.sip.message import (
    Limits,
    Request,
    Response,
    SipParseError,
    bad_request,
    parse_message,
    split_stream,
)
from callboard.voice.sip.reasons import reason_phrase
from callboard.voice.sip.uri import SipUri

INVITE_HEADERS = [
    ("Via", "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds"),
    ("Via", "SIP/2.0/UDP bigbox3.site3.atlanta.example.com;branch=z9hG4bK77ef4c2312983.1;received=192.0.2.1"),
    ("Max-Forwards", "70"),
    ("To", "Bob <sip:bob@biloxi.example.com>"),
    ("From", "Alice <sip:alice@atlanta.example.com>;tag=1928301774"),
    ("Call-ID", "a84b4c76e66710@pc33.atlanta.example.com"),
    ("CSeq", "314159 INVITE"),
    ("Contact", "<sip:alice@pc33.atlanta.example.com>"),
    ("Timestamp", "54"),
    ("Content-Type", "application/sdp"),
]


def invite(body: bytes = b"v=0\r\n") -> Request:
    return Request("INVITE", SipUri("biloxi.example.com", "bob"), Headers(INVITE_HEADERS), body)


def test_request_round_trip_and_content_length_written() -> None:
    request = invite()
    data = bytes(request)
    assert data.startswith(b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33")
    assert data.endswith(b"Content-Length: 5\r\n\r\nv=0\r\n")
    parsed = Request.parse(data)
    request.headers.add("Content-Length", "5")
    assert parsed == request
    assert bytes(parsed) == data


def test_content_length_is_corrected_in_place_and_kept_when_right() -> None:
    request = invite(b"")
    request.headers.add("l", "00")
    assert b"\r\nContent-Length: 00\r\n" in bytes(request)
    request.body = b"abc"
    assert b"\r\nContent-Length: 3\r\n" in bytes(request)


def test_response_round_trip() -> None:
    response = Response.for_request(invite(), 180, to_tag="a6c85cf")
    assert (response.status_code, response.reason) == (180, "Ringing")
    expected = Response(180, "Ringing", response.headers.copy())
    expected.headers.add("Content-Length", "0")
    assert Response.parse(bytes(response)) == expected
    assert bytes(response).startswith(b"SIP/2.0 180 Ringing\r\n")


def test_for_request_copies_the_dialog_headers_and_tags_to() -> None:
    response = Response.for_request(invite(), 200, to_tag="a6c85cf")
    assert [h.name for h in response.headers] == ["Via", "Via", "From", "To", "Call-ID", "CSeq"]
    assert response.headers.get("To") == "Bob <sip:bob@biloxi.example.com>;tag=a6c85cf"
    retagged = Response.for_request(
        Request.parse(bytes(Response.for_request(invite(), 200, to_tag="x").headers and invite())), 487
    )
    assert retagged.headers.get("To") == "Bob <sip:bob@biloxi.example.com>"
    tagged = invite()
    tagged.headers.set("To", "<sip:bob@biloxi.example.com>;tag=old")
    assert Response.for_request(tagged, 200, to_tag="new").headers.get("To") == "<sip:bob@biloxi.example.com>;tag=old"
    trying = Response.for_request(invite(), 100)
    assert trying.headers.get("Timestamp") == "54"  # RFC 3261 §8.2.6.1


def test_reason_phrases() -> None:
    assert (reason_phrase(200), reason_phrase(486), reason_phrase(513), reason_phrase(299)) == (
        "OK",
        "Busy Here",
        "Message Too Large",
        "Unknown",
    )


def test_datagram_without_content_length_takes_the_rest() -> None:
    data = bytes(invite()).replace(b"Content-Length: 5\r\n", b"")
    assert parse_message(data).body == b"v=0\r\n"
    with pytest.raises(SipParseError, match="missing on a stream"):
        parse_message(data, stream=True)


def test_bare_lf_and_leading_crlf_are_tolerated() -> None:
    data = bytes(invite(b""))
    request = Request.parse(b"\r\n\r\n" + data.replace(b"\r\n", b"\n"))
    assert request == Request.parse(data)


def test_folding_joins_continuation_lines() -> None:
    data = bytes(invite()).replace(b"Subject", b"X").replace(b"Timestamp: 54\r\n", b"Subject: a\r\n\t b\r\n  c\r\n")
    assert Request.parse(data).headers.get("s") == "a b c"
    with pytest.raises(SipParseError, match="continuation line"):
        parse_message(b"OPTIONS sip:a@b SIP/2.0\r\n folded\r\n\r\n")


def test_error_message_names_field_and_offset() -> None:
    data = bytes(invite()).replace(b"branch=z9hG4bK776asdhds", b"branch=z9hG4bK776asdhds;;")
    with pytest.raises(SipParseError) as caught:
        parse_message(data)
    error = caught.value
    assert error.field == "Via" and error.error_id == "sip_parse_error"
    assert str(error) == f"Via: empty parameter at offset {error.offset}"
    assert data[error.offset - 1 : error.offset + 1] == b";;"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"", "message"),
        (b"\r\n\r\n", "message"),
        (b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n", "message"),
        (b"OPTIONS sip:a@b SIP/2.0\r\nNoColon\r\n\r\n", "line"),
        (b"OPTIONS sip:a@b SIP/2.0\r\nBad Name: x\r\n\r\n", "line"),
        (b"OPTIONS sip:a@b SIP/2.0\r\nX: a\rb\r\n\r\n", "line"),
        (b"OPTIONS sip:a@b SIP/2.0\r\nX: \xff\r\n\r\n", "line"),
        (b"OPTIONS sip:a@b HTTP/1.1\r\n\r\n", "Request-Line"),
        (b"OPT@ONS sip:a@b SIP/2.0\r\n\r\n", "Method"),
        (b"SIP/2.0 099 Low\r\n\r\n", "Status-Code"),
        (b"SIP/2.0 200 O\x01K\r\n\r\n", "Reason-Phrase"),
        (b"SIP/3.0 200 OK\r\n\r\n", "SIP-Version"),
        (b"OPTIONS sip:a@b SIP/2.0\r\n\r\n", "Via"),
    ],
)
def test_malformed_messages(data: bytes, field: str) -> None:
    with pytest.raises(SipParseError) as caught:
        parse_message(data)
    assert caught.value.field == field


def test_limits() -> None:
    data = bytes(invite())
    with pytest.raises(SipParseError) as caught:
        parse_message(data, Limits(max_message_size=100))
    assert (caught.value.field, caught.value.status_code) == ("message", 513)
    with pytest.raises(SipParseError, match="more than 5 header fields"):
        parse_message(data, Limits(max_headers=5))
    with pytest.raises(SipParseError, match="longer than 40 bytes"):
        parse_message(data, Limits(max_line_length=40))
    assert parse_message(data, Limits(len(data), 11, 100)) == parse_message(data)


def test_split_stream_frames_messages_and_skips_keepalives() -> None:
    one, two = bytes(invite()), bytes(Response.for_request(invite(), 100))
    stream = b"\r\n\r\n" + one + b"\r\n" + two + one[:30]
    messages, rest = split_stream(stream)
    assert messages == [one, two] and rest == one[:30]
    for cut in range(len(one)):
        assert split_stream(one[:cut]) == ([], one[:cut])
    assert split_stream(one + b"\r")[0] == [one]


def test_split_stream_errors_close_the_connection() -> None:
    no_length = bytes(invite()).replace(b"Content-Length: 5\r\n", b"")
    with pytest.raises(SipParseError, match="missing on a stream"):
        split_stream(no_length)
    with pytest.raises(SipParseError) as caught:
        split_stream(b"x" * 200, Limits(max_message_size=100))
    assert caught.value.status_code == 513
    huge = bytes(invite()).replace(b"Content-Length: 5", b"Content-Length: 999999")
    with pytest.raises(SipParseError, match="larger than"):
        split_stream(huge)


def test_bad_request_for_a_malformed_invite() -> None:
    data = bytes(invite()).replace(b"CSeq: 314159 INVITE", b"CSeq: 314159x INVITE")
    with pytest.raises(SipParseError) as caught:
        parse_message(data)
    response = bad_request(data, caught.value, to_tag="z")
    assert response is not None
    assert bytes(response).startswith(b"SIP/2.0 400 Bad CSeq\r\nVia: SIP/2.0/UDP pc33")
    assert response.headers.get("CSeq") == "314159x INVITE"


def test_no_response_to_ack_or_responses() -> None:
    ack = bytes(invite()).replace(b"INVITE", b"ACK").replace(b"CSeq: 314159 ACK", b"CSeq: x ACK")
    with pytest.raises(SipParseError) as caught:
        parse_message(ack)
    assert bad_request(ack, caught.value, to_tag="z") is None
