"""Via at the transport layer: received/rport stamping (§18.2.1, RFC 3581) and response routing (§18.2.2)."""

from __future__ import annotations

from sip_transport_peers import request

from callboard.voice.sip.fields import Via
from callboard.voice.sip.transports import response_destination, stamp_received
from callboard.voice.sip.transports.via import replace_top_via

SOURCE = ("198.51.100.7", 40123)


def test_received_is_added_when_the_source_differs_from_sent_by() -> None:
    message = request(via="SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776")
    via = stamp_received(message, SOURCE)
    assert str(via) == "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;received=198.51.100.7"
    assert message.headers.get("Via") == str(via)


def test_nothing_changes_when_sent_by_is_the_source_and_rport_is_absent() -> None:
    message = request(via="SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK776")
    stamp_received(message, SOURCE)
    assert message.headers.get("Via") == "SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK776"


def test_a_domain_name_in_sent_by_always_gets_received() -> None:
    message = request(via="SIP/2.0/TCP pc33.atlanta.example;branch=z9hG4bK776")
    assert stamp_received(message, SOURCE) == Via(
        "TCP", "pc33.atlanta.example", None, (("branch", "z9hG4bK776"), ("received", "198.51.100.7"))
    )


def test_an_empty_rport_is_filled_and_received_added_even_when_equal() -> None:
    message = request(via="SIP/2.0/UDP 198.51.100.7:5060;rport;branch=z9hG4bK776")
    via = stamp_received(message, SOURCE)
    assert via is not None and via.rport == 40123 and via.received == "198.51.100.7"
    assert str(via) == "SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK776;rport=40123;received=198.51.100.7"


def test_only_the_top_via_is_stamped_and_other_fields_keep_their_place() -> None:
    message = request(via="SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1, SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2")
    message.headers.add("Via", "SIP/2.0/UDP 192.0.2.3;branch=z9hG4bK3")
    stamp_received(message, SOURCE)
    assert [h.name for h in message.headers][:2] == ["Via", "Max-Forwards"]
    assert [str(v) for v in message.headers.via] == [
        "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;received=198.51.100.7",
        "SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2",
        "SIP/2.0/UDP 192.0.2.3;branch=z9hG4bK3",
    ]


def test_inserting_a_via_puts_it_first() -> None:
    message = request(via="SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1")
    replace_top_via(message, Via("TLS", "192.0.2.9", 5061, (("branch", "z9hG4bKnew"),)), insert=True)
    assert [v.host for v in message.headers.via] == ["192.0.2.9", "192.0.2.1"]
    fresh = request()
    replace_top_via(fresh, Via("UDP", "192.0.2.9"), insert=True)
    assert next(iter(fresh.headers)).name == "Via"


def test_response_destination_follows_received_rport_then_sent_by_port() -> None:
    rport = Via.parse("SIP/2.0/UDP 10.0.0.1:5060;rport=40123;received=198.51.100.7")
    assert response_destination(rport, SOURCE) == ("198.51.100.7", 40123)
    received = Via.parse("SIP/2.0/UDP 10.0.0.1:5070;received=198.51.100.7")
    assert response_destination(received, SOURCE) == ("198.51.100.7", 5070)
    plain = Via.parse("SIP/2.0/UDP 198.51.100.7")
    assert response_destination(plain, SOURCE) == ("198.51.100.7", 5060)
    maddr = Via.parse("SIP/2.0/UDP 10.0.0.1;maddr=239.255.255.1")
    assert response_destination(maddr, SOURCE) == ("239.255.255.1", 5060)
    assert response_destination(Via.parse("SIP/2.0/TLS h.example;received=::1"), SOURCE) == ("::1", 5061)
