"""The wire types of transfers: Replaces, Refer-To with an embedded Replaces, sipfrag, Event, Subscription-State."""

from __future__ import annotations

import pytest

from callboard.voice.sip.errors import SipParseError
from callboard.voice.sip.refer import EventHeader, ReferTo, ReplacesTarget, SubscriptionState, parse_sipfrag, sipfrag
from callboard.voice.sip.uri import SipUri


def test_replaces_of_rfc_3891() -> None:
    target = ReplacesTarget.parse("98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff")
    assert target == ReplacesTarget("98732@sip.example.com", "ff87ff", "r33th4x0r")
    assert str(target) == "98732@sip.example.com;to-tag=ff87ff;from-tag=r33th4x0r"
    assert ReplacesTarget.parse(str(target)) == target
    early = ReplacesTarget.parse("12adf2f34456gs5;to-tag=12345;from-tag=54321;early-only")
    assert early.early_only and str(early).endswith(";early-only")
    assert ReplacesTarget.parse(" a@b ; to-tag = 1 ; from-tag=2 ; x=y ").to_tag == "1"  # generic params allowed


@pytest.mark.parametrize(
    "text",
    [
        "",
        ";to-tag=1;from-tag=2",
        "abc;to-tag=1",
        "abc;from-tag=2",
        "abc;to-tag=1;to-tag=3;from-tag=2",
        "a b;to-tag=1;from-tag=2",
        "abc;to-tag=1;from-tag=2 junk",
        "abc;to-tag=;from-tag=2",
    ],
)
def test_malformed_replaces(text: str) -> None:
    with pytest.raises(SipParseError) as info:
        ReplacesTarget.parse(text)
    assert info.value.field == "Replaces"


def test_refer_to_with_an_escaped_replaces_of_rfc_3891() -> None:
    value = "<sip:dave@denver.example.org?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994>"
    refer_to = ReferTo.parse(value)
    assert refer_to.target == SipUri("denver.example.org", "dave")
    assert refer_to.replaces == ReplacesTarget("12345@192.168.118.3", "12345", "5FFE-3994")
    assert refer_to.method == "INVITE"
    assert ReferTo.format(refer_to.target, refer_to.replaces) == value
    assert ReferTo.parse(ReferTo.format(refer_to.target, refer_to.replaces)) == refer_to


def test_a_blind_refer_to_and_other_forms() -> None:
    assert ReferTo.parse("sip:carol@example.com").target == SipUri("example.com", "carol")
    assert ReferTo.format(SipUri("example.com", "carol")) == "<sip:carol@example.com>"
    assert str(ReferTo.parse('"Carol" <tel:+15550002222>').target) == "tel:+15550002222"
    bye = ReferTo.parse("<sip:carol@example.com;method=BYE;transport=tcp>")
    assert bye.method == "BYE" and str(bye.target) == "sip:carol@example.com;transport=tcp"
    with pytest.raises(SipParseError):
        ReferTo.parse("<sip:carol@example.com?Replaces=abc%3Bto-tag%3D1>")  # no from-tag
    with pytest.raises(SipParseError):
        ReferTo.parse("<sip:a@b?Replaces=x%3Bto-tag%3D1%3Bfrom-tag%3D2&Replaces=y%3Bto-tag%3D1%3Bfrom-tag%3D2>")


def test_sipfrag() -> None:
    assert sipfrag(100, "Trying") == b"SIP/2.0 100 Trying\r\n"
    assert parse_sipfrag(b"SIP/2.0 486 Busy Here\r\nTo: <sip:x@y>\r\n") == (486, "Busy Here")
    assert parse_sipfrag(b"SIP/2.0 200 OK") == (200, "OK")
    for bad in (b"", b"INVITE sip:x@y SIP/2.0\r\n", b"SIP/2.0 2000 OK\r\n", b"SIP/2.0 099 Early\r\n"):
        with pytest.raises(SipParseError):
            parse_sipfrag(bad)


def test_event_and_subscription_state() -> None:
    event = EventHeader.parse("Refer;id=93809824")
    assert (event.package, event.id, str(event)) == ("refer", "93809824", "refer;id=93809824")
    assert EventHeader.parse("refer").id is None
    state = SubscriptionState.parse("terminated;reason=noresource")
    assert state.terminated and state.reason == "noresource"
    assert not SubscriptionState.parse("active;expires=60").terminated
    for bad in ("", ";id=1", "refer junk"):
        with pytest.raises(SipParseError):
            EventHeader.parse(bad)
