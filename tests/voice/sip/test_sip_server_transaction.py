"""Server transactions (RFC 3261 §17.2) and the TU's 2xx retransmissions (§13.3.1.4)."""

from __future__ import annotations

import pytest
from sip_memory_link import MemoryTransport, RecordingUser, make_request, respond

from callboard.core.errors import InvalidStateError
from callboard.voice.sip.ok_retransmitter import OkRetransmitter
from callboard.voice.sip.scheduler import VirtualScheduler
from callboard.voice.sip.server_transaction import ServerTransaction
from callboard.voice.sip.transaction import TransactionState

S = TransactionState
PEER = ("192.0.2.1", 5060)


def start(
    method: str = "INVITE", *, reliable: bool = False
) -> tuple[VirtualScheduler, MemoryTransport, RecordingUser, ServerTransaction]:
    scheduler = VirtualScheduler()
    transport = MemoryTransport(scheduler, ("192.0.2.2", 5060), reliable)
    user = RecordingUser(scheduler)
    tx = ServerTransaction.create(
        make_request(method), transport, PEER, user, scheduler=scheduler, clock=scheduler.clock
    )
    tx.start()
    return scheduler, transport, user, tx


def test_invite_sends_100_trying_when_the_tu_is_silent_for_200_ms() -> None:
    scheduler, transport, user, tx = start()
    assert user.names() == ["request"]
    assert tx.state is S.PROCEEDING
    scheduler.advance(0.19)
    assert transport.sent == []
    scheduler.advance(0.01)
    assert transport.sent_lines() == ["SIP/2.0 100 Trying"]
    assert transport.sent_times() == [0.2]


def test_invite_no_100_trying_when_the_tu_answers_in_time() -> None:
    scheduler, transport, _user, tx = start()
    scheduler.advance(0.1)
    tx.send_response(respond(tx.request, 180))
    scheduler.advance(1)
    assert transport.sent_lines() == ["SIP/2.0 180 Ringing"]


def test_invite_retransmission_gets_the_last_provisional_again() -> None:
    _scheduler, transport, user, tx = start()
    tx.send_response(respond(tx.request, 180))
    tx.send_response(respond(tx.request, 183))
    tx.receive_request(make_request())
    assert transport.sent_lines() == [
        "SIP/2.0 180 Ringing",
        "SIP/2.0 183 Session Progress",
        "SIP/2.0 183 Session Progress",
    ]
    assert user.names() == ["request"]


def test_invite_2xx_is_accepted_until_timer_l_and_absorbs_retransmitted_invites() -> None:
    scheduler, transport, user, tx = start()
    ok = respond(tx.request, 200)
    tx.send_response(ok)
    assert tx.state is S.ACCEPTED  # RFC 6026 §7.1
    assert tx.running_timers == {"timer_l"}
    tx.receive_request(make_request())  # a retransmitted INVITE: neither answered nor passed up
    assert transport.sent_lines() == ["SIP/2.0 200 OK"]
    tx.send_response(ok)  # the TU retransmitting its 2xx goes through
    assert transport.sent_lines() == ["SIP/2.0 200 OK"] * 2
    with pytest.raises(InvalidStateError, match="Accepted"):
        tx.send_response(respond(tx.request, 486))
    scheduler.advance(31.9)
    assert tx.state is S.ACCEPTED
    scheduler.advance(0.1)
    assert tx.state is S.TERMINATED
    assert user.names() == ["request", "terminated"]
    assert scheduler.pending == 0


def test_invite_2xx_timer_l_runs_on_reliable_transports_too() -> None:
    scheduler, _transport, _user, tx = start(reliable=True)
    tx.send_response(respond(tx.request, 200))
    scheduler.advance(31.9)
    assert tx.state is S.ACCEPTED
    scheduler.advance(0.1)
    assert tx.state is S.TERMINATED


def test_invite_2xx_that_cannot_be_sent_terminates() -> None:
    scheduler, transport, user, tx = start()
    transport.fail = True
    tx.send_response(respond(tx.request, 200))
    assert tx.state is S.TERMINATED
    assert user.names() == ["request", "transport_error", "terminated"]
    assert scheduler.pending == 0


