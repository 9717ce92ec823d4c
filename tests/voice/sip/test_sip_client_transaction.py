"""Client transactions (RFC 3261 §17.1): timer A/B/D/E/F/K schedules, response handling, ACK of non-2xx."""

from __future__ import annotations

import pytest
from sip_memory_link import MemoryTransport, RecordingUser, make_request, respond

from callboard.core.errors import InvalidStateError
from callboard.voice.sip.client_transaction import ClientTransaction, InviteClientTransaction, build_ack
from callboard.voice.sip.scheduler import VirtualScheduler
from callboard.voice.sip.transaction import TimerSettings, TransactionState

S = TransactionState
PEER = ("192.0.2.2", 5060)


def start(
    method: str = "INVITE", *, reliable: bool = False, timers: TimerSettings | None = None
) -> tuple[VirtualScheduler, MemoryTransport, RecordingUser, ClientTransaction]:
    scheduler = VirtualScheduler()
    transport = MemoryTransport(scheduler, ("192.0.2.1", 5060), reliable)
    user = RecordingUser(scheduler)
    tx = ClientTransaction.create(
        make_request(method, route="<sip:p1.example.com;lr>"),
        transport,
        PEER,
        user,
        scheduler=scheduler,
        clock=scheduler.clock,
        timers=timers or TimerSettings(),
    )
    tx.start()
    return scheduler, transport, user, tx


