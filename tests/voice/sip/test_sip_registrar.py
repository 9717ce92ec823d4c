"""The registrar (RFC 3261 §10.3) on virtual time: digest challenges, adding, refreshing, expiring and removing
bindings, the refusals (403, 404, 423, 400, 500) and bindings surviving a restart through the persistence port."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest

from callboard.core.clock import VirtualClock
from callboard.voice.sip.bindings import Binding, MemoryBindingStore
from callboard.voice.sip.digest import Algorithm, DigestAuthenticator, DigestClient, Password
from callboard.voice.sip.message import Request, Response
from callboard.voice.sip.registrar import ExpiresPolicy, Registrar

DOMAIN = "callboard.example.com"
SECRET = b"0123456789abcdef0123456789abcdef"
USERS = {"alice": "s3cret-alice", "bob": "hunter2"}
ALICE = f"sip:alice@{DOMAIN}"


def lookup(username: str, realm: str, algorithm: Algorithm) -> Password | None:
    password = USERS.get(username)
    return None if password is None else Password(password)


@dataclass
class FakePersistence:
    """A dict standing in for the application's store."""

    rows: dict[tuple[str, str], dict[str, object]] = field(default_factory=dict)

    def save(self, binding: Binding) -> None:
        self.rows[binding.key] = binding.as_record()

    def delete(self, binding: Binding) -> None:
        del self.rows[binding.key]

    def load_all(self) -> Iterable[Binding]:
        return [Binding.from_record(row) for row in self.rows.values()]


@dataclass
class Setup:
    clock: VirtualClock
    store: MemoryBindingStore
    registrar: Registrar


def setup(persistence: FakePersistence | None = None, clock: VirtualClock | None = None) -> Setup:
    clock = clock or VirtualClock()
    store = MemoryBindingStore(clock, persistence)
    authenticator = DigestAuthenticator(DOMAIN, clock, secret=SECRET, nonce_ttl=300)
    registrar = Registrar(
        store,
        clock,
        domains=[DOMAIN],
        authenticator=authenticator,
        credentials=lookup,
        policy=ExpiresPolicy(default=3600, minimum=60, maximum=7200),
    )
    return Setup(clock, store, registrar)


def register(
    contacts: Iterable[str] = ("<sip:alice@192.0.2.10:5060>",),
    *,
    user: str = "alice",
    aor_user: str | None = None,
    cseq: int = 1,
    call_id: str = "reg-1@192.0.2.10",
    expires: int | None = None,
    uri: str = f"sip:{DOMAIN}",
    extra: Iterable[tuple[str, str]] = (),
) -> Request:
    lines = [
        f"REGISTER {uri} SIP/2.0",
        f"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK{cseq}{call_id[:4]};rport",
        "Max-Forwards: 70",
        f"From: <sip:{user}@{DOMAIN}>;tag=ft{cseq}",
        f"To: <sip:{aor_user or user}@{DOMAIN}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        *(f"Contact: {c}" for c in contacts),
        *([] if expires is None else [f"Expires: {expires}"]),
        *(f"{name}: {value}" for name, value in extra),
        "Content-Length: 0",
    ]
    return Request.parse(("\r\n".join(lines) + "\r\n\r\n").encode())


class Phone:
    """A registering UA: answers the first 401 and signs every later REGISTER with the same nonce."""

    def __init__(self, registrar: Registrar, user: str = "alice", password: str | None = None) -> None:
        self.registrar = registrar
        self.user = user
        self.client = DigestClient(user, password or USERS[user])
        self.challenged = False

    def send(self, request: Request, **kwargs: object) -> Response:
        if self.challenged:
            self.client.authorize(request)
        response = self.registrar.handle(request, source=("198.51.100.7", 40000))
        if response.status_code == 401 and self.client.handle(response):
            self.challenged = True
            self.client.authorize(request)
            response = self.registrar.handle(request, source=("198.51.100.7", 40000))
        return response


def contacts_of(response: Response) -> list[tuple[str, int | None, float | None]]:
    return [(str(c.uri), c.expires, c.q) for c in response.headers.contact]


def test_first_register_is_challenged_with_sha256_and_md5() -> None:
    s = setup()
    response = s.registrar.handle(register())
    assert response.status_code == 401 and response.headers.to is not None and response.headers.to.tag
    challenges = response.headers.www_authenticate
    assert [c.param("algorithm") for c in challenges] == ["SHA-256", "MD5"]
    assert {c.param("realm") for c in challenges} == {DOMAIN}
    assert s.store.lookup(ALICE) == []


def test_authorized_register_binds_the_contact() -> None:
    s = setup()
    response = Phone(s.registrar).send(register(extra=[("User-Agent", "Softphone 1.0")]))
    assert response.status_code == 200
    assert contacts_of(response) == [("sip:alice@192.0.2.10:5060", 3600, None)]
    assert response.headers.date is not None and response.headers.date.timestamp() == s.clock.now()
    [binding] = s.store.lookup(ALICE)
    assert (binding.source, binding.transport, binding.user_agent) == (("198.51.100.7", 40000), "UDP", "Softphone 1.0")
    assert (binding.call_id, binding.cseq, binding.expires_at) == ("reg-1@192.0.2.10", 1, s.clock.now() + 3600)


