"""Invalid messages after RFC 4475 §3.1.2 and §3.3, reconstructed for this suite: not byte-exact copies."""

from __future__ import annotations

import pytest
from test_sip_torture import BASIC, RESPONSE_HEADERS, sip

from callboard.voice.sip.message import Request, SipParseError, bad_request, parse_message

INVALID = {
    # name: (message, field of the error)
    "badinv01": (
        sip("INVITE sip:user@example.com SIP/2.0", *BASIC[:5], "Via: SIP/2.0/UDP 192.0.2.15;;,;,,", "l: 0"),
        "Via",
    ),
    "badinv01-contact": (
        sip("OPTIONS sip:user@example.com SIP/2.0", *BASIC, 'Contact: "Joe" <sip:joe@example.org>;;;;', "l: 0"),
        "Contact",
    ),
    "clerr": (
        sip("OPTIONS sip:user@example.com SIP/2.0", *BASIC, "Content-Length: 9999", body=b"v=0\r\n"),
        "Content-Length",
    ),
    "ncl": (sip("OPTIONS sip:user@example.com SIP/2.0", *BASIC, "Content-Length: -999"), "Content-Length"),
    "scalar02": (
        sip(
            "REGISTER sip:example.com SIP/2.0",
            *BASIC[:2],
            "Max-Forwards: 300",
            BASIC[3],
            "CSeq: 36893488147419103232 REGISTER",
            BASIC[5],
            "Expires: 10000000000000000000000",
            "Contact: <sip:user@host129.example.com>;expires=280297596632815",
            "l: 0",
        ),
        "CSeq",
    ),
    "scalarlg": (
        sip(
            "SIP/2.0 503 Service Unavailable",
            *RESPONSE_HEADERS[:2],
            "CSeq: 36893488147419103232 INVITE",
            *RESPONSE_HEADERS[3:],
        ),
        "CSeq",
    ),
    "quotbal": (
        sip(
            "INVITE sip:user@example.com SIP/2.0",
            'To: "Mr. J. User <sip:j.user@example.com>',
            *BASIC[1:4],
            "CSeq: 8 INVITE",
            BASIC[5],
            "l: 0",
        ),
        "To",
    ),
    "ltgtruri": (sip("INVITE <sip:user@example.com> SIP/2.0", *BASIC, "l: 0"), "Request-URI"),
    "lwsruri": (sip("INVITE sip:user@example.com; lr SIP/2.0", *BASIC, "l: 0"), "Request-Line"),
    "lwsstart": (sip("INVITE  sip:user@example.com  SIP/2.0", *BASIC, "l: 0"), "Request-Line"),
    "trws": (sip("OPTIONS sip:remote-target@example.com SIP/2.0  ", *BASIC, "l: 0"), "Request-Line"),
    "escruri": (sip("INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0", *BASIC, "l: 0"), "Request-URI"),
    "baddate": (
        sip("OPTIONS sip:u@example.com SIP/2.0", *BASIC, "Date: Fri, 01 Jan 2010 16:00:00 EST", "l: 0"),
        "Date",
    ),
    "regbadct": (
        sip(
            "OPTIONS sip:u@example.com SIP/2.0",
            *BASIC,
            "Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            "l: 0",
        ),
        "Contact",
    ),
    "badaspec": (
        sip(
            "OPTIONS sip:u@example.org SIP/2.0", 'To: "Watson, Thomas" < sip:t.watson@example.org >', *BASIC[1:], "l: 0"
        ),
        "To",
    ),
    "baddn": (
        sip(
            "OPTIONS sip:u@example.com SIP/2.0",
            BASIC[0],
            "From: Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            *BASIC[2:],
            "l: 0",
        ),
        "From",
    ),
    "badvers": (sip("OPTIONS sip:t.watson@example.org SIP/7.0", *BASIC, "l: 0"), "SIP-Version"),
    "mismatch01": (sip("INVITE sip:user@example.com SIP/2.0", *BASIC, "l: 0"), "CSeq"),
    "mismatch02": (sip("NEWMETHOD sip:user@example.com SIP/2.0", *BASIC, "l: 0"), "CSeq"),
    "bigcode": (sip("SIP/2.0 4294967301 better not break the receiver", *RESPONSE_HEADERS), "Status-Code"),
    "insuf": (sip("INVITE sip:user@example.com SIP/2.0", "CSeq: 1 INVITE", BASIC[5], "l: 0"), "From"),
    "multi01": (sip("OPTIONS sip:u@example.com SIP/2.0", *BASIC, "To: sip:other@example.com", "l: 0"), "To"),
    "mcl01": (
        sip("OPTIONS sip:u@example.com SIP/2.0", *BASIC, "Content-Length: 0", "Content-Length: 5", body=b"12345"),
        "Content-Length",
    ),
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_messages_raise_naming_the_field(name: str) -> None:
    # after RFC 4475 §3.1.2 (invalid messages) and §3.3.1 insuf, §3.3.8 multi01, §3.3.9 mcl01
    data, field = INVALID[name]
    with pytest.raises(SipParseError) as caught:
        parse_message(data)
    assert caught.value.field == field
    assert 0 <= caught.value.offset <= len(data)


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("scalar02", "400 Bad CSeq"),
        ("quotbal", "400 Bad To"),
        ("escruri", "400 Bad Request-URI"),
        ("ltgtruri", "400 Bad Request-URI"),
        ("badvers", "505 Version Not Supported"),
        ("mismatch01", "400 Bad CSeq"),
        ("clerr", "400 Bad Content-Length"),
        ("baddate", "400 Bad Date"),
    ],
)
def test_invalid_requests_get_a_response_when_one_can_be_built(name: str, status: str) -> None:
    data, _ = INVALID[name]
    with pytest.raises(SipParseError) as caught:
        parse_message(data)
    response = bad_request(data, caught.value, to_tag="t1")
    assert response is not None
    assert f"{response.status_code} {response.reason}" == status
    assert response.headers.get("Call-ID") == Request.parse(sip("OPTIONS sip:u@h SIP/2.0", *BASIC, "l: 0")).headers.get(
        "Call-ID"
    )
    assert (response.headers.get("To") or "").endswith(";tag=t1")


@pytest.mark.parametrize("name", ["insuf", "bigcode", "scalarlg", "lwsstart", "badinv01"])
def test_invalid_messages_that_cannot_be_answered_are_dropped(name: str) -> None:
    data, _ = INVALID[name]
    with pytest.raises(SipParseError) as caught:
        parse_message(data)
    assert bad_request(data, caught.value, to_tag="t1") is None
