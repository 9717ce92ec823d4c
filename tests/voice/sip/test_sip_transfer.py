"""Transfers between three user agents: REFER and its NOTIFYs (RFC 3515), blind and attended with Replaces
(RFC 3891, RFC 5589), and the checks on each side."""

from __future__ import annotations

import pytest
from sip_phones import ANSWER, OFFER
from sip_trio import BOB_URI, CAROL_URI, Party, Trio, trio

from callboard.core.errors import InvalidStateError
from callboard.voice.sip.call_events import CallEvent, Hangup, TransferProgress, TransferRequested
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import CallState, InviteSession
from callboard.voice.sip.message import Request
from callboard.voice.sip.outgoing_call import OutgoingCall
from callboard.voice.sip.refer import ReferTo, ReplacesTarget
from callboard.voice.sip.uri import NameAddr, SipUri
from callboard.voice.sip.user_agent import ALLOW, UserAgent


def call(t: Trio, caller: Party, callee: Party, uri: str) -> tuple[OutgoingCall, IncomingCall]:
    """A call from `caller` to `callee`, answered."""
    callee.phone.on_incoming = lambda incoming: incoming.answer(ANSWER)
    outgoing = caller.ua.invite(uri, sdp=OFFER)
    t.run()
    incoming = callee.phone.calls[-1]
    assert outgoing.state is incoming.state is CallState.CONFIRMED
    callee.phone.on_incoming = None
    return outgoing, incoming


def requested(party: Party) -> TransferRequested:
    events = [e for _, e in party.phone.events if isinstance(e, TransferRequested)]
    assert events, party.phone.kinds()
    return events[-1]


def progress(party: Party) -> list[tuple[int, bool]]:
    return [(e.status_code, e.final) for _, e in party.phone.events if isinstance(e, TransferProgress)]


def notify_lines(party: Party) -> list[tuple[str | None, str | None, bytes]]:
    return [(n.headers.get("Event"), n.headers.get("Subscription-State"), n.body) for n in party.sent("NOTIFY")]


def test_blind_transfer_that_succeeds() -> None:
    t = trio()
    ab, ba = call(t, t.alice, t.bob, BOB_URI)  # Alice calls Bob, then transfers him to Carol
    refer_id = ab.transfer(CAROL_URI, referred_by=NameAddr(SipUri("192.0.2.1", "alice")))
    t.run()
    (refer,) = t.alice.sent("REFER")
    assert refer.headers.get("Refer-To") == f"<{CAROL_URI}>"
    assert refer.headers.get("Contact") is not None  # RFC 3515 §2.4.1: a target refresh request
    assert "202 2 REFER" in t.bob.statuses()
    event = requested(t.bob)
    assert event == TransferRequested(event.at, SipUri("192.0.2.3", "carol", port=5060), None, event.referred_by, 2)
    assert refer_id == 2 and str(event.referred_by) == "<sip:alice@192.0.2.1>"
    assert progress(t.alice) == [(100, False)]  # the NOTIFY sent at once (RFC 3515 §2.4.4)

    # Bob calls Carol and tells Alice how it goes.
    t.carol.phone.on_incoming = lambda incoming: (incoming.ring(), incoming.answer(ANSWER))
    bc = t.bob.ua.invite(event.refer_to, sdp=OFFER, headers=[("Referred-By", str(event.referred_by))])
    t.run()
    assert bc.state is CallState.CONFIRMED
    assert t.carol.phone.calls[0].invite.headers.get("Referred-By") == "<sip:alice@192.0.2.1>"
    assert ba.report_transfer(180) and ba.report_transfer(200)
    t.run()
    assert progress(t.alice) == [(100, False), (180, False), (200, True)]
    assert notify_lines(t.bob) == [
        ("refer;id=2", "active;expires=180", b"SIP/2.0 100 Trying\r\n"),
        ("refer;id=2", "active;expires=180", b"SIP/2.0 180 Ringing\r\n"),
        ("refer;id=2", "terminated;reason=noresource", b"SIP/2.0 200 OK\r\n"),
    ]
    assert all(n.headers.get("Content-Type") == "message/sipfrag;version=2.0" for n in t.bob.sent("NOTIFY"))
    assert not ba.report_transfer(200)  # settled: nothing more to tell
    ab.hangup()
    t.run()
    assert ab.terminated and ba.terminated and bc.state is CallState.CONFIRMED


