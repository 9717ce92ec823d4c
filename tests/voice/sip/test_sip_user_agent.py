"""The UAS core's answers (RFC 3261 §8.2, §11, §12.2.2) and route sets learnt from Record-Route (§12.1)."""

from __future__ import annotations

from sip_memory_link import make_request
from sip_phones import ANSWER, BOB_URI, OFFER, Line, line

from callboard.voice.sip.bindings import MemoryBindingStore
from callboard.voice.sip.message import Request, Response
from callboard.voice.sip.registrar import Registrar
from callboard.voice.sip.transport_port import Destination, Transport
from callboard.voice.sip.uri import AbsoluteUri
from callboard.voice.sip.user_agent import UserAgent

ALICE = ("192.0.2.1", 5060)


def answer_to(request: Request) -> Response:
    t = line()
    t.bob.receive(request, t.bob_link, ALICE)
    t.run()
    (_, response, _), *_ = t.bob_link.sent
    assert isinstance(response, Response)
    return response


def test_options_gets_200_with_allow_accept_and_supported() -> None:
    response = answer_to(make_request("OPTIONS"))
    assert response.status_code == 200
    assert response.headers.get("Allow") == "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY"
    assert response.headers.get("Accept") == "application/sdp"
    assert response.headers.get("Supported") == "replaces"
    assert response.headers.to is not None and response.headers.to.tag


def test_unknown_method_gets_405_with_allow() -> None:
    response = answer_to(make_request("SUBSCRIBE"))
    assert response.status_code == 405
    assert response.headers.get("Allow") == "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY"


def test_in_dialog_request_for_no_dialog_gets_481() -> None:
    assert answer_to(make_request("BYE", to_tag="nosuchdialog")).status_code == 481
    assert answer_to(make_request("INVITE", to_tag="nosuchdialog")).status_code == 481
    assert answer_to(make_request("BYE")).status_code == 481  # a BYE outside any dialog


def test_refer_and_notify_outside_a_dialog_are_refused() -> None:
    assert answer_to(make_request("REFER")).status_code == 403
    assert answer_to(make_request("NOTIFY")).status_code == 481  # RFC 6665: no such subscription
    assert answer_to(make_request("REFER", to_tag="nosuchdialog")).status_code == 481


def test_require_replaces_is_supported_and_the_owners_extensions_are_added() -> None:
    request = make_request("OPTIONS")
    request.headers.add("Require", "replaces")
    assert answer_to(request).status_code == 200
    t = line()
    ua = UserAgent(t.bob_phone, scheduler=t.scheduler, clock=t.scheduler.clock, supported=["timer", "replaces"])
    assert ua.supported == ("replaces", "timer")


def test_cancel_for_no_invite_gets_481() -> None:
    assert answer_to(make_request("CANCEL")).status_code == 481


def test_unsupported_uri_scheme_gets_416() -> None:
    request = make_request("OPTIONS")
    request.uri = AbsoluteUri("mailto", "bob@biloxi.example.com")
    assert answer_to(request).status_code == 416


def test_max_forwards_zero_gets_483() -> None:
    request = make_request("INVITE")
    request.headers.set("Max-Forwards", "0")
    assert answer_to(request).status_code == 483


def test_unsupported_require_gets_420() -> None:
    request = make_request("INVITE")
    request.headers.add("Require", "100rel")
    response = answer_to(request)
    assert (response.status_code, response.headers.get("Unsupported")) == (420, "100rel")


def test_record_route_sets_both_route_sets_and_the_bye_routes() -> None:
    t = line()
    # Alice -> p1 -> p2 -> Bob: p2 added its Record-Route last, on top.
    record_route = ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]

    def through_proxies(message: Request | Response, transport: Transport, source: Destination) -> None:
        if isinstance(message, Request) and message.method == "INVITE":
            for value in record_route:
                message.headers.add("Record-Route", value)
        t.bob.receive(message, transport, source)

    t.bob_link.receiver = through_proxies
    t.bob_phone.on_incoming = lambda call: call.answer(ANSWER)
    call = t.alice.invite(BOB_URI, sdp=OFFER)
    t.run()
    (incoming,) = t.bob_phone.calls
    assert call.dialog is not None and incoming.dialog is not None
    assert [str(r.uri) for r in incoming.dialog.route_set] == ["sip:p2.example.com;lr", "sip:p1.example.com;lr"]
    assert [str(r.uri) for r in call.dialog.route_set] == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
    ok = next(m for _, m, _ in t.bob_link.sent if isinstance(m, Response) and m.status_code == 200)
    assert ok.headers.get_all("Record-Route") == record_route  # copied into the 2xx (§12.1.1)

    call.hangup()
    incoming_bye = [m for _, m, d in t.alice_link.sent if isinstance(m, Request) and m.method == "BYE"]
    (bye,) = incoming_bye
    assert str(bye.uri) == "sip:bob@192.0.2.2:5060"  # loose routing: the remote target stays the Request-URI
    assert bye.headers.get_all("Route") == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    assert t.alice_link.sent[-1][2] == ("p1.example.com", 5060)  # sent to the first route
    # The ACK followed the same route.
    ack = next(m for _, m, _ in t.alice_link.sent if isinstance(m, Request) and m.method == "ACK")
    assert ack.headers.get_all("Route") == bye.headers.get_all("Route")


