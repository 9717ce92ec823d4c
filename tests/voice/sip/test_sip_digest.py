"""Digest authentication: RFC known answers, client and server round trips, and the ways credentials are refused."""

from __future__ import annotations

import pytest

from callboard.core.clock import VirtualClock
from callboard.voice.sip.digest import (
    Algorithm,
    AuthOutcome,
    DigestAuthenticator,
    DigestClient,
    Ha1,
    Password,
    ha1,
    request_digest,
)
from callboard.voice.sip.fields import AuthParam, Challenge, Credentials
from callboard.voice.sip.message import Request, Response
from callboard.voice.sip.nonces import CountCheck, NonceCounts, NonceIssuer, NonceStatus
from callboard.voice.sip.uri import SipUri

REALM = "callboard.example.com"
SECRET = b"0123456789abcdef0123456789abcdef"
USERS = {"alice": "s3cret-alice", "bob": "hunter2"}

# RFC 7616 §3.9.1
MUFASA = "Mufasa"
LIFE = "Circle of Life"
HTTP_REALM = "http-auth@example.org"
NONCE_7616 = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
CNONCE_7616 = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
OPAQUE_7616 = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
RESPONSE_7616 = {
    Algorithm.MD5: "8ca523f5e9506fed4657c9700eebdbec",
    Algorithm.SHA_256: "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
}


def lookup(username: str, realm: str, algorithm: Algorithm) -> Password | None:
    password = USERS.get(username)
    return None if password is None or realm != REALM else Password(password)


def register(uri: str = "sip:callboard.example.com", cseq: int = 1, authorization: str | None = None) -> Request:
    text = (
        f"REGISTER {uri} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:alice@callboard.example.com>;tag=1928301774\r\n"
        "To: <sip:alice@callboard.example.com>\r\n"
        "Call-ID: a84b4c76e66710@192.0.2.10\r\n"
        f"CSeq: {cseq} REGISTER\r\n"
        "Contact: <sip:alice@192.0.2.10:5060>\r\n"
        "Expires: 3600\r\n"
        + ("" if authorization is None else f"Authorization: {authorization}\r\n")
        + "Content-Length: 0\r\n\r\n"
    )
    return Request.parse(text.encode())


def over_the_wire(message: Request) -> Request:
    return Request.parse(bytes(message))


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def server(clock: VirtualClock) -> DigestAuthenticator:
    return DigestAuthenticator(REALM, clock, secret=SECRET, nonce_ttl=60)


def signed(server: DigestAuthenticator, client: DigestClient, request: Request) -> Request:
    """The request as the client resends it after the server's 401, parsed back from its bytes."""
    challenge = Response.parse(bytes(server.challenge_response(request, to_tag="srv1")))
    assert client.handle(challenge)
    client.authorize(request)
    return over_the_wire(request)


# Known answers


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_rfc7616_example(algorithm: Algorithm) -> None:
    secret = ha1(MUFASA, HTTP_REALM, LIFE, algorithm)
    response = request_digest(
        algorithm, secret, NONCE_7616, "GET", "/dir/index.html", qop="auth", nc="00000001", cnonce=CNONCE_7616
    )
    assert response == RESPONSE_7616[algorithm]


def test_rfc2617_example() -> None:
    secret = ha1("Mufasa", "testrealm@host.com", "Circle Of Life")
    response = request_digest(
        Algorithm.MD5,
        secret,
        "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        "GET",
        "/dir/index.html",
        qop="auth",
        nc="00000001",
        cnonce="0a4f113b",
    )
    assert response == "6629fae49393a05397450978507c4ef1"