def test_invite_timer_a_doubles_from_t1_and_timer_b_times_out_at_64_t1() -> None:
    scheduler, transport, user, tx = start()
    assert tx.state is S.CALLING
    scheduler.advance(40)
    assert transport.sent_times() == [0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert user.names() == ["timeout", "terminated"]
    assert user.events[0][0] == 32.0
    assert tx.state is S.TERMINATED
    assert scheduler.pending == 0


def test_invite_timers_follow_a_configured_t1() -> None:
    scheduler, transport, user, _ = start(timers=TimerSettings(t1=0.1))
    scheduler.advance(10)
    assert transport.sent_times() == [0, 0.1, 0.3, 0.7, 1.5, 3.1, 6.3]
    assert user.events[0][:2] == (6.4, "timeout")


def test_invite_provisional_stops_retransmissions_and_timer_b() -> None:
    scheduler, transport, user, tx = start()
    scheduler.advance(1.0)
    tx.receive_response(respond(tx.request, 180))
    scheduler.advance(120)
    assert transport.sent_times() == [0, 0.5]
    assert tx.state is S.PROCEEDING
    assert user.names() == ["response"]


def test_invite_2xx_is_passed_up_without_ack_and_accepted_until_timer_m() -> None:
    scheduler, transport, user, tx = start()
    tx.receive_response(respond(tx.request, 100))
    tx.receive_response(respond(tx.request, 200))
    assert tx.state is S.ACCEPTED  # RFC 6026 §8.4
    assert tx.running_timers == {"timer_m"}
    assert user.names() == ["response", "response"]
    # A retransmitted 2xx and another fork's 2xx reach the TU through the transaction; a late 486 does not.
    tx.receive_response(respond(tx.request, 200))
    tx.receive_response(respond(tx.request, 200, to_tag="otherfork"))
    tx.receive_response(respond(tx.request, 486))
    assert [payload for _, _, payload in user.events] == [100, 200, 200, 200]
    assert transport.sent_lines() == ["INVITE sip:bob@biloxi.example.com SIP/2.0"]  # the TU ACKs a 2xx, not us
    scheduler.advance(31.9)
    assert tx.state is S.ACCEPTED
    scheduler.advance(0.1)
    assert tx.state is S.TERMINATED
    assert user.names()[-1] == "terminated"


def test_invite_2xx_in_calling_stops_timer_a() -> None:
    scheduler, transport, _user, tx = start()
    tx.receive_response(respond(tx.request, 200))
    scheduler.advance(10)
    assert transport.sent_times() == [0]


def test_terminate_abandons_a_transaction_without_a_timeout() -> None:
    scheduler, transport, user, tx = start("OPTIONS")
    scheduler.advance(1.0)
    tx.terminate()
    assert tx.state is S.TERMINATED
    assert user.names() == ["terminated"]
    assert scheduler.pending == 0
    scheduler.advance(40)
    assert transport.sent_times() == [0, 0.5]  # no retransmission after it was abandoned
    tx.receive_response(respond(tx.request, 200))
    tx.terminate()  # twice is harmless
    assert user.names() == ["terminated"]


def test_terminate_an_invite_in_proceeding_sends_nothing() -> None:
    scheduler, transport, user, tx = start()
    tx.receive_response(respond(tx.request, 180))
    tx.terminate()
    scheduler.advance(60)
    assert transport.sent_times() == [0]
    assert user.names() == ["response", "terminated"]
    assert transport.sent_lines() == ["INVITE sip:bob@biloxi.example.com SIP/2.0"]


def test_invite_non_2xx_is_acked_per_17_1_1_3_and_retransmissions_reacked_until_timer_d() -> None:
    scheduler, transport, user, tx = start()
    busy = respond(tx.request, 486)
    tx.receive_response(busy)
    assert tx.state is S.COMPLETED
    assert user.names() == ["response"]
    _, ack, destination = transport.sent[-1]
    assert destination == PEER
    assert ack.start_line == "ACK sip:bob@biloxi.example.com SIP/2.0"
    assert ack.headers.via[0].branch == tx.branch
    assert len(ack.headers.via) == 1
    assert ack.headers.to is not None and ack.headers.to.tag == "8321234356"
    assert ack.headers.get("From") == tx.request.headers.get("From")
    assert ack.headers.get("Call-ID") == tx.request.headers.get("Call-ID")
    assert str(ack.headers.cseq) == "1 ACK"
    assert ack.headers.get_all("Route") == ["<sip:p1.example.com;lr>"]
    scheduler.advance(10)
    tx.receive_response(busy)
    assert transport.sent_lines().count("ACK sip:bob@biloxi.example.com SIP/2.0") == 2
    assert user.names() == ["response"]  # the retransmission is absorbed
    scheduler.advance(21.9)
    assert tx.state is S.COMPLETED
    scheduler.advance(0.1)
    assert tx.state is S.TERMINATED
    assert transport.sent_times("INVITE") == [0]


def test_build_ack_keeps_request_uri_and_cseq_number() -> None:
    invite = make_request(cseq=42)
    ack = build_ack(invite, respond(invite, 603))
    assert ack.uri == invite.uri
    assert str(ack.headers.cseq) == "42 ACK"
    assert ack.body == b""


def test_invite_over_reliable_transport_has_no_timer_a_and_timer_d_is_zero() -> None:
    scheduler, transport, user, tx = start(reliable=True)
    assert tx.running_timers == {"timer_b"}
    scheduler.advance(10)
    assert transport.sent_times() == [0]
    tx.receive_response(respond(tx.request, 404))
    assert tx.state is S.TERMINATED
    assert user.names() == ["response", "terminated"]
    assert transport.sent_lines()[-1].startswith("ACK")


def test_non_invite_timer_e_caps_at_t2_and_timer_f_times_out() -> None:
    scheduler, transport, user, tx = start("OPTIONS")
    assert tx.state is S.TRYING
    scheduler.advance(40)
    assert transport.sent_times() == [0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert user.events[0][:2] == (32.0, "timeout")
    assert tx.state is S.TERMINATED


def test_non_invite_proceeding_retransmits_every_t2() -> None:
    scheduler, transport, _user, tx = start("BYE")
    scheduler.advance(0.6)
    tx.receive_response(respond(tx.request, 100))
    assert tx.state is S.PROCEEDING
    scheduler.advance(10)
    # Timer E was armed for 1.5 s before the 1xx; then it stays at T2.
    assert transport.sent_times() == [0, 0.5, 1.5, 5.5, 9.5]


def test_non_invite_final_response_completes_and_timer_k_absorbs_retransmissions() -> None:
    scheduler, transport, user, tx = start("REGISTER")
    ok = respond(tx.request, 200)
    tx.receive_response(ok)
    assert tx.state is S.COMPLETED
    assert tx.running_timers == {"timer_k"}
    tx.receive_response(ok)
    assert user.names() == ["response"]
    scheduler.advance(4.9)
    assert tx.state is S.COMPLETED
    scheduler.advance(0.1)
    assert tx.state is S.TERMINATED
    assert transport.sent_times() == [0]


def test_non_invite_reliable_has_no_timer_e_and_timer_k_is_zero() -> None:
    scheduler, transport, _user, tx = start("OPTIONS", reliable=True)
    scheduler.advance(20)
    assert transport.sent_times() == [0]
    tx.receive_response(respond(tx.request, 200))
    assert tx.state is S.TERMINATED


def test_transport_error_terminates_and_is_reported() -> None:
    scheduler = VirtualScheduler()
    transport = MemoryTransport(scheduler, ("192.0.2.1", 5060), fail=True)
    user = RecordingUser(scheduler)
    tx = ClientTransaction.create(make_request(), transport, PEER, user, scheduler=scheduler, clock=scheduler.clock)
    tx.start()
    assert user.names() == ["transport_error", "terminated"]
    assert scheduler.pending == 0


def test_illegal_transition_raises_invalid_state_naming_the_state() -> None:
    scheduler, _transport, _user, tx = start()
    tx.receive_response(respond(tx.request, 486))
    with pytest.raises(InvalidStateError, match="Completed") as info:
        tx._set_state(S.PROCEEDING)
    assert info.value.details["state"] == "Completed"
    with pytest.raises(InvalidStateError, match="Completed"):
        tx.start()
    scheduler.advance(32)
    with pytest.raises(InvalidStateError, match="Terminated"):
        tx._set_state(S.TERMINATED)


def test_ack_has_no_client_transaction() -> None:
    scheduler = VirtualScheduler()
    transport = MemoryTransport(scheduler, ("192.0.2.1", 5060))
    with pytest.raises(ValueError, match="ACK"):
        InviteClientTransaction(
            make_request("ACK"), transport, PEER, RecordingUser(scheduler), scheduler=scheduler, clock=scheduler.clock
        )


def test_a_non_2xx_is_acked_before_the_tu_hears_of_it() -> None:
    _scheduler, transport, user, tx = start()
    on_the_wire: list[str] = []
    user.on_response = lambda tx, response: on_the_wire.extend(transport.sent_lines())  # type: ignore[method-assign]
    tx.receive_response(respond(tx.request, 407))
    assert [line.split(" ")[0] for line in on_the_wire] == ["INVITE", "ACK"]  # Figure 5: send ACK, resp. to TU
