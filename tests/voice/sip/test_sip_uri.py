"""SIP, tel and other URIs, and name-addr / addr-spec: parse, print, round-trip, errors."""

from __future__ import annotations

import pytest

from callboard.voice.sip.errors import SipParseError
from callboard.voice.sip.uri import AbsoluteUri, NameAddr, SipUri, TelUri, parse_uri


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sip:alice@atlanta.example.com", SipUri("atlanta.example.com", "alice")),
        ("SIP:alice@atlanta.example.com", SipUri("atlanta.example.com", "alice")),
        ("sips:bob:secret@[2001:db8::1]:5061", SipUri("[2001:db8::1]", "bob", "secret", 5061, scheme="sips")),
        (
            "sip:192.0.2.4:5060;transport=tcp;lr",
            SipUri("192.0.2.4", port=5060, params=(("transport", "tcp"), ("lr", None))),
        ),
        ("sip:atlanta.example.com.", SipUri("atlanta.example.com.")),
        (
            "sip:bob@biloxi.example.com?subject=project%20x&priority=urgent",
            SipUri("biloxi.example.com", "bob", headers=(("subject", "project x"), ("priority", "urgent"))),
        ),
        (
            "sip:+1-212-555-1212:1234@gateway.example.com;user=phone",
            SipUri("gateway.example.com", "+1-212-555-1212", "1234", params=(("user", "phone"),)),
        ),
        ("tel:+1-201-555-0123;ext=1234", TelUri("+1-201-555-0123", (("ext", "1234"),))),
        ("tel:7042;phone-context=example.com", TelUri("7042", (("phone-context", "example.com"),))),
        ("urn:service:sos", AbsoluteUri("urn", "service:sos")),
    ],
)
def test_parse_and_print(text: str, expected: object) -> None:
    uri = parse_uri(text)
    assert uri == expected
    assert parse_uri(str(uri)) == uri


def test_escapes_are_decoded_and_printed_back_minimally() -> None:
    uri = SipUri.parse("sip:%61lice%20smith@example.com;na%6De=a%3Bb")
    assert (uri.user, uri.param("name")) == ("alice smith", "a;b")
    assert str(uri) == "sip:alice%20smith@example.com;name=a%3Bb"
    odd = SipUri("example.com", "a@b:c%\u00e9")
    assert str(odd) == "sip:a%40b%3Ac%25%C3%A9@example.com"
    assert SipUri.parse(str(odd)) == odd


def test_non_utf8_escapes_survive() -> None:
    uri = SipUri.parse("sip:%FF%FE@example.com")
    assert str(uri) == "sip:%FF%FE@example.com"


def test_param_lookup_is_case_insensitive() -> None:
    uri = SipUri.parse("sip:h.example.com;Transport=TCP;LR")
    assert uri.transport == "TCP" and uri.has_param("lr") and not uri.has_param("maddr")


@pytest.mark.parametrize(
    "text",
    [
        "sip:",
        "sip:@example.com",
        "sip:alice@",
        "sip:alice@exa mple.com",
        "sip:alice@example.com:99999",
        "sip:alice@example.com:port",
        "sip:alice@[2001:db8::zz]",
        "sip:alice@999.0.0.1",
        "sip:alice@-bad-.example.com",
        "sip:al%2xice@example.com",
        "sip:alice@example.com;;lr",
        "sip:alice@example.com;a=",
        "sip:alice@example.com?",
        "sip:alice@example.com?x",
        "tel:not-a-number",
        "1sip:alice@example.com",
        "<sip:alice@example.com>",
        "nocolon",
        "x:",
    ],
)
def test_malformed_uris_raise(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_uri(text)


def test_error_names_field_and_offset() -> None:
    with pytest.raises(SipParseError) as caught:
        parse_uri("sip:alice@example.com:99999", "Request-URI", 100)
    assert caught.value.field == "Request-URI"
    assert caught.value.offset == 100 + len("sip:alice@example.com:")
    assert str(caught.value).startswith("Request-URI: bad port '99999' at offset 122")


@pytest.mark.parametrize(
    ("text", "display", "uri", "params"),
    [
        ('"Alice Smith" <sip:alice@a.example>;tag=1928', "Alice Smith", "sip:alice@a.example", (("tag", "1928"),)),
        ("<sip:alice@a.example;lr>", None, "sip:alice@a.example;lr", ()),
        ("sip:alice@a.example;tag=x", None, "sip:alice@a.example", (("tag", "x"),)),
        ("Alice  Smith<sip:a@a.example>", "Alice Smith", "sip:a@a.example", ()),
        ('"\\"quoted\\" \\\\ name" <tel:+123>', '"quoted" \\ name', "tel:+123", ()),
        ("<sip:a@a.example>;expires=60;q=0.5", None, "sip:a@a.example", (("expires", "60"), ("q", "0.5"))),
        ('<sip:a@a.example>;p="a;b,c"', None, "sip:a@a.example", (("p", '"a;b,c"'),)),
    ],
)
def test_name_addr_forms(text: str, display: str | None, uri: str, params: object) -> None:
    value = NameAddr.parse(text)
    assert (value.display_name, str(value.uri), value.params) == (display, uri, params)
    assert NameAddr.parse(str(value)) == value


def test_name_addr_accessors() -> None:
    value = NameAddr.parse('<sip:a@a.example>;expires=60;q=0.5;p="x\\"y"')
    assert (value.expires, value.q, value.param("p"), value.tag) == (60, 0.5, 'x"y', None)
    tagged = value.with_tag("abc")
    assert tagged.tag == "abc" and str(tagged).endswith(";tag=abc")
    assert tagged.with_tag("def").params.count(("tag", "def")) == 1


@pytest.mark.parametrize(
    "text",
    [
        '"unterminated <sip:a@a.example>',
        "< sip:a@a.example>",
        "<sip:a@a.example",
        "sip:a@a.example?x=y",
        "Bell, Alexander <sip:a@a.example>",
        "<sip:a@a.example>;",
        "<sip:a@a.example>;tag=",
        "<sip:a@a.example> junk",
        '"a" sip:a@a.example',
    ],
)
def test_malformed_name_addr_raises(text: str) -> None:
    with pytest.raises(SipParseError):
        NameAddr.parse(text)
