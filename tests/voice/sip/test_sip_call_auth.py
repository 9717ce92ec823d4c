"""Outbound calls through a trunk that challenges the INVITE (RFC 3261 §22.2): credentials, the next CSeq, limits."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sip_phones import ANSWER, BOB_URI, OFFER, Line, line

from callboard.voice.sip.call_events import Hangup, HangupCause
from callboard.voice.sip.digest import Algorithm, DigestAuthenticator, DigestClient, Password
from callboard.voice.sip.invite_session import CallState
from callboard.voice.sip.message import Request, Response
from callboard.voice.sip.transport_port import Destination, Transport

REALM = "trunk.example.net"


def lookup(username: str, realm: str, algorithm: Algorithm) -> Password | None:
    return Password("s3cret") if username == "acct" else None


@dataclass
class ChallengingTrunk:
    """Sits in front of Bob: an INVITE without good credentials gets a 401 or 407, the others go through."""

    t: Line
    proxy: bool
    authenticator: DigestAuthenticator = field(init=False)
    challenged: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.authenticator = DigestAuthenticator(REALM, self.t.scheduler.clock, secret=b"t" * 32)
        self.t.bob_link.receiver = self.receive

    def receive(self, message: Request | Response, transport: Transport, source: Destination) -> None:
        if isinstance(message, Request) and message.method in ("INVITE", "ACK") and not message.headers.to.tag:  # type: ignore[union-attr]
            if message.method == "ACK":
                return  # the ACK of our own 401/407
            if not self.authenticator.authenticate(message, lookup, proxy=self.proxy).ok:
                self.challenged.append(message)
                transport.send(self.authenticator.challenge_response(message, proxy=self.proxy, to_tag="trunk"), source)
                return
        self.t.bob.receive(message, transport, source)


@pytest.mark.parametrize("proxy", [False, True])
def test_a_challenged_invite_is_sent_again_with_credentials_and_the_call_goes_through(proxy: bool) -> None:
    t = line()
    trunk = ChallengingTrunk(t, proxy)
    t.bob_phone.on_incoming = lambda call: call.answer(ANSWER)
    call = t.alice.invite(BOB_URI, sdp=OFFER, credentials=DigestClient("acct", "s3cret"))
    t.run()
    assert call.state is CallState.CONFIRMED and t.alice_phone.kinds() == ["Answered"]
    invites = [m for _, m, _ in t.alice_link.sent if isinstance(m, Request) and m.method in ("INVITE", "ACK")]
    assert [f"{m.method} {m.headers.get('CSeq')}" for m in invites] == [
        "INVITE 1 INVITE",
        "ACK 1 ACK",
        "INVITE 2 INVITE",
        "ACK 2 ACK",
    ]
    first, _, second, _ = invites
    assert second.headers.call_id == first.headers.call_id and second.headers.from_ == first.headers.from_
    assert second.headers.via[0].branch != first.headers.via[0].branch and len(second.headers.via) == 1
    header = "Proxy-Authorization" if proxy else "Authorization"
    assert header in second.headers and second.body == OFFER
    assert len(trunk.challenged) == 1
    call.hangup()  # in-dialog requests carry no credentials: the trunk does not challenge them here
    t.run()
    assert call.terminated


def test_wrong_credentials_are_not_retried_in_a_loop() -> None:
    t = line()
    trunk = ChallengingTrunk(t, proxy=True)
    t.alice.invite(BOB_URI, sdp=OFFER, credentials=DigestClient("acct", "wrong"))
    t.run()
    assert len(trunk.challenged) == 2
    ((_, end),) = t.alice_phone.events
    assert end == Hangup(end.at, HangupCause.REJECTED, remote=True, status_code=407)


def test_without_credentials_a_challenge_ends_the_call() -> None:
    t = line()
    ChallengingTrunk(t, proxy=False)
    t.alice.invite(BOB_URI, sdp=OFFER)
    t.run()
    ((_, end),) = t.alice_phone.events
    assert isinstance(end, Hangup) and end.status_code == 401


def test_cancel_after_a_challenge_goes_with_the_new_invite() -> None:
    t = line()
    ChallengingTrunk(t, proxy=True)
    t.bob_phone.on_incoming = lambda call: call.ring()
    call = t.alice.invite(BOB_URI, sdp=OFFER, credentials=DigestClient("acct", "s3cret"))
    t.run()
    call.cancel()
    t.run()
    cancel = next(m for _, m, _ in t.alice_link.sent if isinstance(m, Request) and m.method == "CANCEL")
    assert cancel.headers.get("CSeq") == "2 CANCEL"
    assert t.alice_phone.last() == Hangup(t.scheduler.now(), HangupCause.CANCELED, remote=False, status_code=487)


def test_each_call_keeps_its_own_nonce() -> None:
    t = line()
    trunk = ChallengingTrunk(t, proxy=True)
    t.bob_phone.on_incoming = lambda call: call.answer(ANSWER)
    shared = DigestClient("acct", "s3cret")
    first = t.alice.invite(BOB_URI, sdp=OFFER, credentials=shared)
    second = t.alice.invite(BOB_URI, sdp=OFFER, credentials=shared)
    t.run()
    assert first.state is second.state is CallState.CONFIRMED
    assert len(trunk.challenged) == 2 and not shared.challenged
