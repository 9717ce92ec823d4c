"""Outbound registration (RFC 3261 §10.2) against Callboard's own registrar and a scripted one, on virtual time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sip_memory_link import START, MemoryTransport, memory_pair

from callboard.core.errors import InvalidStateError
from callboard.voice.sip.bindings import MemoryBindingStore
from callboard.voice.sip.call_events import CallEvent
from callboard.voice.sip.digest import Algorithm, DigestAuthenticator, DigestClient, Password
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import InviteSession
from callboard.voice.sip.message import Request, Response
from callboard.voice.sip.registrar import ExpiresPolicy, Registrar
from callboard.voice.sip.registration import (
    OutboundRegistration,
    RegistrationState,
    RegistrationStatus,
    RetryPolicy,
    refresh_delay,
)
from callboard.voice.sip.scheduler import VirtualScheduler
from callboard.voice.sip.transport_port import Destination, Transport
from callboard.voice.sip.user_agent import UserAgent

R = RegistrationState
AOR = "sip:alice@192.0.2.2"
PASSWORD = "trunk-secret"


class NoCalls:
    def on_incoming_call(self, call: IncomingCall) -> None:
        raise AssertionError("no calls here")

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        raise AssertionError("no calls here")


@dataclass
class Recorder:
    scheduler: VirtualScheduler
    statuses: list[RegistrationStatus] = field(default_factory=list)

    def on_registration_changed(self, registration: OutboundRegistration, status: RegistrationStatus) -> None:
        assert registration.status is status
        self.statuses.append(status)

    def states(self) -> list[str]:
        return [s.state.value for s in self.statuses]


def lookup(username: str, realm: str, algorithm: Algorithm) -> Password | None:
    return Password(PASSWORD) if username == "alice" else None


@dataclass
class Trunk:
    """Our user agent on one end of the link; the provider's (a registrar, or a script) on the other."""

    scheduler: VirtualScheduler
    ua: UserAgent
    ours: MemoryTransport
    theirs: MemoryTransport
    recorder: Recorder
    store: MemoryBindingStore

    def registration(self, **options: object) -> OutboundRegistration:
        options.setdefault("credentials", DigestClient("alice", PASSWORD))
        return OutboundRegistration(self.ua, AOR, listener=self.recorder, **options)  # type: ignore[arg-type]

    def run(self, seconds: float = 0.0) -> None:
        self.scheduler.advance(seconds)

    def registers(self) -> list[Request]:
        return [m for _, m, _ in self.ours.sent if isinstance(m, Request) and m.method == "REGISTER"]

    def register_times(self) -> list[float]:
        return self.ours.sent_times("REGISTER")

    def now(self) -> float:
        return round(self.scheduler.now() - START, 3)


def trunk(
    *, policy: ExpiresPolicy | None = None, algorithms: tuple[Algorithm, ...] = (Algorithm.SHA_256, Algorithm.MD5)
) -> Trunk:
    scheduler = VirtualScheduler()
    ours, theirs = memory_pair(scheduler)
    clock = scheduler.clock
    store = MemoryBindingStore(clock)
    authenticator = DigestAuthenticator("provider.test", clock, secret=b"k" * 32, algorithms=algorithms)
    registrar = Registrar(store, clock, domains=None, authenticator=authenticator, credentials=lookup, policy=policy)
    provider = UserAgent(NoCalls(), scheduler=scheduler, clock=clock, registrar=registrar)
    ua = UserAgent(NoCalls(), scheduler=scheduler, clock=clock, user_part="callboard")
    provider.bind(theirs, sent_by=theirs.address)
    ua.bind(ours, sent_by=ours.address)
    theirs.receiver = provider.receive
    ours.receiver = ua.receive
    return Trunk(scheduler, ua, ours, theirs, Recorder(scheduler), store)


Answer = Callable[[Request], Response | None]


