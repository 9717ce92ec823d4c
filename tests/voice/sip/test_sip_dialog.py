"""Dialogs (RFC 3261 §12): creation on each side, states, CSeq spaces, target refresh, Request-URI and Route."""

from __future__ import annotations

import pytest
from sip_memory_link import make_request, respond

from callboard.core.errors import InvalidStateError
from callboard.voice.sip.dialog import Dialog, DialogId, DialogState
from callboard.voice.sip.message import Request, Response
from callboard.voice.sip.uri import SipUri


def invite() -> Request:
    request = make_request("INVITE", cseq=314)
    request.headers.add("Contact", "<sip:alice@pc33.atlanta.example.com>")
    request.headers.add("Record-Route", "<sip:p2.example.com;lr>, <sip:p1.example.com;lr>")
    return request


def ringing(request: Request, code: int = 180) -> Response:
    response = respond(request, code, to_tag="bobtag")
    response.headers.add("Contact", "<sip:bob@192.0.2.4>")
    for header in request.headers.fields("Record-Route"):
        response.headers.add(header.name, header.value)
    return response


def test_uas_dialog_from_an_invite() -> None:
    dialog = Dialog.for_uas(invite(), "bobtag")
    assert dialog.id == DialogId("3848276298220188511@atlanta.example.com", "bobtag", "9fxced76sl")
    assert dialog.id == DialogId.of_request(make_request("BYE", to_tag="bobtag"))
    assert dialog.state is DialogState.EARLY
    assert (dialog.remote_cseq, dialog.local_cseq) == (314, None)
    assert str(dialog.remote_target) == "sip:alice@pc33.atlanta.example.com"
    assert [str(r.uri.host) for r in dialog.route_set if isinstance(r.uri, SipUri)] == [
        "p2.example.com",
        "p1.example.com",
    ]
    assert str(dialog.local_uri) == '"Bob" <sip:bob@biloxi.example.com>'
    assert not dialog.secure


def test_uac_dialog_reverses_the_record_route() -> None:
    request = invite()
    dialog = Dialog.for_uac(request, ringing(request))
    assert dialog.id == DialogId("3848276298220188511@atlanta.example.com", "9fxced76sl", "bobtag")
    assert dialog.id == DialogId.of_response(ringing(request))
    assert [str(r.uri) for r in dialog.route_set] == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
    assert (dialog.local_cseq, dialog.state) == (314, DialogState.EARLY)
    # The 2xx sets the route set again and confirms (§12.1.2).
    ok = ringing(request, 200)
    ok.headers.remove("Record-Route")
    ok.headers.set("Contact", "<sip:bob@192.0.2.5>")
    dialog.confirm(ok)
    assert dialog.state is DialogState.CONFIRMED
    assert (dialog.route_set, str(dialog.remote_target)) == ([], "sip:bob@192.0.2.5")


def test_in_dialog_requests_count_up_and_the_ack_keeps_the_invite_number() -> None:
    request = invite()
    dialog = Dialog.for_uac(request, ringing(request, 200))
    bye = dialog.create_request("BYE")
    info = dialog.create_request("INFO", body=b"x", content_type="application/foo")
    ack = dialog.create_ack(314)
    assert [str(r.headers.cseq) for r in (bye, info, ack)] == ["315 BYE", "316 INFO", "314 ACK"]
    assert bye.headers.to is not None and bye.headers.to.tag == "bobtag"
    assert bye.headers.from_ is not None and bye.headers.from_.tag == "9fxced76sl"
    assert info.headers.get("Content-Type") == "application/foo" and info.body == b"x"
    assert "Contact" not in bye.headers
    for method in ("INVITE", "REFER", "NOTIFY"):
        assert (
            "Contact"
            in Dialog.for_uac(request, ringing(request), local_contact=request.headers.contact[0])
            .create_request(method)
            .headers
        )
    with pytest.raises(ValueError):
        dialog.create_request("ACK")


def test_remote_cseq_lower_is_500_and_target_refresh() -> None:
    dialog = Dialog.for_uas(invite(), "bobtag", confirmed=True)
    assert dialog.receive_request(make_request("INFO", cseq=315, to_tag="bobtag")) is None
    assert dialog.receive_request(make_request("INFO", cseq=300, to_tag="bobtag")) == 500
    assert dialog.receive_request(make_request("ACK", cseq=1, to_tag="bobtag")) is None
    assert dialog.remote_cseq == 315
    reinvite = make_request("INVITE", cseq=316, to_tag="bobtag")
    reinvite.headers.add("Contact", "<sip:alice@192.0.2.77>")
    dialog.refresh_target(reinvite)
    assert str(dialog.remote_target) == "sip:alice@192.0.2.77"


def test_strict_router_gets_the_request_uri() -> None:
    request = invite()
    request.headers.set("Record-Route", "<sip:strict.example.com;maddr=192.0.2.9;method=INVITE>")
    dialog = Dialog.for_uas(request, "bobtag")
    bye = dialog.create_request("BYE")
    assert str(bye.uri) == "sip:strict.example.com;maddr=192.0.2.9"
    assert bye.headers.get_all("Route") == ["<sip:alice@pc33.atlanta.example.com>"]
    assert str(dialog.next_hop) == "sip:strict.example.com;maddr=192.0.2.9;method=INVITE"


def test_states_move_forward_only() -> None:
    dialog = Dialog.for_uas(invite(), "bobtag")
    dialog.confirm()
    dialog.terminate()
    with pytest.raises(InvalidStateError):
        dialog.confirm()
    with pytest.raises(InvalidStateError):
        dialog.create_request("INFO")
    assert dialog.create_request("BYE").method == "BYE"


def test_sips_request_uri_makes_a_secure_dialog() -> None:
    request = invite()
    request.uri = SipUri("biloxi.example.com", "bob", scheme="sips")
    assert Dialog.for_uas(request, "bobtag").secure


def test_a_dialog_needs_a_contact() -> None:
    request = make_request("INVITE")
    with pytest.raises(ValueError, match="Contact"):
        Dialog.for_uas(request, "bobtag")
