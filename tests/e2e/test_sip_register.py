"""SIPp registers with Callboard's registrar over UDP with digest: 401, credentials, 200; then unregisters."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from sipp import require_sipp, run_sipp

from callboard.core.clock import SystemClock
from callboard.voice.sip.bindings import Binding, MemoryBindingStore
from callboard.voice.sip.call_events import CallEvent
from callboard.voice.sip.digest import Algorithm, DigestAuthenticator, Password
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import InviteSession
from callboard.voice.sip.registrar import Registrar
from callboard.voice.sip.scheduler import AsyncioScheduler
from callboard.voice.sip.transports import UdpTransport
from callboard.voice.sip.user_agent import UserAgent

LOOPBACK = "127.0.0.1"
SCENARIO = Path(__file__).parent / "scenarios" / "register_uac.xml"
PASSWORD = "s3cret-alice"
pytestmark = pytest.mark.e2e


class NoCalls:
    """This test's user agent takes no calls."""

    def on_incoming_call(self, call: IncomingCall) -> None:
        pass

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        pass


def registrar_user_agent(registrar: Registrar, clock: SystemClock) -> UserAgent:
    return UserAgent(NoCalls(), scheduler=AsyncioScheduler(clock), clock=clock, registrar=registrar)


class RecordingPersistence:
    def __init__(self) -> None:
        self.saved: list[Binding] = []
        self.deleted: list[Binding] = []

    def save(self, binding: Binding) -> None:
        self.saved.append(binding)

    def delete(self, binding: Binding) -> None:
        self.deleted.append(binding)

    def load_all(self) -> Iterable[Binding]:
        return []


def lookup(username: str, realm: str, algorithm: Algorithm) -> Password | None:
    return Password(PASSWORD) if username == "alice" else None


@pytest.fixture(autouse=True)
def _sipp() -> None:
    require_sipp()


async def sipp_register(port: int, password: str, workdir: Path) -> tuple[int, str]:
    code, output = await run_sipp(
        *[f"{LOOPBACK}:{port}", "-sf", str(SCENARIO), "-s", "alice", "-au", "alice", "-ap", password],
        *["-i", LOOPBACK, "-p", "0", "-m", "1", "-timeout", "10s", "-timeout_error", "-recv_timeout", "5s"],
        *["-nostdin", "-trace_err", "-error_file", str(workdir / "errors.log")],
        cwd=workdir,
    )
    errors = workdir / "errors.log"
    return code, output + (errors.read_text() if errors.exists() else "")


def md5_authenticator(clock: SystemClock) -> DigestAuthenticator:
    # SIPp 3.6 answers only the first WWW-Authenticate and knows only MD5 ("authentication must use MD5 or
    # AKAv1-MD5"), so it cannot pass our default SHA-256-first challenge: phones that old get MD5 alone.
    return DigestAuthenticator("callboard.test", clock, secret=b"e2e-secret" * 4, algorithms=[Algorithm.MD5])


async def test_sipp_registers_and_unregisters_with_digest(tmp_path: Path) -> None:
    clock = SystemClock()
    persistence = RecordingPersistence()
    store = MemoryBindingStore(clock, persistence)
    authenticator = md5_authenticator(clock)
    registrar = Registrar(store, clock, domains=[LOOPBACK], authenticator=authenticator, credentials=lookup)
    ua = registrar_user_agent(registrar, clock)
    transport = await UdpTransport.open(ua, LOOPBACK, 0)
    ua.bind(transport, sent_by=transport.sent_by)
    try:
        code, output = await sipp_register(transport.local_address[1], PASSWORD, tmp_path)
    finally:
        await transport.close()
    assert code == 0, output
    [binding] = persistence.saved
    assert binding.aor == f"sip:alice@{LOOPBACK}" and binding.user_agent == "SIPp"
    assert binding.source is not None and binding.source[0] == LOOPBACK
    assert str(binding.contact.uri).endswith(f":{binding.source[1]}")  # SIPp's Contact is where it sends from
    assert persistence.deleted == [binding] and store.lookup(binding.aor) == []


async def test_sipp_with_a_wrong_password_is_not_registered(tmp_path: Path) -> None:
    clock = SystemClock()
    store = MemoryBindingStore(clock)
    authenticator = md5_authenticator(clock)
    registrar = Registrar(store, clock, domains=[LOOPBACK], authenticator=authenticator, credentials=lookup)
    ua = registrar_user_agent(registrar, clock)
    transport = await UdpTransport.open(ua, LOOPBACK, 0)
    ua.bind(transport, sent_by=transport.sent_by)
    try:
        code, output = await sipp_register(transport.local_address[1], "wrong", tmp_path)
    finally:
        await transport.close()
    assert code != 0 and "401" in output
    assert store.lookup(f"sip:alice@{LOOPBACK}") == []