def scripted(t: Trunk, *answers: Answer) -> list[Request]:
    """Replaces the provider by a script: each REGISTER gets the next answer (the last one repeats)."""
    received: list[Request] = []
    queue = list(answers)

    def receive(message: Request | Response, transport: Transport, source: Destination) -> None:
        if not isinstance(message, Request) or message.method != "REGISTER":
            return
        received.append(message)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        response = answer(message)
        if response is not None:
            transport.send(response, source)

    t.theirs.receiver = receive
    return received


def reply(code: int, *headers: tuple[str, str]) -> Answer:
    def answer(request: Request) -> Response:
        response = Response.for_request(request, code, to_tag="provider")
        for name, value in headers:
            response.headers.add(name, value)
        return response

    return answer


def granted(expires: int) -> Answer:
    def answer(request: Request) -> Response:
        response = Response.for_request(request, 200, to_tag="provider")
        response.headers.add("Contact", f"{request.headers.get('Contact')};expires={expires}")
        return response

    return answer


def challenge(nonce: str, *, stale: bool = False) -> Answer:
    extra = ", stale=true" if stale else ""
    return reply(401, ("WWW-Authenticate", f'Digest realm="provider.test", nonce="{nonce}", qop="auth"{extra}'))


def test_registers_with_sha_256_digest_and_refreshes_at_half_the_granted_time() -> None:
    t = trunk()
    registration = t.registration()
    registration.start()
    t.run()
    assert t.recorder.states() == ["Registering", "Registered"]
    assert registration.status.expires == 3600 and registration.status.status_code == 200
    first, second = t.registers()
    assert "Authorization" not in first.headers
    (credentials,) = second.headers.authorization
    assert credentials.param("algorithm") == "SHA-256" and credentials.param("username") == "alice"
    assert str(first.uri) == "sip:192.0.2.2"  # §10.2: the registrar's domain, no user part
    assert first.headers.get("Expires") == "3600"
    (binding,) = t.store.lookup(AOR)
    assert str(binding.contact.uri) == "sip:alice@192.0.2.1:5060"  # our address, with the account's user
    t.run(1799.9)
    assert len(t.registers()) == 2
    t.run(0.1)
    assert t.register_times()[2] == 1800.0
    # One Call-ID for every REGISTER, CSeq going up (§10.2.4); the nonce has aged, the registrar says stale.
    assert {r.headers.call_id for r in t.registers()} == {registration.call_id}
    assert [r.headers.cseq.number for r in t.registers() if r.headers.cseq] == [1, 2, 3, 4]
    assert registration.registered and t.recorder.states() == ["Registering", "Registered"]
    assert t.store.lookup(AOR)[0].expires_at == START + 1800 + 3600


def test_an_md5_only_registrar_gets_md5_credentials() -> None:
    t = trunk(algorithms=(Algorithm.MD5,))
    registration = t.registration()
    registration.start()
    t.run()
    assert registration.registered
    assert t.registers()[-1].headers.authorization[0].param("algorithm") == "MD5"


def test_a_shorter_grant_is_honoured() -> None:
    t = trunk(policy=ExpiresPolicy(default=300, minimum=60, maximum=600))
    registration = t.registration(expires=3600)
    registration.start()
    t.run()
    assert registration.status.expires == 600
    t.run(300)
    assert t.register_times()[-1] == 300.0


def test_423_raises_expires_to_min_expires() -> None:
    t = trunk(policy=ExpiresPolicy(default=300, minimum=120, maximum=600))
    registration = t.registration(expires=60)
    registration.start()
    t.run()
    assert registration.registered and registration.status.expires == 120
    assert [r.headers.get("Expires") for r in t.registers()] == ["60", "60", "120"]
    assert registration.expires == 120
    # A 120 s grant is refreshed at 60 s (half), not at 110 s (ten seconds before the end).
    t.run(60)
    assert t.register_times()[-1] == 60.0


def test_423_without_a_larger_min_expires_fails_instead_of_looping() -> None:
    t = trunk()
    scripted(t, reply(423, ("Min-Expires", "30")))
    registration = t.registration(expires=60)
    registration.start()
    t.run()
    assert registration.state is R.FAILED and registration.status.status_code == 423
    assert len(t.registers()) == 1