def test_blind_transfer_to_a_busy_target_reports_the_failure() -> None:
    t = trio()
    ab, ba = call(t, t.alice, t.bob, BOB_URI)
    ab.transfer(CAROL_URI)
    t.run()
    t.carol.phone.on_incoming = lambda incoming: incoming.reject(486)
    t.bob.ua.invite(requested(t.bob).refer_to, sdp=OFFER)
    t.run()
    ba.report_transfer(486)
    t.run()
    assert progress(t.alice) == [(100, False), (486, True)]
    assert notify_lines(t.bob)[-1] == ("refer;id=2", "terminated;reason=noresource", b"SIP/2.0 486 Busy Here\r\n")
    assert ab.state is ba.state is CallState.CONFIRMED  # the call goes on


def test_statuses_reported_at_once_go_out_one_notify_at_a_time_latest_wins() -> None:
    t = trio()
    ab, ba = call(t, t.alice, t.bob, BOB_URI)

    def report_at_once(call: InviteSession, event: CallEvent) -> None:
        if isinstance(event, TransferRequested):
            call.report_transfer(180)
            call.report_transfer(603, "Declined By Policy")

    t.bob.phone.on_event = report_at_once
    ab.transfer(CAROL_URI)
    t.run()
    assert [n.body for n in t.bob.sent("NOTIFY")] == [b"SIP/2.0 100 Trying\r\n", b"SIP/2.0 603 Declined By Policy\r\n"]
    assert progress(t.alice) == [(100, False), (603, True)]
    assert ba.state is CallState.CONFIRMED


def test_a_second_notify_waits_for_the_first_to_be_answered() -> None:
    t = trio()
    ab, ba = call(t, t.alice, t.bob, BOB_URI)
    t.bob.link.latency = t.alice.link.latency = 0.1
    ab.transfer(CAROL_URI)
    t.run(0.15)  # the REFER has arrived, the first NOTIFY is on its way
    assert len(t.bob.sent("NOTIFY")) == 1
    ba.report_transfer(200)
    assert len(t.bob.sent("NOTIFY")) == 1  # the 200 waits for the answer to the 100
    t.run(1)
    assert len(t.bob.sent("NOTIFY")) == 2 and progress(t.alice) == [(100, False), (200, True)]


def test_a_refused_or_unanswered_refer_is_a_final_progress() -> None:
    t = trio()
    ab, _ = call(t, t.alice, t.bob, BOB_URI)
    t.bob.link.drop = lambda index, message: True
    ab.transfer(CAROL_URI)
    t.run(32)
    assert progress(t.alice) == [(408, True)]


def test_a_peer_without_refer_answers_405(monkeypatch: pytest.MonkeyPatch) -> None:
    t = trio()
    ab, _ = call(t, t.alice, t.bob, BOB_URI)
    monkeypatch.setattr(UserAgent, "allow", property(lambda self: ALLOW[:6]))
    ab.transfer(CAROL_URI)
    t.run()
    assert progress(t.alice) == [(405, True)]


def refer_raw(t: Trio, session: InviteSession, headers: list[tuple[str, str]]) -> str:
    """Sends a hand-made REFER; Bob's answer."""
    session.request("REFER", headers=headers)
    t.run()
    return t.bob.statuses()[-1]


@pytest.mark.parametrize(
    ("headers", "answer"),
    [
        ([], "400 2 REFER"),
        ([("Refer-To", f"<{CAROL_URI}>"), ("Refer-To", "<sip:dave@192.0.2.4>")], "400 2 REFER"),
        ([("Refer-To", "<sip:carol@>")], "400 2 REFER"),
        ([("Refer-To", f"<{CAROL_URI}?Replaces=abc>")], "400 2 REFER"),
        ([("Refer-To", "<sip:carol@192.0.2.3;method=BYE>")], "501 2 REFER"),
    ],
)
def test_a_refer_bob_cannot_act_on_is_refused_without_an_event(headers: list[tuple[str, str]], answer: str) -> None:
    t = trio()
    ab, _ = call(t, t.alice, t.bob, BOB_URI)
    assert refer_raw(t, ab, headers) == answer
    assert not [e for _, e in t.bob.phone.events if isinstance(e, TransferRequested)]
    assert t.bob.sent("NOTIFY") == []


