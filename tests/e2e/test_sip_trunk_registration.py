"""Callboard registers with a trunk provider's registrar played by SIPp: 401 (MD5), digest verified by SIPp, a 4 s
grant refreshed in time with the same nonce, and the binding removed on stop; a wrong password is refused."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from sipp import LOOPBACK, finish_sipp, free_udp_port, require_sipp, start_sipp

from callboard.core.clock import SystemClock
from callboard.voice.sip.call_events import CallEvent
from callboard.voice.sip.digest import DigestClient
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import InviteSession
from callboard.voice.sip.registration import (
    OutboundRegistration,
    RegistrationState,
    RegistrationStatus,
    RetryPolicy,
)
from callboard.voice.sip.scheduler import AsyncioScheduler
from callboard.voice.sip.transports import UdpTransport
from callboard.voice.sip.user_agent import UserAgent

SCENARIO = Path(__file__).parent / "scenarios" / "trunk_registrar_uas.xml"
pytestmark = pytest.mark.e2e


class NoCalls:
    def on_incoming_call(self, call: IncomingCall) -> None:
        call.reject(403)

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        pass


class Statuses:
    """Writes down each status and lets the test wait for a state."""

    def __init__(self) -> None:
        self.seen: list[RegistrationStatus] = []
        self._changed = asyncio.Event()

    def on_registration_changed(self, registration: OutboundRegistration, status: RegistrationStatus) -> None:
        self.seen.append(status)
        self._changed.set()

    def states(self) -> list[RegistrationState]:
        return [s.state for s in self.seen]

    async def until(self, done: Callable[[], bool]) -> None:
        async with asyncio.timeout(10):
            while not done():
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture(autouse=True)
def _sipp() -> None:
    require_sipp()


async def register_with_sipp(password: str, workdir: Path, statuses: Statuses) -> tuple[int, str, bool]:
    """Runs the registrar scenario against a registration of `trunkuser`; whether it got Registered."""
    port = free_udp_port()
    process = await start_sipp(
        *["-sf", str(SCENARIO), "-i", LOOPBACK, "-p", str(port), "-m", "1"],
        *["-timeout", "15s", "-timeout_error", "-nostdin", "-trace_err", "-error_file", str(workdir / "errors.log")],
        cwd=workdir,
    )
    clock = SystemClock()
    ua = UserAgent(NoCalls(), scheduler=AsyncioScheduler(clock), clock=clock)
    transport = await UdpTransport.open(ua, LOOPBACK, 0)
    ua.bind(transport, sent_by=transport.sent_by)
    registration = OutboundRegistration(
        ua,
        f"sip:trunkuser@{LOOPBACK}:{port}",
        credentials=DigestClient("trunkuser", password),
        expires=4,
        retry=RetryPolicy(first=30),
        listener=statuses,
    )
    registered = False
    try:
        registration.start()
        await statuses.until(lambda: registration.state in (RegistrationState.REGISTERED, RegistrationState.FAILED))
        registered = registration.registered
        if registered:
            await asyncio.sleep(1.5)  # the 4 s grant is refreshed after 1 s
            registration.stop()
            await statuses.until(lambda: registration.state is RegistrationState.UNREGISTERED)
        else:
            registration.stop(unregister=False)
    finally:
        code, output = await finish_sipp(process)
        await transport.close()
    errors = workdir / "errors.log"
    return code, output + (errors.read_text() if errors.exists() else ""), registered


async def test_registers_refreshes_and_unregisters_at_a_sipp_registrar(tmp_path: Path) -> None:
    statuses = Statuses()
    code, output, registered = await register_with_sipp("trunk-pass", tmp_path, statuses)
    assert registered, statuses.seen
    assert code == 0, output
    R = RegistrationState
    assert statuses.states() == [R.REGISTERING, R.REGISTERED, R.UNREGISTERING, R.UNREGISTERED]
    assert statuses.seen[1].expires == 4 and statuses.seen[-1].status_code == 200


async def test_a_wrong_password_fails_with_the_registrars_403(tmp_path: Path) -> None:
    statuses = Statuses()
    code, output, registered = await register_with_sipp("wrong", tmp_path, statuses)
    assert not registered
    assert code == 0, output  # the scenario took its refusing branch to the end
    R = RegistrationState
    assert statuses.states() == [R.REGISTERING, R.FAILED, R.UNREGISTERED]
    failed = statuses.seen[1]
    assert failed.status_code == 403
    assert failed.reason == "registrar answered 403 Forbidden"