def test_wrong_password_fails_and_retries_with_bounded_backoff() -> None:
    t = trunk()
    registration = t.registration(
        credentials=DigestClient("alice", "wrong"), retry=RetryPolicy(first=5, factor=2, longest=20)
    )
    registration.start()
    t.run()
    assert registration.state is R.FAILED
    assert registration.status.reason == "credentials refused (401 Unauthorized)"
    assert registration.status.status_code == 401 and registration.status.retry_at == START + 5
    t.run(100)
    # Each attempt is a REGISTER and its answer to the challenge; attempts at 0, 5, 15, 35, 55, 75, 95.
    attempts = sorted(set(t.register_times()))
    assert attempts == [0.0, 5.0, 15.0, 35.0, 55.0, 75.0, 95.0]
    assert len(t.registers()) == 2 * len(attempts)
    assert registration.failures == 7


def test_no_credentials_for_a_challenge_fails() -> None:
    t = trunk()
    registration = t.registration(credentials=None)
    registration.start()
    t.run()
    assert registration.status.reason == "no credentials (401 Unauthorized)"


def test_no_answer_is_a_failure_with_408_after_timer_f_and_recovery_resets_the_backoff() -> None:
    t = trunk()
    t.ours.drop = lambda index, message: t.scheduler.now() - START < 40
    registration = t.registration()
    registration.start()
    t.run(32)
    assert registration.state is R.FAILED
    assert (registration.status.reason, registration.status.status_code) == ("no answer from the registrar", 408)
    t.run(60)
    # The retry at 37 s (32 + 5) is lost too, but its retransmission at 40.5 s gets through.
    assert t.recorder.states() == ["Registering", "Failed", "Registered"]
    assert t.register_times()[-5:] == [37.0, 37.5, 38.5, 40.5, 40.5]
    assert t.recorder.statuses[-1].at == START + 40.5
    assert registration.failures == 0


def test_retry_after_is_honoured_up_to_the_longest_wait() -> None:
    t = trunk()
    scripted(t, reply(503, ("Retry-After", "120 (maintenance);duration=60")), granted(600))
    registration = t.registration(retry=RetryPolicy(first=5, longest=90))
    registration.start()
    t.run()
    assert registration.status.retry_at == START + 90
    t.run(90)
    assert registration.registered and t.register_times() == [0.0, 90.0]


def test_a_renewed_nonce_without_stale_is_answered_once_per_round() -> None:
    t = trunk()
    # Round 1: challenge, then 200. Round 2 (the refresh): our credentials carry the old nonce; the registrar
    # challenges without stale=true, as many do; the fresh nonce is answered. Round 3: challenged twice in a row.
    received = scripted(
        t,
        challenge("n1"),
        granted(60),
        challenge("n2"),
        granted(60),
        challenge("n3"),
        challenge("n4"),
        granted(60),
    )
    registration = t.registration(expires=60)
    registration.start()
    t.run()
    t.run(30)
    assert registration.registered
    nonces = [r.headers.authorization[0].param("nonce") if "Authorization" in r.headers else None for r in received]
    assert nonces == [None, "n1", "n1", "n2"]
    assert [r.headers.authorization[0].param("nc") for r in received[1:]] == ["00000001", "00000002", "00000001"]
    t.run(30)
    assert registration.state is R.FAILED  # a second challenge in one round, not stale: refused, no loop
    assert len(received) == 6


def test_a_200_listing_only_other_contacts_is_a_failure() -> None:
    t = trunk()
    scripted(t, reply(200, ("Contact", "<sip:someone@198.51.100.7>;expires=3600")))
    registration = t.registration()
    registration.start()
    t.run()
    assert registration.state is R.FAILED
    assert registration.status.reason == "the registrar kept no binding for our contact"