def test_invite_non_2xx_timer_g_doubles_to_t2_and_timer_h_times_out() -> None:
    scheduler, transport, user, tx = start()
    tx.send_response(respond(tx.request, 486))
    assert tx.state is S.COMPLETED
    scheduler.advance(40)
    assert transport.sent_times() == [0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert user.names() == ["request", "timeout", "terminated"]
    assert user.events[1][0] == 32.0


def test_invite_retransmission_in_completed_gets_the_final_response() -> None:
    _scheduler, transport, _user, tx = start()
    tx.send_response(respond(tx.request, 404))
    tx.receive_request(make_request())
    assert transport.sent_lines() == ["SIP/2.0 404 Not Found"] * 2


def test_invite_ack_confirms_and_timer_i_absorbs_acks() -> None:
    scheduler, transport, user, tx = start()
    tx.send_response(respond(tx.request, 486))
    scheduler.advance(1.0)
    tx.receive_request(make_request("ACK", to_tag="8321234356"))
    assert tx.state is S.CONFIRMED
    assert tx.running_timers == {"timer_i"}
    tx.receive_request(make_request("ACK", to_tag="8321234356"))
    tx.receive_request(make_request())
    scheduler.advance(4.9)
    assert tx.state is S.CONFIRMED
    scheduler.advance(0.1)
    assert tx.state is S.TERMINATED
    assert transport.sent_times() == [0, 0.5]
    assert user.names() == ["request", "terminated"]


def test_invite_reliable_has_no_timer_g_and_timer_i_is_zero() -> None:
    scheduler, transport, _user, tx = start(reliable=True)
    tx.send_response(respond(tx.request, 603))
    assert tx.running_timers == {"timer_h"}
    scheduler.advance(10)
    assert transport.sent_times() == [0]
    tx.receive_request(make_request("ACK", to_tag="8321234356"))
    assert tx.state is S.TERMINATED


def test_non_invite_trying_proceeding_completed_and_timer_j() -> None:
    scheduler, transport, _user, tx = start("OPTIONS")
    assert tx.state is S.TRYING
    tx.receive_request(make_request("OPTIONS"))
    assert transport.sent == []  # nothing to answer a retransmission with yet
    tx.send_response(respond(tx.request, 100))
    assert tx.state is S.PROCEEDING
    tx.receive_request(make_request("OPTIONS"))
    tx.send_response(respond(tx.request, 200))
    assert tx.state is S.COMPLETED
    tx.receive_request(make_request("OPTIONS"))
    assert transport.sent_lines() == ["SIP/2.0 100 Trying"] * 2 + ["SIP/2.0 200 OK"] * 2
    scheduler.advance(31.9)
    assert tx.state is S.COMPLETED
    scheduler.advance(0.1)
    assert tx.state is S.TERMINATED


def test_non_invite_reliable_timer_j_is_zero() -> None:
    _scheduler, _transport, _user, tx = start("BYE", reliable=True)
    tx.send_response(respond(tx.request, 200))
    assert tx.state is S.TERMINATED


def test_responding_twice_with_a_final_raises_invalid_state_naming_it() -> None:
    _, _, _, tx = start("OPTIONS")
    tx.send_response(respond(tx.request, 200))
    with pytest.raises(InvalidStateError, match="Completed"):
        tx.send_response(respond(tx.request, 500))
    scheduler, _transport, _user, tx = start()
    tx.send_response(respond(tx.request, 200))
    scheduler.advance(32)
    with pytest.raises(InvalidStateError, match="Terminated"):
        tx.send_response(respond(tx.request, 200))


def test_illegal_server_transition_raises() -> None:
    _scheduler, _transport, _user, tx = start()
    with pytest.raises(InvalidStateError, match="from Proceeding to Confirmed"):
        tx._set_state(S.CONFIRMED)


def test_transport_error_on_a_final_response_terminates() -> None:
    scheduler, transport, user, tx = start()
    transport.fail = True
    tx.send_response(respond(tx.request, 500))
    assert tx.state is S.TERMINATED
    assert user.names() == ["request", "transport_error", "terminated"]
    assert scheduler.pending == 0


def test_ok_retransmitter_doubles_to_t2_and_gives_up_after_64_t1() -> None:
    scheduler = VirtualScheduler()
    transport = MemoryTransport(scheduler, ("192.0.2.2", 5060))
    timeouts: list[float] = []
    ok = OkRetransmitter(
        respond(make_request(), 200),
        transport,
        PEER,
        scheduler=scheduler,
        clock=scheduler.clock,
        on_timeout=lambda r: timeouts.append(scheduler.now()),
    )
    ok.start()
    scheduler.advance(40)
    assert transport.sent_times() == [0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert len(timeouts) == 1
    assert not ok.running


def test_ok_retransmitter_stops_on_ack() -> None:
    scheduler = VirtualScheduler()
    transport = MemoryTransport(scheduler, ("192.0.2.2", 5060))
    ok = OkRetransmitter(respond(make_request(), 200), transport, PEER, scheduler=scheduler, clock=scheduler.clock)
    ok.start()
    scheduler.advance(2)
    ok.ack_received()
    scheduler.advance(60)
    assert transport.sent_times() == [0, 0.5, 1.5]
    assert ok.acknowledged and scheduler.pending == 0


def test_ok_retransmitter_reliable_sends_once() -> None:
    scheduler = VirtualScheduler()
    transport = MemoryTransport(scheduler, ("192.0.2.2", 5060), reliable=True)
    ok = OkRetransmitter(respond(make_request(), 200), transport, PEER, scheduler=scheduler, clock=scheduler.clock)
    ok.start()
    scheduler.advance(60)
    assert transport.sent_times() == [0]


def test_ok_retransmitter_refuses_non_2xx() -> None:
    scheduler = VirtualScheduler()
    transport = MemoryTransport(scheduler, ("192.0.2.2", 5060))
    with pytest.raises(ValueError, match="486"):
        OkRetransmitter(respond(make_request(), 486), transport, PEER, scheduler=scheduler, clock=scheduler.clock)


@pytest.mark.parametrize(("method", "status"), [("INVITE", 200), ("INVITE", 486), ("BYE", 200)])
def test_a_final_response_lets_go_of_the_requests_parsed_values(method: str, status: int) -> None:
    # Completed or Accepted, the transaction waits up to 64*T1 only to absorb retransmissions: it does not keep the
    # request's parsed Via, From, To and CSeq that long (a busy node holds thousands of these transactions).
    scheduler, transport, _user, tx = start(method)
    assert tx.request.headers.from_ is not None and tx.request.headers._parsed
    tx.send_response(respond(tx.request, status))
    assert tx.request.headers._parsed == {}
    tx.receive_request(make_request(method))  # a retransmission is still matched and answered (or absorbed)
    assert len(transport.sent) == (1 if status == 200 and method == "INVITE" else 2)
    assert tx.state is not S.TERMINATED and scheduler.pending


def test_a_running_timer_is_one_bound_method_with_its_name() -> None:
    # No closure per timer: thousands of transactions wait out their timers at once.
    scheduler, _transport, _user, tx = start("BYE")
    tx.send_response(respond(tx.request, 200))
    (timer,) = [t for t in scheduler._heap if not t.cancelled]
    assert timer.callback == tx._fire and timer.args == ("timer_j",)
