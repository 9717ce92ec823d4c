"""The softphone in the page gathers from the ICE servers the server is configured with: `callboard serve` with
`CALLBOARD_ICE_SERVERS` naming a STUN server (a Binding responder in this test that answers as a 1:1 NAT would,
with 203.0.113.7), and Debian's Chromium (headless, Playwright) signed in as an agent on the softphone. The page
reads GET .../phone/config before building its peer connection: the STUN server is asked by the browser and the
offer the page posts for its line carries the server-reflexive candidate it answered."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aioice import stun
from web import CENTER, PASSWORDS, VIEWPORT, callboard_server, headless_chromium, require_browser

pytestmark = pytest.mark.e2e

PUBLIC = "203.0.113.7"
SOFTPHONE_CENTER = CENTER.replace(
    "{name: alice, attributes: {skills: [sales], languages: [en, es]}}",
    "{name: alice, attributes: {skills: [sales], languages: [en, es], phone: webrtc}}",
)


class BindingResponder:
    """A STUN server on 127.0.0.1 (RFC 5389 Binding), in a thread: it answers each request with PUBLIC and the
    port the request came from, and keeps who asked."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.1)  # how often the thread looks whether it should stop
        self.port = int(self.socket.getsockname()[1])
        self.requests: list[tuple[str, int]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                data, addr = self.socket.recvfrom(2048)
            except TimeoutError:
                continue
            try:
                request = stun.parse_message(data)
            except ValueError:
                continue
            if request.message_method != stun.Method.BINDING or request.message_class != stun.Class.REQUEST:
                continue
            self.requests.append(addr)
            response = stun.Message(stun.Method.BINDING, stun.Class.RESPONSE, transaction_id=request.transaction_id)
            response.attributes["XOR-MAPPED-ADDRESS"] = (PUBLIC, addr[1])
            self.socket.sendto(bytes(response), addr)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join()
        self.socket.close()


@pytest.fixture
def responder() -> Iterator[BindingResponder]:
    server = BindingResponder()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    require_browser()
    with headless_chromium("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream") as chromium:
        yield chromium


def test_the_page_gathers_from_the_configured_stun_server(
    browser: Any, responder: BindingResponder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    monkeypatch.setenv("CALLBOARD_ICE_SERVERS", json.dumps([{"urls": f"stun:127.0.0.1:{responder.port}"}]))
    with callboard_server(tmp_path, SOFTPHONE_CENTER) as server:
        context = browser.new_context(viewport=VIEWPORT, locale="en-US", permissions=["microphone"])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url + "/")
        page.locator("input[name=username]").fill("alice")
        page.locator("input[name=password]").fill(PASSWORDS["alice"])
        with (
            page.expect_response(lambda r: r.url.endswith("/phone/config")) as config_read,
            page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/phone")) as offer_posted,
        ):
            page.locator("button[type=submit]").click()
        config = config_read.value
        assert config.status == 200 and config.json() == {
            "ice_servers": [{"urls": [f"stun:127.0.0.1:{responder.port}"]}]
        }
        offer = json.loads(offer_posted.value.post_data)
        assert offer["type"] == "offer"
        reflexive = [line for line in offer["sdp"].splitlines() if "typ srflx" in line]
        assert reflexive and all(f" {PUBLIC} " in line for line in reflexive), offer["sdp"]
        assert responder.requests  # the browser asked the configured server
        expect(page.get_by_test_id("user")).to_contain_text("alice")
        assert errors == []
        context.close()
