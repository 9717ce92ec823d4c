"""Messages after RFC 4475 (SIP Torture Test Messages), reconstructed for this suite: not byte-exact copies.

Each case is named after the RFC's section and its short name; the comment says what it tortures.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callboard.voice.sip.message import Request, Response, parse_message
from callboard.voice.sip.uri import AbsoluteUri, SipUri, TelUri

SDP = (
    b"v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.4\r\n"
    b"t=0 0\r\nm=audio 49217 RTP/AVP 0\r\n"
)


def sip(*lines: str | bytes, body: bytes = b"") -> bytes:
    """A message from its head lines (CRLF-terminated here) and body."""
    head = b"".join((line if isinstance(line, bytes) else line.encode()) + b"\r\n" for line in lines)
    return head + b"\r\n" + body


def roundtrip(message: Request | Response) -> None:
    assert parse_message(bytes(message)) == message


# after RFC 4475 §3.1.1.1 wsinv: folding everywhere, odd case and spacing, escapes in quoted strings
WSINV = sip(
    "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0",
    "TO :",
    " sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n",
    'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>',
    "  ;",
    "  tag = 98asjd8",
    "MaX-fOrWaRdS: 0068",
    "Call-ID: wsinv.ndaksdj@192.0.2.1",
    f"Content-Length   : {len(SDP)}",
    "cseq: 0009",
    "  INVITE",
    "Via  : SIP  /   2.0",
    " /UDP",
    "    192.0.2.2;branch=390skdjuw",
    "s :",
    "NewFangledHeader:   newfangled value",
    " continued newfangled value",
    "UnknownHeaderWithUnusualValue: ;;,,;;,;",
    "Content-Type: application/sdp",
    "Route:",
    " <sip:services.example.com;lr;unknownwith=value;unknown-no-value>",
    "v:  SIP  / 2.0  / TCP     spindle.example.com   ;",
    "  branch  =   z9hG4bK9ikj8  ,",
    " SIP  /    2.0   / UDP  192.168.255.111   ; branch=",
    " z9hG4bK30239",
    'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =',
    "      newvalue ;",
    "  secondparam ; q = 0.33",
    body=SDP,
)


def test_wsinv_short_tortuous_invite() -> None:
    request = Request.parse(WSINV)
    h = request.headers
    assert request.method == "INVITE"
    assert request.uri == SipUri("chair-dnrc.example.com", "vivekg", params=(("unknownparam", None),))
    assert h.to is not None and h.to.tag == "1918181833n"
    assert h.from_ is not None and h.from_.display_name == 'J Rosenberg \\"' and h.from_.tag == "98asjd8"
    assert h.max_forwards == 68
    assert h.cseq is not None and (h.cseq.number, h.cseq.method) == (9, "INVITE")
    assert [(v.transport, v.host, v.branch) for v in h.via] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    assert h.get("Subject") == ""
    assert h.get("newfangledheader") == "newfangled value continued newfangled value"
    assert h.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    assert h.route[0].uri == SipUri(
        "services.example.com", params=(("lr", None), ("unknownwith", "value"), ("unknown-no-value", None))
    )
    [contact] = h.contact
    assert contact.display_name == 'Quoted string ""'
    assert (contact.param("newparam"), contact.has_param("secondparam"), contact.q) == ("newvalue", True, 0.33)
    assert request.body == SDP
    roundtrip(request)


def test_intmeth_wide_range_of_valid_characters() -> None:
    # after RFC 4475 §3.1.1.2 intmeth: token characters in the method, the user part and parameters
    method = "!interesting-Method0123456789_*+`.%indeed'~"
    user = "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    data = sip(
        f"{method} sip:{user}:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0",
        "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~",
        b'To: "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:' + user.encode() + b"@example.com>",
        "From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>"
        ";fromParam''~+*_!.-%=\"работающий\";tag=_token~1'+`*%!-.",
        "Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
        f"CSeq: 139122385 {method}",
        "Max-Forwards: 255",
        "extensionHeader-!.%*+_`'~: \ufeff大停電",
        "Content-Length: 0",
    )
    request = Request.parse(data)
    assert request.method == method
    assert isinstance(request.uri, SipUri) and request.uri.user == user
    assert request.uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    to, from_ = request.headers.to, request.headers.from_
    assert to is not None and to.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert from_ is not None and from_.display_name == "token1~` token2'+_ token3*%!.-"
    assert from_.param("fromParam''~+*_!.-%") == "работающий"
    assert request.headers.get("EXTENSIONHEADER-!.%*+_`'~") == "\ufeff大停電"
    roundtrip(request)


def test_esc01_valid_percent_escapes() -> None:
    # after RFC 4475 §3.1.1.3 esc01: escapes in user, parameters; compact Call-ID and Content-Type
    data = sip(
        "INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0",
        "To: sip:%75se%72@example.com",
        "From: <sip:I%20have%20spaces@example.net>;tag=938",
        "Max-Forwards: 87",
        "i: esc01.239409asdfakjkn23onasd0-3234",
        "CSeq: 234234 INVITE",
        "Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw",
        "C: application/sdp",
        "Contact:",
        "  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>",
        f"Content-Length: {len(SDP)}",
        body=SDP,
    )
    request = Request.parse(data)
    assert request.uri == SipUri("example.net", "sips:user@example.com")
    assert str(request.uri) == "sip:sips%3Auser%40example.com@example.net"
    assert request.headers.to is not None and request.headers.to.uri == SipUri("example.com", "user")
    assert request.headers.from_ is not None and request.headers.from_.uri == SipUri("example.net", "I have spaces")
    assert request.headers.contact[0].uri == SipUri(
        "host5.example.net", "caller", params=(("lr", None), ("name", "value%41"))
    )
    assert request.headers.call_id == "esc01.239409asdfakjkn23onasd0-3234"
    assert request.headers.content_type is not None and request.headers.content_type.mime_type == "application/sdp"
    roundtrip(request)


def test_escnull_escaped_nulls_in_uris() -> None:
    # after RFC 4475 §3.1.1.4 escnull
    data = sip(
        "REGISTER sip:example.com SIP/2.0",
        "To: sip:null-%00-null@example.com",
        "From: sip:null-%00-null@example.com;tag=839923423",
        "Max-Forwards: 70",
        "Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd",
        "CSeq: 14398234 REGISTER",
        "Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw",
        "Contact: <sip:%00@host5.example.com>",
        "Contact: <sip:%00%00@host5.example.com>",
        "L:0",
    )
    request = Request.parse(data)
    assert [c.uri for c in request.headers.contact] == [
        SipUri("host5.example.com", "\x00"),
        SipUri("host5.example.com", "\x00\x00"),
    ]
    assert request.headers.from_ is not None and str(request.headers.from_.uri) == "sip:null-%00-null@example.com"
    roundtrip(request)


def test_esc02_percent_that_is_not_an_escape() -> None:
    # after RFC 4475 §3.1.1.5 esc02: % in method, display names, branch and a header name are plain characters
    data = sip(
        "RE%47IST%45R sip:registrar.example.com SIP/2.0",
        'To: "%Z%45" <sip:resource@example.com>',
        'From: "%Z%45" <sip:resource@example.com>;tag=f232jadfj23',
        "Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf",
        "Via: SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234",
        "CSeq: 29344 RE%47IST%45R",
        "Max-Forwards: 70",
        "Contact: <sip:alias1@host1.example.com>",
        "C%6Fntact: <sip:alias2@host2.example.com>",
        "Contact: <sip:alias3@host3.example.com>",
        "l: 0",
    )
    request = Request.parse(data)
    assert request.method == "RE%47IST%45R"
    assert request.headers.to is not None and request.headers.to.display_name == "%Z%45"
    assert request.headers.via[0].branch == "z9hG4bK209%fzsnel234"
    assert len(request.headers.contact) == 2
    assert request.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"
    roundtrip(request)


BASIC = (
    "To: sip:user@example.com",
    "From: caller<sip:caller@example.com>;tag=323",
    "Max-Forwards: 70",
    "Call-ID: lwsdisp.1234abcd@funky.example.com",
    "CSeq: 60 OPTIONS",
    "Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw",
)


def test_lwsdisp_no_space_between_display_name_and_angle_bracket() -> None:
    # after RFC 4475 §3.1.1.6 lwsdisp
    request = Request.parse(sip("OPTIONS sip:user@example.com SIP/2.0", *BASIC, "l: 0"))
    assert request.headers.from_ is not None and request.headers.from_.display_name == "caller"
    roundtrip(request)


def test_longreq_long_values_and_many_vias() -> None:
    # after RFC 4475 §3.1.1.7 longreq: long names, values and parameters, 34 Via fields under every spelling
    long = "long" * 40
    spellings = ["Via", "v", "V", "ViA", "VIa", "VIA", "via", "viA", "vIa", "vIA", "V ", "v  ", "Via  "]
    vias = [
        f"{spellings[i % len(spellings)]}: SIP/2.0/TCP sip{i}.example.com;branch=z9hG4bK{i}" for i in range(33, 0, -1)
    ]
    data = sip(
        "INVITE sip:user@example.com SIP/2.0",
        f'To: "I have a user name of {"extreme " * 10}proportion" <sip:user@example.com:6000;unknownparam1=very{long}'
        f"value;{long}name=shortvalue;very{long}ParameterNameWithNoValue>",
        f"F: sip:{'amazinglylongcallername' * 5}@example.net;tag={'12982' * 40};unknown{long}=value{long}",
        f"Call-ID: longreq.one{'really' * 20}longcallid",
        "CSeq: 3882340 INVITE",
        f"Unknown-{'Long' * 20}-Name: unknown-{long}-value; unknown-{long}-parameter-name = unknown-{long}-value",
        *vias,
        "Via: SIP/2.0/TCP host.example.com;received=192.0.2.5;branch=very" + long + "branchvalue",
        "Max-Forwards: 70",
        f"Contact: <sip:{'amazinglylongcallername' * 5}@host5.example.net>",
        "Content-Type: application/sdp",
        f"l: {len(SDP)}",
        body=SDP,
    )
    request = Request.parse(data)
    assert len(request.headers.via) == 34
    assert request.headers.via[-1].received == "192.0.2.5"
    to = request.headers.to
    assert to is not None and isinstance(to.uri, SipUri) and to.uri.port == 6000
    roundtrip(request)


def test_dblreq_extra_octets_in_a_datagram_are_ignored() -> None:
    # after RFC 4475 §3.1.1.8 dblreq: a REGISTER with Content-Length 0 followed by what looks like an INVITE
    register = sip(
        "REGISTER sip:example.com SIP/2.0",
        "To: sip:j.user@example.com",
        "From: sip:j.user@example.com;tag=43251j3j324",
        "Max-Forwards: 8",
        "I: dblreq.0ha0isndaksdj99sdfafnl3lk233412",
        "Contact: sip:j.user@host.example.com",
        "CSeq: 8 REGISTER",
        "Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492",
        "Content-Length: 0",
    )
    request = Request.parse(register + WSINV)
    assert request.method == "REGISTER" and request.body == b""


def test_semiuri_semicolon_in_the_user_part() -> None:
    # after RFC 4475 §3.1.1.9 semiuri; also a folded Accept list
    data = sip(
        "OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0",
        "To: sip:j_user@example.com",
        "From: sip:caller@example.org;tag=33242",
        "Max-Forwards: 3",
        "Call-ID: semiuri.0ha0isndaksdj",
        "CSeq: 8 OPTIONS",
        "Accept: application/sdp, application/pkcs7-mime,",
        "      multipart/mixed, multipart/signed,",
        "      message/sip, message/sipfrag",
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw",
        "l: 0",
    )
    request = Request.parse(data)
    assert request.uri == SipUri("example.com", "user;par=u@example.net")
    assert len(request.headers.get_all("Accept")) == 6
    roundtrip(request)


def test_transports_varied_and_unknown_transports() -> None:
    # after RFC 4475 §3.1.1.10 transports
    data = sip(
        "OPTIONS sip:user@example.com SIP/2.0",
        "To: sip:user@example.com",
        "From: <sip:caller@example.com>;tag=323",
        "Max-Forwards: 70",
        "Call-ID: transports.kijh4akdnaqjkwendsasfdj",
        "Accept: application/sdp",
        "CSeq: 60 OPTIONS",
        "Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw",
        "Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf",
        "Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj",
        "Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en",
        "Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee",
        "l: 0",
    )
    request = Request.parse(data)
    assert [v.transport for v in request.headers.via] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]
    roundtrip(request)


def test_mpart01_multipart_body_with_binary_part() -> None:
    # after RFC 4475 §3.1.1.11 mpart01: the body is bytes, framed by Content-Length, not decoded
    binary = bytes(range(256))
    body = (
        b"--boundary42\r\nContent-Type: application/sdp\r\n\r\n"
        + SDP
        + b"\r\n--boundary42\r\nContent-Type: application/octet-stream\r\n\r\n"
        + binary
        + b"\r\n--boundary42--\r\n"
    )
    data = sip(
        "MESSAGE sip:kumiko@example.org SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.15:5060;branch=z9hG4bK-84dbs",
        "Max-Forwards: 70",
        'From: "Alice" <sip:alice@example.com>;tag=98sda',
        "To: <sip:kumiko@example.org>",
        "Call-ID: mpart01.skeiwhfds8@192.0.2.15",
        "CSeq: 1 MESSAGE",
        'Content-Type: multipart/mixed;boundary="boundary42"',
        f"Content-Length: {len(body)}",
        body=body,
    )
    request = Request.parse(data)
    assert request.body == body
    content_type = request.headers.content_type
    assert content_type is not None and content_type.param("boundary") == "boundary42"
    roundtrip(request)


RESPONSE_HEADERS = (
    "Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923",
    "Call-ID: unreason.1234ksdfak3j2erwedfsASdf",
    "CSeq: 35 INVITE",
    "From: sip:user@example.com;tag=11141343",
    "To: sip:user@example.edu;tag=2229",
    "Content-Length: 0",
)


def test_unreason_unusual_reason_phrase() -> None:
    # after RFC 4475 §3.1.1.12 unreason: UTF-8 and punctuation in the reason phrase
    reason = "= 2**3 * 5**2 но сто девяносто девять - простое"
    response = Response.parse(sip(f"SIP/2.0 200 {reason}", *RESPONSE_HEADERS))
    assert (response.status_code, response.reason) == (200, reason)
    roundtrip(response)


def test_noreason_empty_reason_phrase() -> None:
    # after RFC 4475 §3.1.1.13 noreason
    response = Response.parse(sip("SIP/2.0 100 ", *RESPONSE_HEADERS))
    assert (response.status_code, response.reason) == (100, "")
    roundtrip(response)


def test_badbranch_branch_without_magic_cookie_is_valid() -> None:
    # after RFC 4475 §3.2.1 badbranch: an RFC 2543 branch is a transaction-layer matter, not a syntax error
    request = Request.parse(
        sip("OPTIONS sip:user@example.com SIP/2.0", *BASIC[:-1], "Via: SIP/2.0/UDP h;branch=1", "l: 0")
    )
    assert request.headers.via[0].branch == "1"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        # after RFC 4475 §3.3.2 unkscm, §3.3.3 novelsc: parsed, then answered 416 by the application
        ("nobodyKnowsThisScheme:totallyopaquecontent", AbsoluteUri("nobodyKnowsThisScheme", "totallyopaquecontent")),
        ("soap.beep://192.0.2.103:3002", AbsoluteUri("soap.beep", "//192.0.2.103:3002")),
        (
            "tel:+1-201-555-0123;phone-context=example.com",
            TelUri("+1-201-555-0123", (("phone-context", "example.com"),)),
        ),
    ],
)
def test_unkscm_novelsc_uncommon_request_uri_schemes(uri: str, expected: object) -> None:
    request = Request.parse(sip(f"OPTIONS {uri} SIP/2.0", *BASIC, "l: 0"))
    assert request.uri == expected
    roundtrip(request)


def test_unksm2_unknown_schemes_in_header_fields() -> None:
    # after RFC 4475 §3.3.4 unksm2
    data = sip(
        "REGISTER sip:example.com SIP/2.0",
        "To: isbn:2983792873",
        "From: <http://www.example.com>;tag=3234233",
        "Call-ID: unksm2.daksdj@hyphenated-host.example.com",
        "CSeq: 234902 REGISTER",
        "Max-Forwards: 70",
        "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw",
        "Contact: <name:John_Smith>",
        "l: 0",
    )
    request = Request.parse(data)
    assert request.headers.to is not None and request.headers.to.uri == AbsoluteUri("isbn", "2983792873")
    assert request.headers.contact[0].uri == AbsoluteUri("name", "John_Smith")
    roundtrip(request)


def test_regaut01_unknown_authorization_scheme_parses() -> None:
    # after RFC 4475 §3.3.7 regaut01: answered 401 by the registrar, not rejected by the parser
    data = sip(
        "REGISTER sip:example.com SIP/2.0",
        *BASIC[:4],
        "CSeq: 9338 REGISTER",
        "Via: SIP/2.0/TCP 192.0.2.253;branch=z9hG4bKkdjuw",
        "Authorization: NoOneKnowsThisScheme opaque-data=here",
        "Content-Length:0",
    )
    [credentials] = Request.parse(data).headers.authorization
    assert (credentials.scheme, credentials.param("opaque-data")) == ("NoOneKnowsThisScheme", "here")


def test_bcast_and_zeromf_parse() -> None:
    # after RFC 4475 §3.3.10 bcast (a broadcast received=) and §3.3.11 zeromf (Max-Forwards 0)
    response = Response.parse(
        sip(
            "SIP/2.0 200 OK",
            "Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1;received=255.255.255.255",
            *RESPONSE_HEADERS[1:],
        )
    )
    assert response.headers.via[0].received == "255.255.255.255"
    request = Request.parse(
        sip("OPTIONS sip:user@example.com SIP/2.0", *BASIC[:2], "Max-Forwards: 0", *BASIC[3:], "l: 0")
    )
    assert request.headers.max_forwards == 0


def test_cparam_and_regescrt_contact_forms() -> None:
    # after RFC 4475 §3.3.12 cparam01, §3.3.13 cparam02 and §3.3.14 regescrt
    data = sip(
        "REGISTER sip:example.com SIP/2.0",
        *BASIC[:4],
        "CSeq: 1 REGISTER",
        "Via: SIP/2.0/UDP saturn.example.com:5060;branch=z9hG4bKkdjuw",
        "Contact: sip:+19725552222@gw1.example.net;unknownparam",
        "Contact: <sip:+19725552222@gw1.example.net;unknownparam>",
        "Contact: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>",
        "l: 0",
    )
    first, second, third = Request.parse(data).headers.contact
    assert first.has_param("unknownparam") and not isinstance(first.uri, AbsoluteUri) and not first.uri.params
    assert isinstance(second.uri, SipUri) and second.uri.has_param("unknownparam") and not second.params
    assert isinstance(third.uri, SipUri) and third.uri.headers == (("Route", "<sip:sip.example.com>"),)


def test_date_header_in_gmt() -> None:
    request = Request.parse(
        sip("OPTIONS sip:u@example.com SIP/2.0", *BASIC, "Date: Sat, 13 Nov 2010 23:29:00 GMT", "l: 0")
    )
    assert request.headers.date == datetime(2010, 11, 13, 23, 29, tzinfo=UTC)
