"""The header model: names, compact forms, lists, and the typed accessors with their round trips."""

from __future__ import annotations

import gc
from datetime import UTC, datetime

import pytest

from callboard.voice.sip.errors import SipParseError
from callboard.voice.sip.fields import (
    AuthParam,
    Challenge,
    ContentType,
    Credentials,
    CSeq,
    Via,
    format_date,
    parse_date,
)
from callboard.voice.sip.headers import Headers, canonical_name


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("i", "Call-ID"),
        ("M", "Contact"),
        ("e", "Content-Encoding"),
        ("l", "Content-Length"),
        ("c", "Content-Type"),
        ("f", "From"),
        ("s", "Subject"),
        ("k", "Supported"),
        ("t", "To"),
        ("v", "Via"),
        ("o", "Event"),
        ("r", "Refer-To"),
        ("b", "Referred-By"),
        ("x", "Session-Expires"),
        ("u", "Allow-Events"),
        ("call-id", "Call-ID"),
        ("CSEQ", "CSeq"),
        ("www-authenticate", "WWW-Authenticate"),
        ("X-Custom", "X-Custom"),
    ],
)
def test_canonical_names(name: str, canonical: str) -> None:
    assert canonical_name(name) == canonical


def test_lookup_by_any_spelling_keeps_order() -> None:
    headers = Headers([("v", "SIP/2.0/UDP a"), ("To", "<sip:b@b>"), ("VIA", "SIP/2.0/UDP c"), ("X-A", "1")])
    assert [h.name for h in headers] == ["Via", "To", "Via", "X-A"]
    assert headers.get_all("via") == ["SIP/2.0/UDP a", "SIP/2.0/UDP c"]
    assert "x-a" in headers and "X-B" not in headers and headers.get("X-B") is None
    headers.set("via", "SIP/2.0/TCP d")
    assert [(h.name, h.value) for h in headers] == [("Via", "SIP/2.0/TCP d"), ("To", "<sip:b@b>"), ("X-A", "1")]
    headers.remove("x-a")
    assert len(headers) == 2


def test_lists_split_outside_quotes_and_brackets_only() -> None:
    headers = Headers(
        [
            ("Contact", '"Doe, John" <sip:j@h;x=a,b>;q=0.5, <sip:k@h>'),
            ("Allow", "INVITE, ACK ,BYE"),
            ("Authorization", 'Digest username="a,b", realm="r"'),
            ("Date", "Sat, 13 Nov 2010 23:29:00 GMT"),
            ("X-Unknown", "a, b"),
        ]
    )
    assert headers.get_all("Contact") == ['"Doe, John" <sip:j@h;x=a,b>;q=0.5', "<sip:k@h>"]
    assert headers.get_all("Allow") == ["INVITE", "ACK", "BYE"]
    assert len(headers.get_all("Authorization")) == 1
    assert len(headers.get_all("Date")) == 1
    assert headers.get_all("X-Unknown") == ["a, b"]


def test_bad_names_and_values_are_refused() -> None:
    with pytest.raises(ValueError):
        Headers([("Bad Name", "x")])
    with pytest.raises(ValueError):
        Headers([("X", "a\r\nInjected: 1")])


@pytest.mark.parametrize(
    ("text", "via"),
    [
        (
            "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds",
            Via("UDP", "pc33.atlanta.example.com", params=(("branch", "z9hG4bK776asdhds"),)),
        ),
        (
            "SIP/2.0/TCP [2001:db8::9]:5070;branch=z9hG4bKa;rport=5071;received=2001:db8::8",
            Via("TCP", "[2001:db8::9]", 5070, (("branch", "z9hG4bKa"), ("rport", "5071"), ("received", "2001:db8::8"))),
        ),
        (
            "SIP / 2.0 / UDP h.example.com : 5060 ; rport ; maddr=224.2.0.1;ttl=16",
            Via("UDP", "h.example.com", 5060, (("rport", None), ("maddr", "224.2.0.1"), ("ttl", "16"))),
        ),
    ],
)
def test_via(text: str, via: Via) -> None:
    parsed = Via.parse(text)
    assert parsed == via
    assert Via.parse(str(parsed)) == parsed


