"""Caller ID on outbound calls: From with a display name and number, P-Asserted-Identity, Privacy: id."""

from __future__ import annotations

import pytest
from sip_memory_link import make_request
from sip_phones import BOB_URI, OFFER, line

from callboard.voice.sip.caller_id import ANONYMOUS, CallerId
from callboard.voice.sip.uri import NameAddr, SipUri


def invite_with(caller_id: CallerId, from_: NameAddr | None = None) -> dict[str, str | None]:
    t = line()
    t.alice.invite(BOB_URI, sdp=OFFER, caller_id=caller_id, from_=from_)
    t.run()
    (call,) = t.bob_phone.calls
    headers = call.invite.headers
    return {name: headers.get(name) for name in ("From", "P-Asserted-Identity", "Privacy")}


def test_number_and_name_in_from_and_asserted() -> None:
    headers = invite_with(CallerId("+15551234567", "Acme Support"))
    assert headers["From"] is not None and headers["From"].startswith(
        '"Acme Support" <sip:+15551234567@192.0.2.1>;tag='
    )
    assert headers["P-Asserted-Identity"] == '"Acme Support" <sip:+15551234567@192.0.2.1>'
    assert headers["Privacy"] is None


def test_the_trunks_domain_and_no_assertion() -> None:
    headers = invite_with(CallerId("5551234567", host="sip.provider.example", asserted=False))
    assert headers["From"] is not None and headers["From"].startswith("<sip:5551234567@sip.provider.example>;tag=")
    assert headers["P-Asserted-Identity"] is None


def test_withheld_caller_is_anonymous_in_from_asserted_and_private() -> None:
    headers = invite_with(CallerId("+15551234567", "Acme", withheld=True))
    assert headers["From"] is not None
    assert headers["From"].startswith('"Anonymous" <sip:anonymous@anonymous.invalid>;tag=')
    assert headers["P-Asserted-Identity"] == '"Acme" <sip:+15551234567@192.0.2.1>'
    assert headers["Privacy"] == "id"


def test_an_explicit_from_wins_over_the_caller_ids() -> None:
    account = NameAddr(SipUri("sip.provider.example", "account42"))
    headers = invite_with(CallerId("+15551234567", withheld=True), from_=account)
    assert headers["From"] is not None and headers["From"].startswith("<sip:account42@sip.provider.example>;tag=")
    assert (headers["P-Asserted-Identity"], headers["Privacy"]) == ("<sip:+15551234567@192.0.2.1>", "id")


def test_without_a_caller_id_nothing_changes() -> None:
    t = line()
    t.alice.invite(BOB_URI, sdp=OFFER)
    t.run()
    (call,) = t.bob_phone.calls
    assert "P-Asserted-Identity" not in call.invite.headers and "Privacy" not in call.invite.headers
    assert str(call.invite.headers.from_.uri) == "sip:alice@192.0.2.1"  # type: ignore[union-attr]


def test_the_caller_id_an_incoming_invite_presents() -> None:
    request = make_request()
    assert CallerId.of_request(request) == CallerId("alice", "Alice", "atlanta.example.com", asserted=False)
    request.headers.add("P-Asserted-Identity", '"Bob Jones" <sip:+15550001111@trunk.example.net>')
    request.headers.add("P-Asserted-Identity", "<tel:+15550001111>")
    request.headers.add("Privacy", "id;critical")
    assert CallerId.of_request(request) == CallerId(
        "+15550001111", "Bob Jones", "trunk.example.net", asserted=True, withheld=True
    )
    untrusted = CallerId.of_request(request, trust_asserted=False)
    assert untrusted is not None and (untrusted.number, untrusted.asserted) == ("alice", False)


def test_an_anonymous_or_tel_caller() -> None:
    request = make_request()
    request.headers.set("From", f"{ANONYMOUS};tag=x")
    assert CallerId.of_request(request, trust_asserted=False) is None
    request.headers.add("P-Asserted-Identity", "<tel:+15550001111>")
    assert CallerId.of_request(request) == CallerId("+15550001111", None, None, asserted=True)


def test_a_caller_id_needs_a_number() -> None:
    with pytest.raises(ValueError):
        CallerId("")