def test_client_answers_the_rfc7616_challenges_from_header_text() -> None:
    # The two challenges of RFC 7616 §3.9.1, folded over lines as there, in a SIP 401.
    text = (
        "SIP/2.0 401 Unauthorized\r\n"
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
        "From: <sip:alice@example.org>;tag=1928301774\r\n"
        "To: <sip:alice@example.org>;tag=a6c85cf\r\n"
        "Call-ID: a84b4c76e66710\r\n"
        "CSeq: 1 REGISTER\r\n"
        'WWW-Authenticate: Digest\r\n realm="http-auth@example.org",\r\n qop="auth, auth-int",\r\n'
        f' algorithm=MD5,\r\n nonce="{NONCE_7616}",\r\n opaque="{OPAQUE_7616}"\r\n'
        'WWW-Authenticate: Digest\r\n realm="http-auth@example.org",\r\n qop="auth, auth-int",\r\n'
        f' algorithm=SHA-256,\r\n nonce="{NONCE_7616}",\r\n opaque="{OPAQUE_7616}"\r\n'
        "Content-Length: 0\r\n\r\n"
    )
    challenges = Response.parse(text.encode()).headers.www_authenticate
    for preferred in Algorithm:
        client = DigestClient(MUFASA, LIFE, algorithms=[preferred], cnonce=lambda: CNONCE_7616)
        chosen = client.select(challenges)
        assert chosen is not None
        credentials = client.answer(chosen, "GET", "/dir/index.html")
        assert credentials.param("response") == RESPONSE_7616[preferred]
        assert credentials.param("algorithm") == preferred.value
        assert (credentials.param("qop"), credentials.param("nc")) == ("auth", "00000001")
        assert credentials.param("opaque") == OPAQUE_7616
        assert Credentials.parse(str(credentials)) == credentials
    assert DigestClient(MUFASA, LIFE).select(challenges) is challenges[1]  # SHA-256 preferred over MD5


def test_client_answers_a_challenge_without_qop_in_the_rfc2069_form() -> None:
    challenge = Challenge.parse('Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"')
    credentials = DigestClient("Mufasa", "CircleOfLife").answer(challenge, "GET", "/dir/index.html")
    # The inputs of the RFC 2069 §2.4 example; its printed response does not follow from them.
    assert credentials.param("response") == "1949323746fe6a43ef61f9606e7febea"
    assert [p.name for p in credentials.params] == ["username", "realm", "nonce", "uri", "response"]


def test_client_skips_challenges_it_cannot_answer() -> None:
    client = DigestClient("alice", "pw")
    for text in [
        'Digest realm="r", nonce="n", qop="auth-int"',
        'Digest realm="r", nonce="n", algorithm=SHA-512-256, qop="auth"',
        'Digest realm="r", nonce="n", algorithm=MD5-sess, qop="auth"',
        'Digest nonce="n", qop="auth"',
        'Basic realm="r"',
    ]:
        challenge = Challenge.parse(text)
        assert client.select([challenge]) is None
        with pytest.raises(ValueError, match="cannot be answered"):
            client.answer(challenge, "REGISTER", "sip:r")


# Round trips


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_round_trip(server: DigestAuthenticator, algorithm: Algorithm) -> None:
    client = DigestClient("alice", USERS["alice"], algorithms=[algorithm])
    request = signed(server, client, register())
    [credentials] = request.headers.authorization
    assert credentials.param("algorithm") == algorithm.value
    result = server.authenticate(request, lookup)
    assert (result.outcome, result.username, result.algorithm) == (AuthOutcome.OK, "alice", algorithm)


def test_challenge_response_offers_sha256_then_md5(server: DigestAuthenticator) -> None:
    response = Response.parse(bytes(server.challenge_response(register(), to_tag="t")))
    assert response.status_code == 401
    challenges = response.headers.www_authenticate
    assert [c.param("algorithm") for c in challenges] == ["SHA-256", "MD5"]
    assert len({c.param("nonce") for c in challenges}) == 1
    assert all(c.param("qop") == "auth" and c.param("opaque") == server.opaque for c in challenges)
    assert all(c.param("stale") is None for c in challenges)
    assert 'algorithm=SHA-256, qop="auth"' in response.headers.fields("WWW-Authenticate")[0].value

    proxy = Response.parse(bytes(server.challenge_response(register(), proxy=True, stale=True)))
    assert proxy.status_code == 407 and not proxy.headers.www_authenticate
    assert all(c.param("stale") == "true" for c in proxy.headers.proxy_authenticate)


def test_proxy_round_trip(server: DigestAuthenticator) -> None:
    client = DigestClient("bob", USERS["bob"])
    request = register()
    assert client.handle(Response.parse(bytes(server.challenge_response(request, proxy=True))))
    client.authorize(request)
    request = over_the_wire(request)
    assert not request.headers.authorization
    assert server.authenticate(request, lookup, proxy=True).ok
    assert not server.authenticate(request, lookup).ok