def test_via_accessors() -> None:
    via = Via.parse("SIP/2.0/UDP h:5060;branch=z9hG4bKx;received=192.0.2.1;rport=1234;maddr=224.0.0.1;ttl=1")
    assert (via.sent_protocol, via.host, via.port) == ("SIP/2.0/UDP", "h", 5060)
    assert (via.branch, via.received, via.rport, via.maddr, via.ttl) == ("z9hG4bKx", "192.0.2.1", 1234, "224.0.0.1", 1)
    client = Via.parse("SIP/2.0/UDP h;rport")
    assert client.rport is None and client.has_param("rport")


@pytest.mark.parametrize(
    "text",
    [
        "SIP/2.0 h",
        "SIP/2.0/UDP",
        "SIP/2.0/UDP ;branch=x",
        "SIP/2.0/UDP h;ttl=300",
        "SIP/2.0/UDP h;received=x.y..",
        "SIP/2.0/UDP h:70000",
        "SIP/2.0/UDP h;rport=x",
        "SIP/2.0/UDP h junk",
    ],
)
def test_bad_via(text: str) -> None:
    with pytest.raises(SipParseError) as caught:
        Via.parse(text)
    assert caught.value.field == "Via"


def test_cseq() -> None:
    assert CSeq.parse(" 0009  INVITE ") == CSeq(9, "INVITE")
    assert CSeq.parse(str(CSeq(2**31 - 1, "BYE"))) == CSeq(2**31 - 1, "BYE")
    for bad in ["INVITE", "1", "-1 INVITE", "2147483648 INVITE", "1 INVITE x", "1 INV@TE"]:
        with pytest.raises(SipParseError):
            CSeq.parse(bad)


def test_typed_accessors() -> None:
    headers = Headers(
        [
            ("i", "a84b4c76e66710@pc33.atlanta.example.com"),
            ("f", '"Alice" <sip:alice@atlanta.example.com>;tag=1928301774'),
            ("t", "Bob <sip:bob@biloxi.example.com>"),
            ("Max-Forwards", "70"),
            ("m", "<sip:a@h1>;expires=3600;q=0.7, <sip:a@h2>"),
            ("Contact", "sip:a@h3;expires=0"),
            ("Route", "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>"),
            ("Record-Route", "<sip:p3.example.com;lr>"),
            ("c", "application/SDP ; charset=utf-8"),
            ("l", "142"),
            ("Expires", "7200"),
        ]
    )
    assert headers.call_id == "a84b4c76e66710@pc33.atlanta.example.com"
    assert headers.from_ is not None and headers.from_.tag == "1928301774"
    assert headers.to is not None and headers.to.display_name == "Bob" and headers.to.tag is None
    assert headers.max_forwards == 70 and headers.content_length == 142 and headers.expires == 7200
    assert [(str(c.uri), c.expires, c.q) for c in headers.contact] == [
        ("sip:a@h1", 3600, 0.7),
        ("sip:a@h2", None, None),
        ("sip:a@h3", 0, None),
    ]
    assert [str(r.uri) for r in headers.route] == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
    assert len(headers.record_route) == 1
    assert headers.content_type == ContentType("application", "sdp", (("charset", "utf-8"),))
    assert not headers.contact_is_wildcard
    assert Headers().cseq is None and Headers().via == [] and Headers().date is None


def test_contact_wildcard_and_bad_contact_params() -> None:
    assert Headers([("Contact", "*")]).contact_is_wildcard
    assert Headers([("Contact", "*")]).contact == []
    for bad in ["*, <sip:a@h>", "<sip:a@h>;expires=99999999999", "<sip:a@h>;q=1.5", "<sip:a@h>;q=abc", "<sip:a@h>,"]:
        with pytest.raises(SipParseError) as caught:
            _ = Headers([("Contact", bad)]).contact
        assert caught.value.field == "Contact"


def test_single_value_headers_refuse_a_second_value() -> None:
    with pytest.raises(SipParseError, match="more than one value"):
        _ = Headers([("CSeq", "1 A"), ("CSeq", "2 A")]).cseq