def test_a_200_with_a_rewritten_contact_or_only_an_expires_header_is_taken() -> None:
    t = trunk()
    scripted(t, reply(200, ("Contact", "<sip:alice@203.0.113.9:40000>;expires=90")))
    registration = t.registration()
    registration.start()
    t.run()
    assert registration.status.expires == 90
    t = trunk()
    scripted(t, reply(200, ("Expires", "45")))
    registration = t.registration()
    registration.start()
    t.run()
    assert registration.status.expires == 45


def test_stop_unregisters_with_expires_0() -> None:
    t = trunk()
    registration = t.registration()
    registration.start()
    t.run()
    assert t.store.lookup(AOR)
    registration.stop()
    assert registration.state is R.UNREGISTERING
    t.run()
    assert t.recorder.states() == ["Registering", "Registered", "Unregistering", "Unregistered"]
    assert t.store.lookup(AOR) == []
    assert t.registers()[-1].headers.get("Expires") == "0"
    count = len(t.registers())
    t.run(7200)
    assert len(t.registers()) == count  # no refresh after the stop
    registration.stop()  # twice is harmless
    registration.start()  # and it may start again
    t.run()
    assert registration.registered


def test_stop_without_unregister_leaves_the_binding() -> None:
    t = trunk()
    registration = t.registration()
    registration.start()
    t.run()
    count = len(t.registers())
    registration.stop(unregister=False)
    assert registration.state is R.UNREGISTERED
    t.run(7200)
    assert len(t.registers()) == count and len(t.store.lookup(AOR)) == 0  # it expired at the registrar


def test_stop_while_the_first_register_is_unanswered_abandons_it() -> None:
    t = trunk()
    t.ours.drop = lambda index, message: index == 0
    registration = t.registration()
    registration.start()
    t.run(0.2)
    registration.stop()
    t.run(40)
    registers = t.registers()
    assert [r.headers.get("Expires") for r in registers] == ["3600", "0", "0"]  # the 0 with its challenge
    assert t.register_times()[:2] == [0.0, 0.2]  # CSeq 1 is not retransmitted at 0.5 s: it was abandoned
    assert registration.state is R.UNREGISTERED and t.store.lookup(AOR) == []


def test_an_unanswered_unregister_still_ends_unregistered() -> None:
    t = trunk()
    registration = t.registration()
    registration.start()
    t.run()
    t.ours.drop = lambda index, message: True
    registration.stop()
    t.run(32)
    assert registration.state is R.UNREGISTERED
    assert (registration.status.reason, registration.status.status_code) == ("no answer from the registrar", 408)


def test_start_twice_raises() -> None:
    t = trunk()
    registration = t.registration()
    registration.start()
    with pytest.raises(InvalidStateError, match="already started"):
        registration.start()


def test_an_aor_without_a_user_is_refused() -> None:
    t = trunk()
    with pytest.raises(ValueError, match="user part"):
        OutboundRegistration(t.ua, "sip:provider.test")


@pytest.mark.parametrize(
    ("expires", "margin", "delay"),
    [(3600, 10, 1800), (60, 10, 30), (20, 10, 10), (12, 10, 3), (40, 30, 10), (120, 10, 60)],
)
def test_refresh_delay(expires: int, margin: float, delay: float) -> None:
    assert refresh_delay(expires, margin) == delay


def test_retry_policy() -> None:
    policy = RetryPolicy(first=5, factor=2, longest=60)
    assert [policy.delay(n) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]
    assert policy.delay(1, retry_after=30) == 30
    assert policy.delay(1, retry_after=3600) == 60
    assert policy.delay(4, retry_after=1) == 40
    with pytest.raises(ValueError):
        RetryPolicy(first=0)


def test_a_transport_that_fails_at_once_is_a_failure_not_a_stuck_registration() -> None:
    t = trunk()
    t.ours.fail = True
    registration = t.registration(retry=RetryPolicy(first=5))
    registration.start()
    assert registration.state is R.FAILED and registration.status.reason == "transport error"
    t.ours.fail = False
    t.run(5)
    assert registration.registered