def test_md5_only_client_is_accepted() -> None:
    s = setup()
    phone = Phone(s.registrar)
    phone.client = DigestClient("alice", USERS["alice"], algorithms=[Algorithm.MD5])
    assert phone.send(register()).status_code == 200


def test_wrong_password_is_challenged_again() -> None:
    s = setup()
    response = Phone(s.registrar, password="wrong").send(register())
    assert response.status_code == 401
    assert s.store.lookup(ALICE) == []


def test_stale_nonce_is_challenged_with_stale_true() -> None:
    s = setup()
    phone = Phone(s.registrar)
    assert phone.send(register()).status_code == 200
    s.clock.advance(301)
    request = register(cseq=2)
    phone.client.authorize(request)
    response = s.registrar.handle(request)
    assert response.status_code == 401
    assert {c.param("stale") for c in response.headers.www_authenticate} == {"true"}
    assert phone.send(register(cseq=3)).status_code == 200


def test_refresh_restarts_the_expiry_and_keeps_one_binding() -> None:
    s = setup()
    phone = Phone(s.registrar)
    phone.send(register())
    s.clock.advance(1000)
    assert contacts_of(phone.send(register([], cseq=2))) == [("sip:alice@192.0.2.10:5060", 2600, None)]
    response = phone.send(register(["<sip:alice@192.0.2.10:5060;ob>"], cseq=3))
    # The same contact with a flag parameter (RFC 5626 ob): one binding, refreshed (RFC 3261 §19.1.4).
    assert response.status_code == 200 and contacts_of(response)[0][1] == 3600
    assert len(s.store.lookup(ALICE)) == 1


def test_query_without_contact_lists_the_bindings() -> None:
    s = setup()
    phone = Phone(s.registrar)
    phone.send(register())
    s.clock.advance(10)
    response = phone.send(register([], cseq=2))
    assert contacts_of(response) == [("sip:alice@192.0.2.10:5060", 3590, None)]


def test_binding_expires_when_time_passes() -> None:
    s = setup()
    Phone(s.registrar).send(register(expires=120))
    s.clock.advance(119.5)
    assert len(s.store.lookup(ALICE)) == 1
    s.clock.advance(0.5)
    assert s.store.lookup(ALICE) == []
    assert [b.aor for b in s.store.purge(s.clock.now())] == [ALICE]
    assert s.store.aors == []


def test_wildcard_with_expires_zero_removes_every_binding() -> None:
    s = setup()
    phone = Phone(s.registrar)
    phone.send(register(["<sip:alice@192.0.2.10>", "<sip:alice@192.0.2.11>"]))
    assert len(s.store.lookup(ALICE)) == 2
    response = phone.send(register(["*"], cseq=2, expires=0))
    assert response.status_code == 200 and response.headers.contact == []
    assert s.store.lookup(ALICE) == []


def test_wildcard_needs_expires_zero() -> None:
    s = setup()
    phone = Phone(s.registrar)
    phone.send(register())
    response = phone.send(register(["*"], cseq=2, expires=3600))
    assert (response.status_code, response.reason) == (400, "Contact * Needs Expires 0")
    assert len(s.store.lookup(ALICE)) == 1


def test_expires_zero_removes_one_contact() -> None:
    s = setup()
    phone = Phone(s.registrar)
    phone.send(register(["<sip:alice@192.0.2.10>", "<sip:alice@192.0.2.11>"]))
    response = phone.send(register(["<sip:alice@192.0.2.10>;expires=0"], cseq=2))
    assert contacts_of(response) == [("sip:alice@192.0.2.11", 3600, None)]
    response = phone.send(register(["<sip:alice@192.0.2.11>"], cseq=3, expires=0))
    assert response.status_code == 200 and s.store.lookup(ALICE) == []


def test_too_brief_expires_is_refused_with_min_expires() -> None:
    s = setup()
    phone = Phone(s.registrar)
    response = phone.send(register(["<sip:alice@192.0.2.10>", "<sip:alice@192.0.2.11>;expires=30"]))
    assert response.status_code == 423 and response.headers.get("Min-Expires") == "60"
    assert s.store.lookup(ALICE) == []  # nothing is committed when one contact fails


def test_long_expires_is_cut_to_the_maximum() -> None:
    s = setup()
    response = Phone(s.registrar).send(register(expires=999_999))
    assert contacts_of(response)[0][1] == 7200


def test_user_cannot_register_another_users_aor() -> None:
    s = setup()
    response = Phone(s.registrar).send(register(aor_user="bob"))
    assert response.status_code == 403
    assert s.store.lookup(f"sip:bob@{DOMAIN}") == []


def test_foreign_domain_is_not_served() -> None:
    s = setup()
    assert s.registrar.handle(register(uri="sip:elsewhere.example.org")).status_code == 404