def test_a_notify_for_no_subscription_gets_481_and_ends_the_notifier() -> None:
    t = trio()
    ab, ba = call(t, t.alice, t.bob, BOB_URI)
    # A REFER Alice does not track as a transfer: her answer to Bob's NOTIFY is 481, which ends it at Bob's.
    assert refer_raw(t, ab, [("Refer-To", f"<{CAROL_URI}>")]) == "202 2 REFER"
    assert t.alice.statuses()[-1] == "481 1 NOTIFY"
    assert not ba.report_transfer(200)
    assert t.bob.sent("NOTIFY")[-1].body == b"SIP/2.0 100 Trying\r\n"


def notify_alice(t: Trio, session: InviteSession, event: str, state: str, body: bytes) -> str:
    session.request(
        "NOTIFY",
        body=body,
        content_type="message/sipfrag",
        headers=[("Event", event), ("Subscription-State", state)],
    )
    t.run()
    return t.alice.statuses()[-1].split(" ")[0]


def test_notifies_are_checked_at_the_transferor() -> None:
    t = trio()
    ab, ba = call(t, t.alice, t.bob, BOB_URI)
    t.bob.link.drop = lambda index, message: isinstance(message, Request) and message.method == "NOTIFY"
    ab.transfer(CAROL_URI)  # id 2; Bob's own NOTIFYs are lost, the test sends its own
    t.run()
    t.bob.link.drop = lambda index, message: False
    ok = b"SIP/2.0 200 OK\r\n"
    assert notify_alice(t, ba, "presence", "active", ok) == "489"
    assert notify_alice(t, ba, "refer;id=7", "active", ok) == "481"
    assert notify_alice(t, ba, "refer;id=2", "active", b"garbage") == "400"
    assert notify_alice(t, ba, "refer;id=2", "", ok) == "400"
    assert progress(t.alice) == []
    assert notify_alice(t, ba, "refer", "active;expires=60", b"SIP/2.0 183 Session Progress\r\n") == "200"
    assert notify_alice(t, ba, "refer;id=2", "terminated;reason=timeout", b"SIP/2.0 100 Trying\r\n") == "200"
    assert progress(t.alice) == [(183, False), (100, True)]  # terminated is final, whatever the status said
    assert notify_alice(t, ba, "refer;id=2", "active", ok) == "481"  # that subscription is over


def test_attended_transfer_with_replaces() -> None:
    t = trio()
    # Bob called Alice; Alice (the transferor) consults Carol, then connects Bob and Carol (RFC 5589 §7).
    bob_alice, alice_bob = call(t, t.bob, t.alice, "sip:alice@192.0.2.1:5060")
    alice_carol, carol_alice = call(t, t.alice, t.carol, CAROL_URI)
    alice_bob.transfer(CAROL_URI, replaces=alice_carol)
    t.run()
    (refer,) = t.alice.sent("REFER")
    refer_to = ReferTo.parse(refer.headers.get("Refer-To") or "")
    assert alice_carol.dialog is not None and carol_alice.dialog is not None
    expected = ReplacesTarget(alice_carol.call_id, alice_carol.dialog.remote_tag, alice_carol.dialog.local_tag)
    assert refer_to.replaces == expected
    assert t.carol.ua.find_replaced(expected) is carol_alice  # Carol sees her own dialog in it

    event = requested(t.bob)
    assert event.replaces == expected and str(event.refer_to) == CAROL_URI
    replacing: list[IncomingCall] = []

    def take_over(incoming: IncomingCall) -> None:
        replacing.append(incoming)
        incoming.answer(ANSWER)
        assert incoming.replaces is not None
        incoming.replaces.hangup()  # the old leg goes; the new one takes its place

    t.carol.phone.on_incoming = take_over
    bob_carol = t.bob.ua.invite(event.refer_to, sdp=OFFER, headers=[("Replaces", str(event.replaces))])
    t.run()
    (incoming,) = replacing
    assert incoming.replaces is carol_alice and carol_alice.terminated and alice_carol.terminated
    assert isinstance(t.alice.phone.events[-1][1], Hangup)
    bob_alice.report_transfer(200)
    t.run()
    assert progress(t.alice) == [(100, False), (200, True)]
    alice_bob.hangup()
    t.run()
    assert bob_carol.state is incoming.state is CallState.CONFIRMED
    assert t.alice.ua.calls == [] and [c.call_id for c in t.carol.ua.calls] == [bob_carol.call_id]
    assert t.bob.phone.kinds()[-2:] == ["Answered", "Hangup"]  # the call to Carol answered, Alice's gone