def test_register_goes_to_the_registrar_and_is_allowed_then() -> None:
    t = line()
    t.bob.registrar = Registrar(MemoryBindingStore(t.scheduler.clock), t.scheduler.clock, domains=None)
    request = make_request("REGISTER")
    request.headers.set("Contact", "<sip:alice@192.0.2.1:5060>")
    request.headers.set("Expires", "600")
    t.bob.receive(request, t.bob_link, ALICE)
    t.run()
    (_, response, _), *_ = t.bob_link.sent
    assert isinstance(response, Response) and response.status_code == 200
    assert response.headers.get("Contact") == "<sip:alice@192.0.2.1:5060>;expires=600"
    assert "REGISTER" in (answer_to_ua(t, make_request("OPTIONS")).headers.get("Allow") or "")


def test_register_without_a_registrar_gets_405() -> None:
    assert answer_to(make_request("REGISTER")).status_code == 405


def test_overloaded_node_answers_new_invites_503_with_retry_after() -> None:
    t = line()
    load = {"busy": True}
    t.bob.admit = lambda: 5 if load["busy"] else None
    response = answer_to_ua(t, make_request("INVITE"))
    assert (response.status_code, response.headers.get("Retry-After")) == (503, "5")
    assert t.bob.refused == 1 and t.bob_phone.calls == []
    load["busy"] = False
    t.bob.receive(make_request("INVITE", "z9hG4bKsecond", call_id="second-call"), t.bob_link, ALICE)
    t.run()
    assert len(t.bob_phone.calls) == 1 and t.bob.refused == 1


def answer_to_ua(t: Line, request: Request) -> Response:
    t.bob_link.sent.clear()
    t.bob.receive(request, t.bob_link, ALICE)
    t.run()
    (_, response, _), *_ = t.bob_link.sent
    assert isinstance(response, Response)
    return response


def test_authorize_refuses_a_new_invite_or_names_who_placed_it() -> None:
    t = line()
    verdicts: dict[str, Response | str | None] = {}

    def authorize(request: Request) -> Response | str | None:
        return verdicts.get(request.headers.call_id or "")

    t.bob.authorize = authorize
    challenged = make_request("INVITE", "z9hG4bKone", call_id="one")
    verdicts["one"] = Response.for_request(challenged, 401, to_tag="x")
    assert answer_to_ua(t, challenged).status_code == 401 and t.bob_phone.calls == []
    verdicts["two"] = "alice"
    t.bob.receive(make_request("INVITE", "z9hG4bKtwo", call_id="two"), t.bob_link, ALICE)
    t.bob.receive(make_request("INVITE", "z9hG4bKthree", call_id="three"), t.bob_link, ALICE)
    t.run()
    assert [call.authenticated_user for call in t.bob_phone.calls] == ["alice", None]


def test_a_retransmitted_invite_in_a_new_transaction_reaches_the_same_call_and_refused_calls_are_forgotten() -> None:
    t = line()
    t.bob_phone.on_incoming = lambda call: call.answer(ANSWER)
    first = make_request("INVITE", "z9hG4bKfirst", call_id="kept")
    first.headers.add("Contact", "<sip:alice@192.0.2.1:5060>")
    t.bob.receive(first, t.bob_link, ALICE)
    t.run()
    # The same INVITE (Call-ID, From tag, CSeq) in a new transaction: the call it made answers again (RFC 6026).
    retransmitted = make_request("INVITE", "z9hG4bKagain", call_id="kept")
    retransmitted.headers.add("Contact", "<sip:alice@192.0.2.1:5060>")
    again = answer_to_ua(t, retransmitted)
    assert again.status_code == 200 and len(t.bob_phone.calls) == 1
    t.bob_phone.on_incoming = lambda call: call.reject(486)
    assert answer_to_ua(t, make_request("INVITE", "z9hG4bKbusy", call_id="busy")).status_code == 486
    t.run(64 * 0.5 + 1)  # the refused INVITE's transaction ends; nothing of it is left to match
    assert answer_to_ua(t, make_request("INVITE", "z9hG4bKlater", call_id="busy")).status_code == 486
    assert len(t.bob_phone.calls) == 3
