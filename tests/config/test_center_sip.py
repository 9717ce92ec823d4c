"""Users' SIP credentials in the center file: checked with positions, written by export, planned as secrets."""

from __future__ import annotations

import dataclasses

from callboard.config.center import check_text, load_center_text
from callboard.config.dump import dump_center
from callboard.config.model import Center, SipCredentials, User
from callboard.config.plan import Change, format_plan, plan

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaA"
MD5 = "5f4dcc3b5aa765d61d8327deb882cf99"
SHA256 = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
SIP = SipCredentials("callboard", MD5, SHA256)

FILE = f"""\
version: 1
users:
  - username: admin
    role: admin
    password_hash: "{HASH}"
    sip_credentials:
      realm: callboard
      ha1_md5: {MD5}
      ha1_sha256: {SHA256}
"""


def errors(text: str) -> list[str]:
    return [str(e) for e in check_text(text, "c.yaml")]


def test_sip_credentials_load_beside_a_password_hash() -> None:
    (user,) = load_center_text(FILE, "c.yaml").users
    assert user == User("admin", "admin", password_hash=HASH, sip_credentials=SIP)


def test_each_mistake_is_reported_where_it_is() -> None:
    assert errors(FILE.replace(f"ha1_md5: {MD5}", f"ha1_md5: {MD5.upper()}")) == [
        "c.yaml:8:16: 'ha1_md5' must be 32 lower-case hex digits"
    ]
    assert errors(FILE.replace(f"ha1_sha256: {SHA256}", f"ha1_sha256: {MD5}")) == [
        "c.yaml:9:19: 'ha1_sha256' must be 64 lower-case hex digits"
    ]
    assert errors(FILE.replace("      realm: callboard\n", "      realm: callboard\n      nonce: x\n")) == [
        "c.yaml:8:7: unknown key 'nonce' in sip_credentials; expected one of: realm, ha1_md5, ha1_sha256"
    ]
    assert errors(FILE.replace("      realm: callboard\n", "")) == [
        "c.yaml:7:7: missing required key 'realm' in sip_credentials"
    ]
    assert errors(FILE.replace("      realm: callboard\n", "      realm: ''\n")) == [
        "c.yaml:7:14: 'realm' must not be empty"
    ]
    flat = FILE.split("    sip_credentials:")[0] + "    sip_credentials: yes\n"
    assert errors(flat) == ["c.yaml:6:22: expected a mapping for sip_credentials, got true"]
    clear = FILE.replace(f'password_hash: "{HASH}"', "password: secret")
    assert errors(clear) == [
        "c.yaml:6:5: 'sip_credentials' go with 'password_hash'; a clear 'password' gives them when applied"
    ]


def test_export_writes_them_and_they_read_back() -> None:
    center = Center(
        users=(
            User("admin", "admin", password_hash=HASH, sip_credentials=SIP),
            User("bob", "admin", password_hash=HASH),
        )
    )
    text = dump_center(center)
    assert f"    sip_credentials:\n      realm: callboard\n      ha1_md5: {MD5}\n      ha1_sha256: {SHA256}\n" in text
    assert text.count("sip_credentials") == 1
    assert load_center_text(text, "out.yaml") == center


def test_plan_treats_them_as_a_secret() -> None:
    current = Center(users=(User("admin", "admin", password_hash=HASH, sip_credentials=SIP),))
    assert plan(current, current) == []
    other_realm = dataclasses.replace(SIP, realm="acme")
    moved = Center(users=(User("admin", "admin", password_hash=HASH, sip_credentials=other_realm),))
    changes = plan(current, moved)
    assert changes == [Change("update", "user", None, "admin", {"sip_credentials": (None, None)})]
    assert format_plan(changes) == "~ user admin: sip_credentials changed"
    assert MD5 not in format_plan(changes) and "acme" not in format_plan(changes)
    # A password_hash without them means the user has none: dropping them is a change.
    dropped = Center(users=(User("admin", "admin", password_hash=HASH),))
    assert plan(current, dropped)[0].fields == {"sip_credentials": (None, None)}
    # A clear password's credentials are not known to plan until the applier derives them for its realm.
    clear = Center(users=(User("admin", "admin", password="secret"),))
    assert plan(current, clear) == []
    derived = Center(users=(User("admin", "admin", password="secret", sip_credentials=other_realm),))
    assert plan(current, derived)[0].fields == {"sip_credentials": (None, None)}
