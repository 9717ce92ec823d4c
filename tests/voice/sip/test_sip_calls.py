"""Calls between two user agents over an in-memory link: INVITE to BYE, CANCEL, re-INVITE, INFO, lost messages."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sip_phones import ANSWER, BOB_URI, OFFER, Line, line

from callboard.voice.sip.call_events import (
    Answered,
    Hangup,
    HangupCause,
    Info,
    OfferAnswered,
    RemoteOffer,
    Ringing,
)
from callboard.voice.sip.dialog import DialogState
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import CallState
from callboard.voice.sip.message import Request, Response
from callboard.voice.sip.outgoing_call import OutgoingCall

HOLD = OFFER.replace(b"RTP/AVP 0\r\n", b"RTP/AVP 0\r\na=sendonly\r\n")
HELD = ANSWER.replace(b"RTP/AVP 0\r\n", b"RTP/AVP 0\r\na=recvonly\r\n")


def requests(link_sent: list[tuple[float, Request | Response, tuple[str, int]]]) -> list[str]:
    return [f"{m.method} {m.headers.get('CSeq')}" for _, m, _ in link_sent if isinstance(m, Request)]


def statuses(link_sent: list[tuple[float, Request | Response, tuple[str, int]]]) -> list[str]:
    return [f"{m.status_code} {m.headers.get('CSeq')}" for _, m, _ in link_sent if isinstance(m, Response)]


def test_a_full_call_from_invite_to_bye() -> None:
    t = line()
    call = t.alice.invite(BOB_URI, sdp=OFFER)
    t.run()
    (incoming,) = t.bob_phone.calls
    assert incoming.offer == OFFER and incoming.state is CallState.INITIAL
    incoming.ring()
    t.run()
    assert t.alice_phone.kinds() == ["Ringing"]
    assert call.dialog is not None and call.dialog.state is DialogState.EARLY
    assert incoming.dialog is not None and incoming.dialog.state is DialogState.EARLY
    assert call.dialog.id == replace(incoming.dialog.id, local_tag=call.local_tag, remote_tag=incoming.local_tag)

    incoming.answer(ANSWER)
    t.run()
    assert t.alice_phone.last() == Answered(t.scheduler.now(), ANSWER)
    assert t.bob_phone.kinds() == ["Answered"]
    assert call.state is incoming.state is CallState.CONFIRMED
    assert call.dialog.state is incoming.dialog.state is DialogState.CONFIRMED
    assert str(call.dialog.remote_target) == "sip:bob@192.0.2.2:5060"
    assert str(incoming.dialog.remote_target) == "sip:alice@192.0.2.1:5060"

    call.hangup()
    assert call.state is CallState.TERMINATING
    t.run()
    assert t.alice_phone.last() == Hangup(t.scheduler.now(), HangupCause.NORMAL, remote=False)
    assert t.bob_phone.last() == Hangup(t.scheduler.now(), HangupCause.NORMAL, remote=True)
    assert call.dialog.state is incoming.dialog.state is DialogState.TERMINATED
    assert requests(t.alice_link.sent) == ["INVITE 1 INVITE", "ACK 1 ACK", "BYE 2 BYE"]
    assert statuses(t.bob_link.sent) == ["180 1 INVITE", "200 1 INVITE", "200 2 BYE"]
    t.run(64)
    # The 200 was acknowledged: never resent; every transaction and call is gone.
    assert statuses(t.bob_link.sent).count("200 1 INVITE") == 1
    assert len(t.alice.layer) == len(t.bob.layer) == 0
    assert t.alice.calls == t.bob.calls == []


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_bye_from_either_side(who: str) -> None:
    t = line()
    t.bob_phone.on_incoming = lambda call: call.answer(ANSWER)
    call = t.alice.invite(BOB_URI, sdp=OFFER)
    t.run()
    (incoming,) = t.bob_phone.calls
    (call if who == "alice" else incoming).hangup()
    t.run()
    alice_end, bob_end = t.alice_phone.last(), t.bob_phone.last()
    assert isinstance(alice_end, Hangup) and isinstance(bob_end, Hangup)
    assert (alice_end.remote, bob_end.remote) == ((False, True) if who == "alice" else (True, False))
    assert call.terminated and incoming.terminated
    # Bob's first request in the dialog starts his own CSeq space.
    bye = requests(t.bob_link.sent if who == "bob" else t.alice_link.sent)[-1]
    assert bye == ("BYE 1 BYE" if who == "bob" else "BYE 2 BYE")


def test_cancel_before_the_answer() -> None:
    t = line()
    t.bob_phone.on_incoming = lambda call: call.ring()
    call = t.alice.invite(BOB_URI, sdp=OFFER)
    t.run()
    call.cancel()
    t.run()
    assert t.alice_phone.kinds() == ["Ringing", "Hangup"]
    assert t.alice_phone.last() == Hangup(t.scheduler.now(), HangupCause.CANCELED, remote=False, status_code=487)
    assert t.bob_phone.last() == Hangup(t.scheduler.now(), HangupCause.CANCELED, remote=True, status_code=487)
    assert requests(t.alice_link.sent) == ["INVITE 1 INVITE", "CANCEL 1 CANCEL", "ACK 1 ACK"]
    assert statuses(t.bob_link.sent) == ["180 1 INVITE", "200 1 CANCEL", "487 1 INVITE"]
    invite, cancel, ack = (m for _, m, _ in t.alice_link.sent)
    branch = invite.headers.via[0].branch
    assert cancel.headers.via[0].branch == ack.headers.via[0].branch == branch  # §9.1, §17.1.1.3
    assert call.dialog is not None and call.dialog.terminated


def test_cancel_waits_for_a_provisional_response() -> None:
    t = line()
    call = t.alice.invite(BOB_URI, sdp=OFFER)
    call.cancel()
    t.run()
    assert requests(t.alice_link.sent) == ["INVITE 1 INVITE"]  # §9.1: nothing to cancel yet
    t.run(0.2)  # Bob's transaction sends 100 Trying
    assert requests(t.alice_link.sent) == ["INVITE 1 INVITE", "CANCEL 1 CANCEL", "ACK 1 ACK"]
    assert statuses(t.bob_link.sent) == ["100 1 INVITE", "200 1 CANCEL", "487 1 INVITE"]
    assert call.terminated


def test_reject_with_busy() -> None:
    t = line()
    t.bob_phone.on_incoming = lambda call: call.reject(486)
    call = t.alice.invite(BOB_URI, sdp=OFFER)
    t.run()
    assert t.alice_phone.last() == Hangup(t.scheduler.now(), HangupCause.BUSY, remote=True, status_code=486)
    assert requests(t.alice_link.sent) == ["INVITE 1 INVITE", "ACK 1 ACK"]
    assert call.terminated and call.dialog is None


def answered_line() -> tuple[Line, OutgoingCall, IncomingCall]:
    t = line()
    t.bob_phone.on_incoming = lambda call: call.answer(ANSWER)
    call = t.alice.invite(BOB_URI, sdp=OFFER)
    t.run()
    (incoming,) = t.bob_phone.calls
    assert incoming.state is CallState.CONFIRMED
    return t, call, incoming


def test_reinvite_to_hold_passes_the_sdp_up_and_increments_cseq() -> None:
    t, call, incoming = answered_line()
    t.bob_phone.offer_answer = HELD
    call.reinvite(HOLD)
    t.run()
    assert t.bob_phone.kinds() == ["Answered", "RemoteOffer"]
    assert t.bob_phone.last() == RemoteOffer(t.scheduler.now(), HOLD)
    assert t.alice_phone.last() == OfferAnswered(t.scheduler.now(), HELD)
    assert requests(t.alice_link.sent) == ["INVITE 1 INVITE", "ACK 1 ACK", "INVITE 2 INVITE", "ACK 2 ACK"]
    assert call.dialog is not None and incoming.dialog is not None
    assert (call.dialog.local_cseq, incoming.dialog.remote_cseq) == (2, 2)
    # Unhold the other way round: Bob's own CSeq space starts at 1.
    t.alice_phone.offer_answer = OFFER
    incoming.reinvite(ANSWER)
    t.run()
    assert requests(t.bob_link.sent) == ["INVITE 1 INVITE", "ACK 1 ACK"]
    assert t.bob_phone.last() == OfferAnswered(t.scheduler.now(), OFFER)
    t.run(40)
    assert statuses(t.bob_link.sent).count("200 2 INVITE") == 1  # acknowledged, not resent


def test_rejected_reoffer_keeps_the_call() -> None:
    t, call, incoming = answered_line()
    call.reinvite(HOLD)
    t.run()
    incoming.reject_offer(488)
    t.run()
    assert t.alice_phone.kinds()[-1] == "OfferRejected"
    assert call.state is incoming.state is CallState.CONFIRMED


def test_info_passes_body_and_content_type_up() -> None:
    t, call, _ = answered_line()
    call.request("INFO", body=b"Signal=5\r\nDuration=160\r\n", content_type="application/dtmf-relay")
    t.run()
    assert t.bob_phone.last() == Info(t.scheduler.now(), b"Signal=5\r\nDuration=160\r\n", "application/dtmf-relay")
    assert statuses(t.bob_link.sent)[-1] == "200 2 INFO"


def test_a_request_with_a_lower_cseq_gets_500() -> None:
    t, call, _ = answered_line()
    assert call.dialog is not None
    stale = call.dialog.create_request("INFO")  # CSeq 2, held back while CSeq 3 goes first
    call.request("INFO")
    t.run()
    t.alice.send_request(stale, call, t.alice.resolve(call.dialog.next_hop))
    t.run()
    assert statuses(t.bob_link.sent)[-2:] == ["200 3 INFO", "500 2 INFO"]


def test_lost_200_is_retransmitted_until_the_ack() -> None:
    t = line()
    t.bob_link.drop = lambda index, message: isinstance(message, Response) and message.status_code == 200 and index == 0
    t.bob_phone.on_incoming = lambda call: call.answer(ANSWER)
    t.alice.invite(BOB_URI, sdp=OFFER)
    t.run(10)
    # At T1 Bob's timer brings the 200 again; Alice's retransmitted INVITE is absorbed by Bob's transaction, now
    # Accepted (RFC 6026 §7.1), instead of making a second 200; the ACK stops the retransmissions.
    assert t.bob_link.sent_times("SIP/2.0 200") == [0.0, 0.5]
    assert t.alice_link.sent_times("INVITE") == [0.0, 0.5]
    assert t.alice_phone.kinds() == ["Answered"] and t.alice_phone.events[0][0] == 0.5
    assert t.bob_phone.kinds() == ["Answered"]


def test_lost_ack_is_sent_again_on_the_retransmitted_200() -> None:
    t = line()
    t.alice_link.drop = lambda index, message: isinstance(message, Request) and message.method == "ACK" and index == 1
    t.bob_phone.on_incoming = lambda call: call.answer(ANSWER)
    call = t.alice.invite(BOB_URI, sdp=OFFER)
    t.run(10)
    assert t.bob_link.sent_times("SIP/2.0 200") == [0.0, 0.5]
    assert t.alice_link.sent_times("ACK") == [0.0, 0.5]
    assert [at for at, _ in t.bob_phone.events] == [0.5]
    assert call.state is CallState.CONFIRMED


def test_no_ack_at_all_ends_the_call_with_bye() -> None:
    t = line()
    t.alice_link.drop = lambda index, message: isinstance(message, Request) and message.method == "ACK"
    t.bob_phone.on_incoming = lambda call: call.answer(ANSWER)
    t.alice.invite(BOB_URI, sdp=OFFER)
    t.run(40)
    ((_, end),) = t.bob_phone.events
    assert end == Hangup(end.at, HangupCause.NO_ACK, remote=False)
    assert t.alice_phone.kinds() == ["Answered", "Hangup"]


def test_a_second_forked_200_is_acknowledged_and_hung_up() -> None:
    t, call, _ = answered_line()
    first_200 = next(m for _, m, _ in t.bob_link.sent if isinstance(m, Response) and m.status_code == 200)
    fork = Response(200, "OK", first_200.headers.copy(), first_200.body)
    fork.headers.set("To", f"<{BOB_URI}>;tag=forked")
    t.alice.receive(fork, t.alice_link, t.bob_link.address)
    t.run()
    assert requests(t.alice_link.sent)[-2:] == ["ACK 1 ACK", "BYE 2 BYE"]
    bye = t.alice_link.sent[-1][1]
    assert isinstance(bye, Request) and bye.headers.to is not None and bye.headers.to.tag == "forked"
    assert call.state is CallState.CONFIRMED and isinstance(t.alice_phone.last(), Answered)


def test_ringing_event_then_early_media() -> None:
    t = line()

    def ring_with_media(call: IncomingCall) -> None:
        call.ring()
        call.early_media(ANSWER)

    t.bob_phone.on_incoming = ring_with_media
    t.alice.invite(BOB_URI, sdp=OFFER)
    t.run()
    assert t.alice_phone.kinds() == ["Ringing", "EarlyMedia"]
    assert isinstance(t.alice_phone.events[0][1], Ringing)


def test_a_call_over_a_reliable_transport_sends_each_message_once() -> None:
    t = line(reliable=True)
    t.bob_phone.on_incoming = lambda call: call.answer(ANSWER)
    call = t.alice.invite(BOB_URI, sdp=OFFER)
    t.run(1)
    call.hangup()
    t.run(64)
    assert requests(t.alice_link.sent) == ["INVITE 1 INVITE", "ACK 1 ACK", "BYE 2 BYE"]
    assert statuses(t.bob_link.sent) == ["200 1 INVITE", "200 2 BYE"]
    assert len(t.alice.layer) == len(t.bob.layer) == 0


def test_no_response_at_all_is_a_timeout() -> None:
    t = line()
    t.alice_link.drop = lambda index, message: True
    t.alice.invite(BOB_URI, sdp=OFFER)
    t.run(40)
    ((at, end),) = t.alice_phone.events
    assert (at, end) == (32.0, Hangup(end.at, HangupCause.TIMEOUT, remote=False))


def test_lost_ack_of_the_callees_reinvite_is_sent_again_through_the_accepted_transaction() -> None:
    t, _call, incoming = answered_line()
    t.alice_phone.offer_answer = OFFER
    sent_before = len(t.bob_link.sent)
    t.bob_link.drop = lambda index, message: (
        isinstance(message, Request) and message.method == "ACK" and index == sent_before + 1
    )
    incoming.reinvite(HOLD)
    t.run(10)
    # Alice's 200 comes again at T1; Bob's INVITE transaction is Accepted (RFC 6026 §8.4) and passes it up, and
    # the callee's session (which has no initial INVITE of its own) sends the same ACK again.
    assert t.alice_link.sent_times("SIP/2.0 200") == [0.0, 0.5]
    assert t.bob_link.sent_times("ACK") == [0.0, 0.5]
    assert t.bob_phone.kinds() == ["Answered", "OfferAnswered"]
    assert all(tx.state.value == "Accepted" for tx in t.bob.layer.transactions if tx.method == "INVITE")


def test_a_bye_that_cannot_be_sent_still_ends_the_call() -> None:
    t, call, _ = answered_line()
    t.alice_link.fail = True
    call.hangup()
    assert call.state is CallState.TERMINATED
    assert t.alice_phone.last() == Hangup(t.scheduler.now(), HangupCause.NORMAL, remote=False)


def test_a_reinvite_that_cannot_be_sent_is_rejected_and_the_call_ends() -> None:
    t, call, _ = answered_line()
    t.alice_link.fail = True
    call.reinvite(HOLD)
    assert t.alice_phone.kinds()[-2:] == ["OfferRejected", "Hangup"]
    assert call.terminated