def test_older_cseq_of_the_same_call_id_is_refused() -> None:
    s = setup()
    phone = Phone(s.registrar)
    phone.send(register(cseq=5, expires=600))
    s.clock.advance(5)
    for cseq in (4, 5):
        response = phone.send(register(cseq=cseq, expires=0))
        assert response.status_code == 500 and response.headers.get("Retry-After") == "1"
    assert phone.send(register(["*"], cseq=3, expires=0)).status_code == 500
    assert len(s.store.lookup(ALICE)) == 1
    # Another Call-ID (the phone restarted) may replace it whatever its CSeq.
    response = phone.send(register(cseq=1, call_id="reg-2@192.0.2.10", expires=0))
    assert response.status_code == 200 and s.store.lookup(ALICE) == []


def test_two_contacts_are_returned_by_preference_then_recency() -> None:
    s = setup()
    phone = Phone(s.registrar)
    phone.send(register(["<sip:alice@192.0.2.10>;q=0.5"], call_id="desk@x"))
    s.clock.advance(1)
    phone.send(register(["<sip:alice@192.0.2.20>;q=0.5"], call_id="mobile@x"))
    s.clock.advance(1)
    response = phone.send(register(["<sip:alice@192.0.2.30>;q=1.0"], call_id="soft@x"))
    assert [(uri, q) for uri, _, q in contacts_of(response)] == [
        ("sip:alice@192.0.2.30", 1.0),
        ("sip:alice@192.0.2.20", 0.5),
        ("sip:alice@192.0.2.10", 0.5),
    ]
    assert [b.call_id for b in s.store.lookup(ALICE)] == ["soft@x", "mobile@x", "desk@x"]


def test_instance_id_and_path_are_kept() -> None:
    s = setup()
    contact = '<sip:alice@192.0.2.10>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1'
    response = Phone(s.registrar).send(register([contact], extra=[("Path", "<sip:edge.example.com;lr>")]))
    assert response.headers.get_all("Path") == ["<sip:edge.example.com;lr>"]
    [binding] = s.store.lookup(ALICE)
    assert binding.instance_id == "urn:uuid:00000000-0000-1000-8000-000A95A0E128"
    assert binding.path == ("<sip:edge.example.com;lr>",)
    assert binding.contact.param("reg-id") == "1" and binding.contact.param("expires") is None


def test_too_many_contacts_are_refused() -> None:
    s = setup()
    response = Phone(s.registrar).send(register([f"<sip:alice@192.0.2.{i}>" for i in range(11)]))
    assert (response.status_code, response.reason) == (403, "Too Many Contacts")


def test_bindings_survive_a_restart_through_persistence() -> None:
    persistence = FakePersistence()
    first = setup(persistence)
    phone = Phone(first.registrar)
    phone.send(register(["<sip:alice@192.0.2.10>;q=0.7"], extra=[("User-Agent", "Desk")], expires=600))
    phone.send(register(["<sip:alice@192.0.2.11>"], call_id="other@x", expires=3600))
    assert len(persistence.rows) == 2
    first.clock.advance(1200)  # the first binding expires while the process is down
    second = setup(persistence, clock=first.clock)
    [binding] = second.store.lookup(ALICE)
    assert (str(binding.contact.uri), binding.remaining(second.clock.now())) == ("sip:alice@192.0.2.11", 2400)
    assert len(persistence.rows) == 1
    # The restarted registrar keeps the CSeq order of what it reloaded.
    response = Phone(second.registrar).send(register(["*"], call_id="other@x", expires=0))
    assert response.status_code == 500
    assert Phone(second.registrar).send(register(["*"], call_id="other@x", cseq=2, expires=0)).status_code == 200
    assert persistence.rows == {}


def test_binding_record_round_trip() -> None:
    s = setup()
    Phone(s.registrar).send(register(['<sip:alice@192.0.2.10>;q=0.3;+sip.instance="<urn:uuid:1>"']))
    [binding] = s.store.lookup(ALICE)
    assert Binding.from_record(binding.as_record()) == binding
    with pytest.raises(ValueError, match="source"):
        Binding.from_record({**binding.as_record(), "source": "nowhere"})


def test_registrar_without_authentication() -> None:
    clock = VirtualClock()
    store = MemoryBindingStore(clock)
    registrar = Registrar(store, clock, domains=[DOMAIN])
    assert registrar.handle(register()).status_code == 200
    with pytest.raises(ValueError, match="REGISTER"):
        registrar.handle(Request("OPTIONS", register().uri, register().headers))
    with pytest.raises(ValueError, match="credential"):
        Registrar(store, clock, domains=[DOMAIN], authenticator=DigestAuthenticator(DOMAIN, clock, secret=SECRET))


def test_malformed_contact_list_and_foreign_aor_are_refused() -> None:
    clock = VirtualClock()
    registrar = Registrar(MemoryBindingStore(clock), clock, domains=[DOMAIN])
    request = register()
    request.headers.add("Contact", "*")  # built by hand: the parser refuses `*` beside other contacts
    response = registrar.handle(request)
    assert (response.status_code, response.reason) == (400, "Bad Contact")
    request = register()
    request.headers.set("To", "<sip:alice@elsewhere.example.org>")
    assert registrar.handle(request).status_code == 404
