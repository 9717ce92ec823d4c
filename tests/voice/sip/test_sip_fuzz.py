"""Properties: any bytes parse or raise SipParseError, never another error; printed messages parse back equal."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from callboard.voice.sip.headers import Headers
from callboard.voice.sip.message import Request, Response, SipParseError, bad_request, parse_message, split_stream
from callboard.voice.sip.syntax import quote
from callboard.voice.sip.uri import NameAddr, SipUri, TelUri, parse_uri

SEED = (
    b"INVITE sip:bob@biloxi.example.com;transport=tcp SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport, SIP/2.0/TCP [2001:db8::1]\r\n"
    b'From: "Alice \\"A\\"" <sip:alice@atlanta.example.com>;tag=1928301774\r\n'
    b"To: sip:bob@biloxi.example.com\r\nCall-ID: a84b4c76e66710@pc33\r\nCSeq: 314159 INVITE\r\n"
    b"Max-Forwards: 70\r\nContact: <sip:alice@pc33.atlanta.example.com>;expires=60;q=0.5, *\r\n"
    b'Authorization: Digest username="a", uri="sip:b"\r\nDate: Sat, 13 Nov 2010 23:29:00 GMT\r\n'
    b"Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n"
)

token = st.text(string.ascii_letters + string.digits + "-.!%*_+`'~", min_size=1, max_size=12)
label = st.from_regex(r"[a-z]([a-z0-9-]{0,6}[a-z0-9])?", fullmatch=True)
host = st.one_of(
    st.lists(label, min_size=1, max_size=3).map(lambda labels: ".".join([*labels[:-1], "h" + labels[-1]])),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
)
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=12)
params = st.lists(st.tuples(token, st.one_of(st.none(), text.filter(bool))), max_size=3).map(tuple)
sip_uri = st.builds(
    SipUri,
    host=host,
    user=st.one_of(st.none(), text.filter(bool)),
    password=st.one_of(st.none(), text),
    port=st.one_of(st.none(), st.integers(0, 65535)),
    params=params,
    headers=st.lists(st.tuples(text.filter(bool), text), max_size=2).map(tuple),
    scheme=st.sampled_from(["sip", "sips"]),
).filter(lambda u: u.user is not None or u.password is None)
tel_uri = st.builds(TelUri, number=st.from_regex(r"\+?[0-9][0-9.\-]{0,10}", fullmatch=True), params=params)
header_param = st.tuples(token, st.one_of(st.none(), token, text.map(quote)))
name_addr = st.builds(
    NameAddr,
    uri=st.one_of(sip_uri, tel_uri),
    display_name=st.one_of(st.none(), text),
    params=st.lists(header_param, max_size=3).map(tuple),
)


def mutations() -> st.SearchStrategy[bytes]:
    def mutate(data: bytes, at: int, size: int, insert: bytes) -> bytes:
        at %= len(data) + 1
        return data[:at] + insert + data[at + size :]

    return st.builds(mutate, st.just(SEED), st.integers(0, len(SEED)), st.integers(0, 8), st.binary(max_size=8))


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=300), mutations()))
def test_any_bytes_parse_or_raise_sip_parse_error(data: bytes) -> None:
    try:
        message = parse_message(data)
    except SipParseError as exc:
        assert exc.offset >= 0
        bad_request(data, exc, to_tag="t")  # must not raise either
        return
    # a message that parses exposes all its typed fields without other errors
    try:
        headers = message.headers
        _ = (headers.via, headers.cseq, headers.contact, headers.authorization, headers.date, headers.route)
    except SipParseError:
        pass
    assert parse_message(bytes(message)) == parse_message(bytes(parse_message(bytes(message))))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=300), mutations()))
def test_split_stream_never_fails_otherwise(data: bytes) -> None:
    try:
        messages, rest = split_stream(data)
    except SipParseError:
        return
    assert b"".join(messages) in data and data.endswith(rest)


@settings(max_examples=300, deadline=None)
@given(st.one_of(sip_uri, tel_uri))
def test_uris_print_and_parse_back_equal(uri: SipUri | TelUri) -> None:
    assert parse_uri(str(uri)) == uri


@settings(max_examples=300, deadline=None)
@given(name_addr)
def test_name_addrs_print_and_parse_back_equal(value: NameAddr) -> None:
    assert NameAddr.parse(str(value)) == value


@settings(max_examples=200, deadline=None)
@given(
    method=token,
    uri=st.one_of(sip_uri.map(lambda u: SipUri(u.host, u.user, u.password, u.port, u.params, (), u.scheme)), tel_uri),
    to=name_addr,
    extra=st.lists(st.tuples(token.filter(lambda t: t.lower() not in "lcmftvi"), text), max_size=4),
    body=st.binary(max_size=40),
    code=st.integers(100, 699),
    reason=text,
)
def test_messages_print_and_parse_back_equal(
    method: str, uri: SipUri | TelUri, to: NameAddr, extra: list[tuple[str, str]], body: bytes, code: int, reason: str
) -> None:
    extra = [(name, value) for name, value in extra if name.lower() not in _TYPED]
    headers = Headers(
        [
            ("Via", "SIP/2.0/UDP h.example.com;branch=z9hG4bKx"),
            ("From", "<sip:a@a.example>;tag=1"),
            ("To", str(to)),
            ("Call-ID", "c@h"),
            ("CSeq", f"1 {method}"),
            *extra,
            ("Content-Length", str(len(body))),
        ]
    )
    request = Request(method, uri, headers, body)
    assert parse_message(bytes(request)) == request
    response = Response(code, reason.strip(" \t").replace("\x7f", "") if reason else "", headers.copy(), body)
    response.reason = "".join(c for c in response.reason if ord(c) >= 0x20)
    assert parse_message(bytes(response)) == response


_TYPED = set(
    [
        "via",
        "from",
        "to",
        "call-id",
        "cseq",
        "content-length",
        "content-type",
        "contact",
        "route",
        "record-route",
        "max-forwards",
        "expires",
        "date",
    ]
)