def test_later_requests_reuse_the_nonce_with_rising_counts(server: DigestAuthenticator) -> None:
    client = DigestClient("alice", USERS["alice"])
    first = signed(server, client, register())
    assert server.authenticate(first, lookup).ok
    second = register(cseq=2)
    client.authorize(second)
    second = over_the_wire(second)
    [before], [after] = first.headers.authorization, second.headers.authorization
    assert after.param("nonce") == before.param("nonce")
    assert (before.param("nc"), after.param("nc")) == ("00000001", "00000002")
    assert after.param("cnonce") != before.param("cnonce")
    assert server.authenticate(second, lookup).ok
    assert len(second.headers.fields("Authorization")) == 1  # replaced, not added


def test_ha1_stored_credentials(server: DigestAuthenticator) -> None:
    stored = {a: ha1("alice", REALM, USERS["alice"], a) for a in Algorithm}

    def hashed(username: str, realm: str, algorithm: Algorithm) -> Ha1 | None:
        return Ha1(stored[algorithm].upper()) if username == "alice" else None

    for algorithm in Algorithm:
        client = DigestClient("alice", USERS["alice"], algorithms=[algorithm])
        assert server.authenticate(signed(server, client, register()), hashed).ok
    assert "s3cret" not in repr(Password(USERS["alice"]))
    assert stored[Algorithm.MD5] not in repr(Ha1(stored[Algorithm.MD5]))


# Refusals


def test_wrong_password(server: DigestAuthenticator) -> None:
    client = DigestClient("alice", "not-the-password")
    request = signed(server, client, register())
    result = server.authenticate(request, lookup)
    assert (result.outcome, result.reason, result.username) == (AuthOutcome.FAILED, "wrong response", "alice")
    # Challenged again without stale=true: the client gives up rather than loop (RFC 3261 §22.2).
    assert not client.handle(Response.parse(bytes(server.challenge_response(request))))


def test_unknown_user(server: DigestAuthenticator) -> None:
    result = server.authenticate(signed(server, DigestClient("mallory", "x"), register()), lookup)
    assert (result.outcome, result.reason) == (AuthOutcome.FAILED, "unknown user")


def test_wrong_uri(server: DigestAuthenticator) -> None:
    request = signed(server, DigestClient("alice", USERS["alice"]), register())
    request.uri = SipUri("other.example.com")
    assert server.authenticate(request, lookup).reason == "uri does not match the Request-URI"


def test_uri_compared_as_a_uri(server: DigestAuthenticator) -> None:
    request = signed(server, DigestClient("alice", USERS["alice"]), register("sip:%61lice@callboard.example.com"))
    request.uri = SipUri("callboard.example.com", user="alice")
    assert server.authenticate(request, lookup).ok


def test_wrong_realm(server: DigestAuthenticator, clock: VirtualClock) -> None:
    elsewhere = DigestAuthenticator("elsewhere.example.com", clock, secret=SECRET)
    request = signed(elsewhere, DigestClient("alice", USERS["alice"]), register())
    assert server.authenticate(request, lookup).reason == "no credentials for this realm"
    [credentials] = request.headers.authorization
    assert server.verify(credentials, request.method, request.uri, lookup).reason == "wrong realm"


def test_tampered_nonce(server: DigestAuthenticator, clock: VirtualClock) -> None:
    [challenge, _] = server.challenges()
    nonce = challenge.param("nonce") or ""
    other = NonceIssuer(REALM, clock, secret=b"another secret of 32 bytes......", ttl=60).issue()
    flipped = nonce[:5] + ("A" if nonce[5] != "A" else "B") + nonce[6:]
    for forged in [flipped, other, nonce + "A", nonce[:-1], NONCE_7616]:
        params = tuple(AuthParam(p.name, forged) if p.name == "nonce" else p for p in challenge.params)
        credentials = DigestClient("alice", USERS["alice"]).answer(
            Challenge("Digest", params), "REGISTER", "sip:callboard.example.com"
        )
        result = server.verify(credentials, "REGISTER", "sip:callboard.example.com", lookup)
        assert (result.outcome, result.reason) == (AuthOutcome.FAILED, "nonce not issued here"), forged


def test_nonce_spelled_otherwise_is_refused(clock: VirtualClock) -> None:
    issuer = NonceIssuer(REALM, clock, secret=SECRET, ttl=60)
    nonce = issuer.issue()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # The last character holds 4 unused bits: another spelling of the same bytes.
    twin = nonce[:-1] + alphabet[alphabet.index(nonce[-1]) ^ 1]
    assert issuer.check(nonce).status is NonceStatus.VALID
    assert issuer.check(twin).status is NonceStatus.INVALID


