"""The transaction layer: §17.1.3 / §17.2.3 matching, CANCEL, ACK of 2xx, stray responses, lossy links."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from sip_memory_link import MemoryTransport, RecordingUser, make_request, memory_pair, respond

from callboard.voice.sip.message import Request
from callboard.voice.sip.scheduler import VirtualScheduler
from callboard.voice.sip.server_transaction import InviteServerTransaction, ServerTransaction
from callboard.voice.sip.transaction import TransactionState
from callboard.voice.sip.transaction_layer import TransactionLayer, new_branch

S = TransactionState
ALICE = ("192.0.2.1", 5060)


def server() -> tuple[VirtualScheduler, MemoryTransport, RecordingUser, TransactionLayer]:
    scheduler = VirtualScheduler()
    transport = MemoryTransport(scheduler, ("192.0.2.2", 5060))
    user = RecordingUser(scheduler)
    return scheduler, transport, user, TransactionLayer(user, scheduler=scheduler, clock=scheduler.clock)


def test_new_branch_has_the_magic_cookie_and_is_unique() -> None:
    assert new_branch().startswith("z9hG4bK")
    assert new_branch() != new_branch()


def test_retransmitted_request_is_absorbed_by_its_server_transaction() -> None:
    _scheduler, transport, user, layer = server()
    layer.receive(make_request("OPTIONS"), transport, ALICE)
    layer.receive(make_request("OPTIONS"), transport, ALICE)
    assert user.names() == ["request"]
    assert len(layer) == 1
    # Another sent-by, another method or another branch is another transaction (§17.2.3).
    layer.receive(make_request("OPTIONS", sent_by="192.0.2.9:5060"), transport, ALICE)
    layer.receive(make_request("INFO"), transport, ALICE)
    layer.receive(make_request("OPTIONS", "z9hG4bKother"), transport, ALICE)
    assert len(layer) == 4


def test_terminated_transactions_are_forgotten() -> None:
    scheduler, transport, user, layer = server()
    user.answer = lambda tx, request: tx.send_response(respond(request, 200))
    layer.receive(make_request("OPTIONS"), transport, ALICE)
    assert len(layer) == 1
    scheduler.advance(32)
    assert len(layer) == 0


def test_ack_of_a_non_2xx_matches_the_invite_server_transaction() -> None:
    _scheduler, transport, user, layer = server()
    user.answer = lambda tx, request: tx.send_response(respond(request, 486))
    layer.receive(make_request(), transport, ALICE)
    layer.receive(make_request("ACK", to_tag="8321234356"), transport, ALICE)
    (tx,) = user.server_transactions
    assert tx.state is S.CONFIRMED
    assert "ack" not in user.names()


def test_ack_of_a_2xx_goes_to_the_core() -> None:
    _scheduler, transport, user, layer = server()
    user.answer = lambda tx, request: tx.send_response(respond(request, 200))
    layer.receive(make_request(), transport, ALICE)
    # The 2xx ACK is a new transaction with its own branch (§17.1.1.3); none matches it.
    layer.receive(make_request("ACK", "z9hG4bKack2xx", to_tag="8321234356"), transport, ALICE)
    assert user.names() == ["request", "ack"]
    assert len(layer) == 1  # the INVITE transaction, Accepted until timer L (RFC 6026)


def test_an_ack_matching_an_accepted_transaction_goes_to_the_core() -> None:
    _scheduler, transport, user, layer = server()
    user.answer = lambda tx, request: tx.send_response(respond(request, 200))
    layer.receive(make_request(branch=""), transport, ALICE)
    # An RFC 2543 peer's ACK of the 2xx matches the INVITE's transaction; RFC 6026 §7.1 passes it up.
    layer.receive(make_request("ACK", branch="", to_tag="8321234356"), transport, ALICE)
    layer.receive(make_request(branch=""), transport, ALICE)  # the INVITE again: absorbed
    assert user.names() == ["request", "ack"]
    assert user.server_transactions[0].state is S.ACCEPTED
    assert transport.sent_lines() == ["SIP/2.0 200 OK"]


def test_cancel_gets_its_own_transaction_and_finds_the_invite() -> None:
    _scheduler, transport, user, layer = server()
    layer.receive(make_request(), transport, ALICE)
    cancel = make_request("CANCEL")
    layer.receive(cancel, transport, ALICE)
    invite_tx, cancel_tx = user.server_transactions
    assert cancel_tx is not invite_tx
    assert layer.find_cancelled(cancel) is invite_tx
    assert isinstance(invite_tx, InviteServerTransaction)
    assert layer.find_cancelled(make_request("CANCEL", "z9hG4bKnope")) is None


def test_rfc_2543_requests_match_without_the_magic_cookie() -> None:
    _scheduler, transport, user, layer = server()
    user.answer = lambda tx, request: tx.send_response(respond(request, 404))
    old = make_request(branch="")
    layer.receive(old, transport, ALICE)
    layer.receive(make_request(branch=""), transport, ALICE)
    assert user.names() == ["request"]
    assert transport.sent_lines() == ["SIP/2.0 404 Not Found"] * 2
    # An ACK with another To tag acknowledges some other response: it goes to the core.
    layer.receive(make_request("ACK", branch="", to_tag="elsewhere"), transport, ALICE)
    assert user.names() == ["request", "ack"]
    layer.receive(make_request("ACK", branch="", to_tag="8321234356"), transport, ALICE)
    assert user.server_transactions[0].state is S.CONFIRMED


def test_responses_match_by_branch_and_cseq_method_and_strays_go_to_the_core() -> None:
    scheduler = VirtualScheduler()
    transport = MemoryTransport(scheduler, ALICE)
    user = RecordingUser(scheduler)
    layer = TransactionLayer(user, scheduler=scheduler, clock=scheduler.clock)
    invite = make_request()
    tx = layer.send_request(invite, transport, ("192.0.2.2", 5060), user)
    layer.receive(respond(make_request("CANCEL"), 200), transport, ("192.0.2.2", 5060))
    assert user.names() == ["stray_response"]
    layer.receive(respond(invite, 200), transport, ("192.0.2.2", 5060))
    assert tx.state is S.ACCEPTED and len(layer) == 1
    layer.receive(respond(invite, 200), transport, ("192.0.2.2", 5060))  # the 2xx retransmitted, through the tx
    assert user.names() == ["stray_response", "response", "response"]
    scheduler.advance(32)  # timer M
    assert tx.state is S.TERMINATED and len(layer) == 0
    layer.receive(respond(invite, 200), transport, ("192.0.2.2", 5060))  # now it matches nothing
    assert user.names() == ["stray_response", "response", "response", "terminated", "stray_response"]


def test_send_request_needs_an_rfc_3261_branch() -> None:
    _scheduler, transport, user, layer = server()
    with pytest.raises(ValueError, match="z9hG4bK"):
        layer.send_request(make_request(branch="old"), transport, ALICE, user)


def _link(
    *, reliable: bool = False, latency: float = 0.01
) -> tuple[VirtualScheduler, MemoryTransport, MemoryTransport, RecordingUser, RecordingUser, TransactionLayer]:
    scheduler = VirtualScheduler()
    a, b = memory_pair(scheduler, reliable=reliable, latency=latency)
    alice, bob = RecordingUser(scheduler), RecordingUser(scheduler)
    branches = (f"z9hG4bK{n}" for n in itertools.count())
    uac = TransactionLayer(alice, scheduler=scheduler, clock=scheduler.clock, branch_factory=lambda: next(branches))
    uas = TransactionLayer(bob, scheduler=scheduler, clock=scheduler.clock)
    a.receiver, b.receiver = uac.receive, uas.receive
    return scheduler, a, b, alice, bob, uac


def _answer_later(
    scheduler: VirtualScheduler, code: int, delay: float = 1.0
) -> Callable[[ServerTransaction, Request], None]:
    def answer(tx: ServerTransaction, request: Request) -> None:
        scheduler.call_later(delay, lambda: tx.send_response(respond(request, code)))

    return answer


@pytest.mark.parametrize("lost", [0, 1, 3])
def test_invite_rejected_over_a_lossy_link_still_completes(lost: int) -> None:
    scheduler, a, b, alice, bob, uac = _link()
    a.drop_first(lost)  # the INVITE and its first retransmissions are lost
    b.drop = lambda index, message: index == 1  # and so is the first 486 (after the 100 Trying)
    bob.answer = _answer_later(scheduler, 486)
    tx = uac.send_request(make_request(branch=uac.new_branch()), a, b.address, alice)
    scheduler.advance(60)
    assert [p for _, n, p in alice.events if n == "response"] == [100, 486]
    assert b.sent_lines()[:3] == ["SIP/2.0 100 Trying", "SIP/2.0 486 Busy Here", "SIP/2.0 486 Busy Here"]
    assert "timeout" not in alice.names() and "timeout" not in bob.names()
    assert tx.state is S.TERMINATED
    assert bob.server_transactions[0].state is S.TERMINATED
    assert "ACK sip:bob@biloxi.example.com SIP/2.0" in a.sent_lines()
    assert bob.names() == ["request", "terminated"]


def test_non_invite_over_a_lossy_link_still_completes() -> None:
    scheduler, a, b, alice, bob, uac = _link()
    a.drop_first(2)
    b.drop_first(1)
    bob.answer = lambda tx, request: tx.send_response(respond(request, 200))
    tx = uac.send_request(make_request("OPTIONS", uac.new_branch()), a, b.address, alice)
    scheduler.advance(60)
    assert [p for _, n, p in alice.events if n == "response"] == [200]
    assert a.sent_lines().count("OPTIONS sip:bob@biloxi.example.com SIP/2.0") == 4
    assert tx.state is S.TERMINATED and len(uac) == 0


def test_reliable_link_sends_every_message_once() -> None:
    scheduler, a, b, alice, bob, uac = _link(reliable=True)
    bob.answer = _answer_later(scheduler, 480, delay=5)
    uac.send_request(make_request(branch=uac.new_branch()), a, b.address, alice)
    scheduler.advance(60)
    assert a.sent_lines() == ["INVITE sip:bob@biloxi.example.com SIP/2.0", "ACK sip:bob@biloxi.example.com SIP/2.0"]
    assert b.sent_lines() == ["SIP/2.0 100 Trying", "SIP/2.0 480 Temporarily Unavailable"]
    assert alice.names() == ["response", "response", "terminated"]


def test_server_gives_up_when_every_ack_is_lost() -> None:
    scheduler, a, b, alice, bob, uac = _link()
    bob.answer = lambda tx, request: tx.send_response(respond(request, 486))
    a.drop = lambda index, message: isinstance(message, Request) and message.method == "ACK"
    uac.send_request(make_request(branch=uac.new_branch()), a, b.address, alice)
    scheduler.advance(60)
    assert bob.names() == ["request", "timeout", "terminated"]
    assert b.sent_lines().count("SIP/2.0 486 Busy Here") == 11