def invite_replacing(t: Trio, target: ReplacesTarget | str, to: str = CAROL_URI) -> str:
    """Bob's INVITE with a Replaces; the final answer it gets."""
    callee = t.carol if to == CAROL_URI else t.alice
    before = len(callee.statuses())
    t.bob.ua.invite(to, sdp=OFFER, headers=[("Replaces", str(target))])
    t.run()
    (answer,) = callee.statuses()[before:]
    return answer.split(" ")[0]


def test_replaces_naming_no_dialog_gets_481_and_a_malformed_one_400() -> None:
    t = trio()
    assert invite_replacing(t, ReplacesTarget("nosuchcall@x", "a", "b")) == "481"
    assert invite_replacing(t, "nosuchcall@x;to-tag=a") == "400"
    assert t.carol.phone.calls == []


def test_early_only_replaces_of_a_confirmed_call_gets_486() -> None:
    t = trio()
    alice_carol, carol_alice = call(t, t.alice, t.carol, CAROL_URI)
    assert carol_alice.dialog is not None
    target = ReplacesTarget.for_dialog(alice_carol._dialog(), early_only=True)
    assert invite_replacing(t, target) == "486"


def test_replaces_of_a_ringing_incoming_call_is_a_pickup() -> None:
    t = trio()
    t.carol.phone.on_incoming = lambda incoming: incoming.ring()
    alice_carol = t.alice.ua.invite(CAROL_URI, sdp=OFFER)
    t.run()
    ringing = t.carol.phone.calls[0]
    assert alice_carol.dialog is not None
    t.carol.phone.on_incoming = None
    t.bob.ua.invite(CAROL_URI, sdp=OFFER, headers=[("Replaces", str(ReplacesTarget.for_dialog(alice_carol.dialog)))])
    t.run()
    pickup = t.carol.phone.calls[-1]
    assert pickup.replaces is ringing and pickup.state is CallState.INITIAL


def test_replaces_of_an_early_dialog_we_started_gets_481() -> None:
    t = trio()
    t.carol.phone.on_incoming = lambda incoming: incoming.ring()
    alice_carol = t.alice.ua.invite(CAROL_URI, sdp=OFFER)
    t.run()
    ringing = t.carol.phone.calls[0]
    assert ringing.dialog is not None and alice_carol.state is CallState.EARLY
    # Bob asks Alice to replace her own unanswered call to Carol: RFC 3891 §3 leaves it alone.
    target = ReplacesTarget.for_dialog(ringing.dialog)
    assert invite_replacing(t, target, to="sip:alice@192.0.2.1:5060") == "481"


def test_replaces_of_a_call_hanging_up_gets_603() -> None:
    t = trio()
    alice_carol, carol_alice = call(t, t.alice, t.carol, CAROL_URI)
    t.alice.link.drop = lambda index, message: True  # Carol's BYE goes unanswered: she stays Terminating
    carol_alice.hangup()
    t.run()
    assert carol_alice.state is CallState.TERMINATING
    assert invite_replacing(t, ReplacesTarget.for_dialog(alice_carol._dialog())) == "603"


def test_transfer_needs_an_answered_call_and_report_needs_a_transfer() -> None:
    t = trio()
    t.carol.phone.on_incoming = lambda incoming: incoming.ring()
    ringing = t.alice.ua.invite(CAROL_URI, sdp=OFFER)
    t.run()
    with pytest.raises(InvalidStateError, match="cannot transfer in state Early"):
        ringing.transfer(BOB_URI)
    _, ba = call(t, t.alice, t.bob, BOB_URI)
    assert not ba.report_transfer(200)
    with pytest.raises(ValueError):
        ba.report_transfer(99)


def test_a_refer_that_cannot_be_sent_is_reported_after_transfer_returns_as_503() -> None:
    t = trio()
    ab, _ = call(t, t.alice, t.bob, BOB_URI)
    t.alice.link.fail = True
    refer_id = ab.transfer(CAROL_URI)
    assert progress(t.alice) == []  # not yet: the caller of transfer() has its id to wait on first
    t.run()
    assert progress(t.alice) == [(503, True)]  # RFC 3261 §8.1.3.1: a transport error is a 503
    assert [e.refer_id for _, e in t.alice.phone.events if isinstance(e, TransferProgress)] == [refer_id]