def test_expired_nonce_is_stale_and_the_client_retries(server: DigestAuthenticator, clock: VirtualClock) -> None:
    client = DigestClient("alice", USERS["alice"])
    first = signed(server, client, register())
    assert server.authenticate(first, lookup).ok
    clock.advance(61)
    later = register(cseq=2)
    client.authorize(later)
    result = server.authenticate(over_the_wire(later), lookup)
    assert (result.outcome, result.reason) == (AuthOutcome.STALE, "nonce expired")
    assert client.handle(Response.parse(bytes(server.challenge_response(later, stale=True))))
    client.authorize(later)
    later = over_the_wire(later)
    assert later.headers.authorization[0].param("nc") == "00000001"
    assert server.authenticate(later, lookup).ok


def test_expired_nonce_with_wrong_password_is_not_stale(server: DigestAuthenticator, clock: VirtualClock) -> None:
    request = signed(server, DigestClient("alice", "wrong"), register())
    clock.advance(61)
    assert server.authenticate(request, lookup).outcome is AuthOutcome.FAILED


def test_replayed_nonce_count(server: DigestAuthenticator) -> None:
    client = DigestClient("alice", USERS["alice"])
    first = signed(server, client, register())
    assert server.authenticate(first, lookup).ok
    assert server.authenticate(first, lookup).reason == "nonce count replayed"
    third, second = register(cseq=2), register(cseq=3)
    client.authorize(third)  # nc 2
    client.authorize(second)  # nc 3, arrives first
    assert server.authenticate(over_the_wire(second), lookup).ok
    assert server.authenticate(over_the_wire(third), lookup).reason == "nonce count replayed"


def test_a_forged_request_does_not_move_the_count(server: DigestAuthenticator) -> None:
    client = DigestClient("alice", USERS["alice"])
    request = signed(server, client, register())
    [credentials] = request.headers.authorization
    forged = Credentials(
        "Digest", tuple(AuthParam(p.name, "0" * 32) if p.name == "response" else p for p in credentials.params)
    )
    assert server.verify(forged, "REGISTER", request.uri, lookup).reason == "wrong response"
    assert server.authenticate(request, lookup).ok


def test_forgotten_nonce_counts_are_stale_not_replayable(clock: VirtualClock) -> None:
    server = DigestAuthenticator(REALM, clock, secret=SECRET, max_nonces=2)
    requests = []
    for _ in range(3):
        requests.append(signed(server, DigestClient("alice", USERS["alice"]), register()))
        clock.advance(1)
    for request in requests:
        assert server.authenticate(request, lookup).ok
    # The first nonce was pushed out of the table: its replay is not taken for a first use.
    result = server.authenticate(requests[0], lookup)
    assert (result.outcome, result.reason) == (AuthOutcome.STALE, "nonce count forgotten")
    assert server.authenticate(signed(server, DigestClient("alice", USERS["alice"]), register()), lookup).ok


def test_nonce_counts_table() -> None:
    counts = NonceCounts(capacity=1)
    assert counts.advance("a", 10, 1) is CountCheck.ACCEPTED
    assert counts.advance("a", 10, 1) is CountCheck.REPLAYED
    assert counts.advance("a", 10, 5) is CountCheck.ACCEPTED
    assert counts.advance("b", 20, 1) is CountCheck.ACCEPTED
    assert len(counts) == 1
    assert counts.advance("a", 10, 6) is CountCheck.FORGOTTEN
    assert counts.advance("c", 5, 1) is CountCheck.FORGOTTEN
    assert counts.advance("d", 11, 1) is CountCheck.ACCEPTED


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (("qop", None), "missing qop"),
        (("nc", None), "missing nc"),
        (("cnonce", None), "missing cnonce"),
        (("username", None), "missing username"),
        (("qop", "auth-int"), "qop is not auth"),
        (("nc", "1"), "bad nonce count"),
        (("algorithm", "SHA-512-256"), "algorithm not offered"),
        (("opaque", "tampered"), "opaque does not match"),
        (("opaque", None), "opaque does not match"),
        (("userhash", "true"), "userhash is not supported"),
    ],
)
def test_malformed_credentials(server: DigestAuthenticator, change: tuple[str, str | None], reason: str) -> None:
    request = signed(server, DigestClient("alice", USERS["alice"]), register())
    [credentials] = request.headers.authorization
    name, value = change
    params = [p for p in credentials.params if p.name != name]
    if value is not None:
        params.append(AuthParam(name, value))
    result = server.verify(Credentials("Digest", tuple(params)), "REGISTER", request.uri, lookup)
    assert (result.outcome, result.reason) == (AuthOutcome.FAILED, reason)


