"""The ICE servers of the WebRTC lines (`CALLBOARD_ICE_SERVERS`): a JSON list of RTCIceServer objects, read into
one shape (`urls` always a list), and every mistake refused with the server and the reason, before `serve` starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from callboard.app.cli import app
from callboard.app.voice import ice_servers
from callboard.config.settings import Settings
from callboard.voice.calls.webrtc_line import IceServer

STUN = {"urls": "stun:stun.example.net:3478"}
TURN = {
    "urls": ["turn:turn.example.net:3478?transport=udp", "turn:turn.example.net:3478?transport=tcp",
             "turns:turn.example.net:5349"],
    "username": "callboard",
    "credential": "s3cret",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env file
    monkeypatch.delenv("CALLBOARD_ICE_SERVERS", raising=False)


def test_no_ice_servers_by_default() -> None:
    assert Settings().ice_server_list == []
    assert Settings(ice_servers="").ice_server_list == []
    assert ice_servers(Settings()) == ()


def test_stun_and_turn_servers_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBOARD_ICE_SERVERS", json.dumps([STUN, TURN]))
    settings = Settings()
    assert settings.ice_server_list == [{"urls": ["stun:stun.example.net:3478"]}, TURN]
    assert ice_servers(settings) == (
        IceServer(("stun:stun.example.net:3478",)),
        IceServer(tuple(TURN["urls"]), "callboard", "s3cret"),
    )
    relay = ice_servers(settings)[1].rtc()  # what aiortc is given
    assert (relay.urls, relay.username, relay.credential) == (TURN["urls"], "callboard", "s3cret")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("stun:stun.example.net", "is not JSON"),
        ('{"urls": "stun:stun.example.net"}', "must be a JSON list of servers"),
        ('["stun:stun.example.net"]', "server 1 must be an object"),
        ('[{"url": "stun:stun.example.net"}]', "server 1 has unknown keys url (allowed: urls, username, credential)"),
        ('[{"urls": []}]', "server 1 needs `urls`"),
        ('[{"urls": [3478]}]', "server 1 needs `urls`"),
        ('[{"urls": "stun:a.example"}, {"urls": "http://turn.example.net"}]', "server 2: 'http://turn.example.net' is"),
        ('[{"urls": "stuns:stun.example.net"}]', "is not a STUN or TURN URL"),
        ('[{"urls": "stun:[::1]:3478"}]', "is not a STUN or TURN URL"),
        ('[{"urls": "stun:stun.example.net:70000"}]', "has no valid port"),
        ('[{"urls": "stun:stun.example.net?transport=udp"}]', "a STUN URL takes no ?transport="),
        ('[{"urls": "turns:t.example.net?transport=udp", "username": "u", "credential": "c"}]', "on TCP"),
        ('[{"urls": "turn:turn.example.net"}]', "a TURN server needs a `username` and a `credential`"),
        ('[{"urls": "turn:turn.example.net", "username": "u"}]', "needs a `username` and a `credential`"),
        ('[{"urls": "turn:turn.example.net", "username": "u", "credential": 7}]', "`credential` must be a text"),
    ],
)
def test_bad_ice_servers_are_refused_with_the_reason(value: str, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(ice_servers=value)
    (problem,) = refused.value.errors()
    assert problem["loc"] == ("ice_servers",)
    assert reason in problem["msg"]


def test_serve_refuses_to_start_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBOARD_ICE_SERVERS", '[{"urls": "turn:turn.example.net:3478"}]')
    result = CliRunner().invoke(app, ["serve"])
    said = " ".join(result.output.split())  # the console wraps long lines
    assert result.exit_code == 2, said
    assert "error: CALLBOARD_ICE_SERVERS: Value error, server 1: a TURN server needs a `username` and a" in said