def test_digest_credentials_and_challenge_round_trip() -> None:
    text = (
        'Digest username="bob", realm="biloxi.example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
        'uri="sip:bob@biloxi.example.com", qop=auth, nc=00000001, cnonce="0a4f113b", '
        'response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41", '
        'algorithm=MD5, note="say \\"hi\\", then, go"'
    )
    [credentials] = Headers([("Authorization", text)]).authorization
    assert isinstance(credentials, Credentials)
    assert credentials.scheme == "Digest"
    assert (credentials.param("USERNAME"), credentials.param("qop"), credentials.param("note")) == (
        "bob",
        "auth",
        'say "hi", then, go',
    )
    assert AuthParam("qop", "auth", quoted=False) in credentials.params
    assert Credentials.parse(str(credentials)) == credentials
    challenge = Headers([("WWW-Authenticate", 'Digest realm="r", qop="auth,auth-int", stale=FALSE')]).www_authenticate[
        0
    ]
    assert (challenge.param("qop"), challenge.param("stale")) == ("auth,auth-int", "FALSE")
    assert Challenge.parse(str(challenge)) == challenge
    for bad in ["", "Digest realm", 'Digest realm="r" x', "Digest realm=a b", 'Digest realm="r",']:
        with pytest.raises(SipParseError):
            Challenge.parse(bad)


def test_content_type() -> None:
    value = ContentType.parse('multipart/mixed;boundary="b 1"')
    assert (value.mime_type, value.param("boundary")) == ("multipart/mixed", "b 1")
    assert ContentType.parse(str(value)) == value
    for bad in ["application", "application/", "/sdp", "application/sdp junk"]:
        with pytest.raises(SipParseError):
            ContentType.parse(bad)


def test_date() -> None:
    moment = parse_date("Sat, 13 Nov 2010 23:29:00 GMT")
    assert moment == datetime(2010, 11, 13, 23, 29, tzinfo=UTC)
    assert format_date(moment) == "Sat, 13 Nov 2010 23:29:00 GMT"
    for bad in ["Sat, 13 Nov 2010 23:29:00 EST", "13 Nov 2010", "Sat, 31 Feb 2010 23:29:00 GMT"]:
        with pytest.raises(SipParseError):
            parse_date(bad)


def test_accessor_errors_carry_the_header_offset() -> None:
    headers = Headers()
    headers.add("CSeq", "x INVITE", offset=40)
    with pytest.raises(SipParseError) as caught:
        _ = headers.cseq
    assert (caught.value.field, caught.value.offset) == ("CSeq", 40)


def test_typed_values_are_parsed_once_and_forgotten_when_the_fields_change() -> None:
    headers = Headers([("Via", "SIP/2.0/UDP a.example.com;branch=z9hG4bK1"), ("CSeq", "1 INVITE")])
    first = headers.via
    assert headers.via == first and headers.via[0] is first[0]  # the same parsed value, not parsed again
    headers.via.append(first[0])  # a caller's list is its own
    assert len(headers.via) == 1
    headers.add("Via", "SIP/2.0/TCP b.example.com;branch=z9hG4bK2")
    assert [v.host for v in headers.via] == ["a.example.com", "b.example.com"]
    headers.set("CSeq", "2 BYE")
    assert headers.cseq is not None and (headers.cseq.number, headers.cseq.method) == (2, "BYE")
    headers.remove("Via")
    assert headers.via == []


def test_each_typed_value_is_cached_once_by_header_name() -> None:
    # The cache was keyed by (name, parser); Max-Forwards and Content-Length had a new lambda as their parser on
    # every read, so each read parsed again and left one more entry behind.
    headers = Headers([("Max-Forwards", "70"), ("Content-Length", "0"), ("From", "<sip:a@example.com>;tag=1")])
    for _ in range(3):
        assert (headers.max_forwards, headers.content_length) == (70, 0)
        assert headers.from_ is headers.from_
    assert sorted(headers._parsed) == ["Content-Length", "From", "Max-Forwards"]


def test_forgotten_typed_values_are_parsed_again_when_read() -> None:
    headers = Headers([("From", "<sip:a@example.com>;tag=1")])
    first = headers.from_
    headers.forget_parsed()
    assert headers._parsed == {}
    again = headers.from_
    assert again == first and again is not first


def test_fields_are_plain_tuples_the_collector_stops_tracking() -> None:
    # Thousands of messages wait in transactions for 64*T1; a tracked object per header field made the collector's
    # full collections walk them all. Plain tuples of strings are untracked by the first collection they survive.
    headers = Headers([("Via", "SIP/2.0/UDP a.example.com;branch=z9hG4bK1"), ("Call-ID", "x@y")])
    gc.collect()
    assert not any(gc.is_tracked(field) for field in headers._fields)
    assert [str(h) for h in headers] == ["Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1", "Call-ID: x@y"]
    assert headers.lines() == [str(h) for h in headers]