def test_md5_only_server_refuses_sha256(clock: VirtualClock) -> None:
    md5_only = DigestAuthenticator(REALM, clock, secret=SECRET, algorithms=[Algorithm.MD5])
    sha = DigestAuthenticator(REALM, clock, secret=SECRET)
    request = signed(sha, DigestClient("alice", USERS["alice"]), register())
    assert md5_only.authenticate(request, lookup).reason == "algorithm not offered"
    assert [c.param("algorithm") for c in md5_only.challenges()] == ["MD5"]


def test_missing_and_malformed_authorization(server: DigestAuthenticator) -> None:
    assert server.authenticate(register(), lookup).reason == "no credentials for this realm"
    request = register()
    request.headers.add("Authorization", 'Digest username="alice, realm=')
    assert server.authenticate(request, lookup).reason.startswith("malformed credentials")
    # Credentials.parse cannot read Basic's token68 (`Basic YWxpY2U6cHc=`); a malformed or foreign header does
    # not hide the digest credentials that follow it.
    signed(server, DigestClient("alice", USERS["alice"]), request)
    assert server.authenticate(request, lookup).ok
    basic = Credentials("Basic")
    assert server.verify(basic, "REGISTER", request.uri, lookup).reason == "scheme Basic is not Digest"


def test_bad_settings(clock: VirtualClock) -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        DigestAuthenticator(REALM, clock, secret=b"short")
    with pytest.raises(ValueError, match="algorithm"):
        DigestAuthenticator(REALM, clock, secret=SECRET, algorithms=[])


# Real peers' header text


@pytest.mark.parametrize("peer", ["baresip", "sipp"])
def test_register_as_a_peer_sends_it(server: DigestAuthenticator, peer: str) -> None:
    [_, md5] = server.challenges()
    nonce = md5.param("nonce") or ""
    uri, cnonce = "sip:callboard.example.com", "5f1d2a3b4c6e7d80"
    secret = ha1("alice", REALM, USERS["alice"])
    response = request_digest(Algorithm.MD5, secret, nonce, "REGISTER", uri, qop="auth", nc="00000001", cnonce=cnonce)
    # Layouts in the style of each peer (written by hand, not captured): what matters is the order, the spacing
    # and which values come quoted.
    if peer == "baresip":  # ", " separators, qop and nc as tokens near the end
        value = (
            f'Digest username="alice", realm="{REALM}", nonce="{nonce}", uri="{uri}", response="{response}", '
            f'cnonce="{cnonce}", opaque="{server.opaque}", qop=auth, nc=00000001, algorithm=MD5'
        )
    else:  # SIPp's [authentication] keyword: no space after commas, cnonce/nc/qop before uri
        value = (
            f'Digest username="alice",realm="{REALM}",cnonce="{cnonce}",nc=00000001,qop=auth,uri="{uri}",'
            f'nonce="{nonce}",response="{response}",algorithm=MD5,opaque="{server.opaque}"'
        )
    request = register(authorization=value)
    [credentials] = request.headers.authorization
    assert Credentials.parse(str(credentials)) == credentials
    assert AuthParam("qop", "auth", quoted=False) in credentials.params
    assert server.authenticate(request, lookup).ok
    assert Request.parse(bytes(request)).headers == request.headers


def test_forget_lets_a_client_take_a_new_challenge_without_stale(server: DigestAuthenticator) -> None:
    client = DigestClient("alice", USERS["alice"])
    assert not client.challenged
    first = signed(server, client, register())
    assert client.challenged and server.authenticate(first, lookup).ok
    renewed = Response.parse(bytes(server.challenge_response(register(cseq=2))))  # no stale=true
    assert not client.handle(renewed)  # answered already: these credentials were refused
    client.forget()
    assert not client.challenged
    assert client.handle(renewed)
    later = register(cseq=2)
    client.authorize(later)
    assert later.headers.authorization[0].param("nc") == "00000001"
    assert server.authenticate(over_the_wire(later), lookup).ok
