"""The voice node around the B2BUA: phones' registrations survive a restart, calls that did not are released
from routing, agents' SIP credentials come from the store, and the NAT rule for reaching a phone."""

from __future__ import annotations

import asyncio
from pathlib import Path

from callboard.app.center import Center
from callboard.app.voice import Directory, VoiceNode, _reach
from callboard.config.settings import Settings
from callboard.core.clock import SystemClock
from callboard.routing.model import TaskStatus
from callboard.routing.workspace import Workspace
from callboard.voice.sip.bindings import Binding, MemoryBindingStore
from callboard.voice.sip.call_events import CallEvent
from callboard.voice.sip.digest import Algorithm, DigestAuthenticator, Ha1, Password, ha1
from callboard.voice.sip.incoming_call import IncomingCall
from callboard.voice.sip.invite_session import InviteSession
from callboard.voice.sip.registrar import Registrar
from callboard.voice.sip.scheduler import AsyncioScheduler
from callboard.voice.sip.transports import UdpTransport
from callboard.voice.sip.uri import NameAddr, SipUri
from callboard.voice.sip.user_agent import UserAgent
from conftest import Database

CONFIG = {"task_routing": {"filters": [], "default_filter": {"queue": "support"}}}


def build(ws: Workspace) -> None:
    ws.add_activity("Offline", False)
    ws.add_activity("Available", True)
    ws.add_channel("voice", capacity=1)
    ws.add_queue("support", target_workers="1 == 1")
    ws.add_workflow("inbound", CONFIG, task_reservation_timeout=20)
    ws.add_worker("ann")


def settings(tmp_path: Path) -> Settings:
    return Settings(
        sip_port=0, sip_transports="udp,tcp", sip_realm="acme", recordings_dir=str(tmp_path / "recordings"),
        rtp_port_min=25000, rtp_port_max=25100,
    )  # fmt: skip


def binding(
    aor: str, contact: str, now: float, *, source: tuple[str, int] | None = None, transport: str = "UDP"
) -> Binding:
    return Binding(
        aor=aor, contact=NameAddr.parse(contact, "Contact"), expires_at=now + 600, call_id="c1", cseq=1,
        registered_at=now, source=source, transport=transport,
    )  # fmt: skip


async def test_registrations_survive_a_restart_and_lost_calls_leave_routing(database: Database, tmp_path: Path) -> None:
    clock = SystemClock()
    store = await database.open()
    await store.migrate()
    center = await Center.start(store, clock, timers=False)
    ws = await center.create_workspace("acme")
    await center.run(ws.sid, build)
    workflow = next(iter(ws.workflows))
    node = await VoiceNode.start(settings(tmp_path), center, clock)
    aor = "sip:ann@127.0.0.1"
    node.bindings.update(aor, [binding(aor, "<sip:ann@127.0.0.1:5070>", clock.now())])
    assert {t.name for t in node.transports} == {"UDP", "TCP"}
    await node.stop()
    # A call was waiting when the process stopped: its task is in the store, its call is gone.
    lost = await center.run(
        ws.sid, lambda w: w.create_task(workflow, attributes={"call_sid": "CA" + "0" * 32}, channel="voice")
    )
    chat = await center.run(ws.sid, lambda w: w.create_task(workflow, attributes={}, channel="voice"))
    await center.stop()
    await store.close()

    store = await database.open()
    center = await Center.start(store, clock, timers=False)
    node = await VoiceNode.start(settings(tmp_path), center, clock)
    try:
        [kept] = node.bindings.lookup(aor)
        assert str(kept.contact.uri) == "sip:ann@127.0.0.1:5070"
        again = center.workspace("acme")
        assert lost.sid not in again.tasks  # canceled: no caller is there any more
        assert again.tasks[chat.sid].status is TaskStatus.PENDING  # not a call: left alone
        logged = [e for _, e in await store.events(again.sid) if e.resource_sid == lost.sid]
        assert [e.data["reason"] for e in logged if e.name == "task.canceled"] == ["call lost in a restart"]
    finally:
        await node.stop()
        await center.stop()
        await store.close()


async def test_directory_serves_the_ha1_of_the_realm_and_the_workers_users(database: Database) -> None:
    store = await database.open()
    await store.migrate()
    try:
        ann = await store.create_user("ann", "$argon2id$x", "agent", "WS1", "WK1")
        await store.set_sip_credentials(
            ann["id"], "acme", ha1("ann", "acme", "pw"), ha1("ann", "acme", "pw", Algorithm.SHA_256)
        )
        gone = await store.create_user("gone", "$argon2id$x", "agent", "WS1", "WK1")
        await store.set_sip_credentials(gone["id"], "acme", ha1("gone", "acme", "pw"), "0" * 64)
        await store.update_user(gone["id"], disabled=True)
        other = await store.create_user("old", "$argon2id$x", "agent", "WS1", "WK2")
        await store.set_sip_credentials(other["id"], "elsewhere", ha1("old", "elsewhere", "pw"), "1" * 64)
        directory = Directory(store, "acme")
        await directory.refresh()
        assert directory.lookup("ann", "acme", Algorithm.MD5) == Ha1(ha1("ann", "acme", "pw"))
        assert directory.lookup("ann", "acme", Algorithm.SHA_256) == Ha1(ha1("ann", "acme", "pw", Algorithm.SHA_256))
        assert directory.lookup("ann", "other-realm", Algorithm.MD5) is None
        assert directory.lookup("gone", "acme", Algorithm.MD5) is None  # disabled users cannot register
        assert directory.lookup("old", "acme", Algorithm.MD5) is None  # credentials made for another realm
        assert directory.usernames("WK1") == ["ann"] and directory.usernames("WK2") == ["old"]
        assert (directory.worker_of("ann"), directory.worker_of("gone"), directory.worker_of("nobody")) == (
            "WK1",
            None,
            None,
        )
    finally:
        await store.close()


def test_a_phone_is_reached_at_its_contact_unless_nat_or_a_connection_says_otherwise() -> None:
    now = 1000.0
    aor = "sip:ann@example.com"
    same_host = binding(aor, "<sip:ann@192.0.2.5:5070>", now, source=("192.0.2.5", 5062))
    assert _reach(same_host) is None  # a phone registering from another port of its own address
    natted = binding(aor, "<sip:ann@10.0.0.7:5060>", now, source=("198.51.100.9", 40123))
    assert _reach(natted) == ("198.51.100.9", 40123)  # the private contact is unreachable: the NAT binding is
    over_tcp = binding(aor, "<sip:ann@192.0.2.5:5070;transport=tcp>", now, source=("192.0.2.5", 50000), transport="TCP")
    assert _reach(over_tcp) == ("192.0.2.5", 50000)  # back over the phone's own connection
    assert _reach(binding(aor, "<sip:ann@192.0.2.5>", now)) is None


class NoCalls:
    def on_incoming_call(self, call: IncomingCall) -> None:
        call.reject(403)

    def on_call_event(self, call: InviteSession, event: CallEvent) -> None:
        pass


async def test_the_trunk_account_is_registered_and_probed_and_unregistered_on_stop(
    database: Database, tmp_path: Path
) -> None:
    """The provider is played by a second user agent with a registrar of its own, over real UDP."""
    clock = SystemClock()
    provider_bindings = MemoryBindingStore(clock)
    provider = UserAgent(
        NoCalls(), scheduler=AsyncioScheduler(clock), clock=clock,
        registrar=Registrar(
            provider_bindings, clock, domains=None,
            authenticator=DigestAuthenticator("trunk.test", clock, secret=b"s" * 32, algorithms=[Algorithm.MD5]),
            credentials=lambda user, realm, algorithm: Password("trunk-pass") if user == "acme" else None,
        ),
    )  # fmt: skip
    provider_transport = await UdpTransport.open(provider, "127.0.0.1", 0)
    provider.bind(provider_transport, sent_by=provider_transport.sent_by)
    port = provider_transport.local_address[1]
    store = await database.open()
    await store.migrate()
    center = await Center.start(store, clock, timers=False)
    trunk_settings = settings(tmp_path).model_copy(
        update={
            "sip_trunk": f"sip:127.0.0.1:{port}", "sip_trunk_username": "acme", "sip_trunk_password": "trunk-pass",
            "sip_trunk_keepalive_seconds": 0.2, "sip_transports": "udp",
        }
    )  # fmt: skip
    node = await VoiceNode.start(trunk_settings, center, clock)
    try:
        assert node.trunk is not None and node.trunk.registration is not None
        for _ in range(100):
            if node.trunk.registration.registered and node.trunk.up:
                break
            await asyncio.sleep(0.05)
        assert node.trunk.registration.registered and node.trunk.up
        [bound] = provider_bindings.lookup("sip:acme@127.0.0.1")
        assert isinstance(bound.contact.uri, SipUri) and bound.contact.uri.port == node.port()
    finally:
        await node.stop()
        await center.stop()
        await store.close()
        await provider_transport.close()
    assert provider_bindings.lookup("sip:acme@127.0.0.1") == []  # unregistered on the way out


async def test_a_planned_callback_retry_survives_a_restart_and_is_made_once(database: Database, tmp_path: Path) -> None:
    clock = SystemClock()
    store = await database.open()
    await store.migrate()
    center = await Center.start(store, clock, timers=False)
    ws = await center.create_workspace("acme")
    await center.run(ws.sid, build)  # ann is Offline: nobody is offered the callback
    workflow = next(iter(ws.workflows))
    callback = {"callback_number": "803", "callback_retries": 1, "callback_retry_every": 1, "callback_attempt": 1}
    failed = await center.run(
        ws.sid, lambda w: w.create_task(workflow, attributes=callback, channel="voice", priority=3)
    )
    node = await VoiceNode.start(settings(tmp_path), center, clock)
    assert node.routing is not None
    await node.routing.callback_failed(ws.sid, failed.sid)  # the customer did not answer
    await node.stop()  # before the retry is due: its wait is lost with the process, its plan is in the store
    await center.stop()
    await store.close()
    plan = failed.attributes["callback_retry"]
    assert plan["sid"] not in ws.tasks and plan["at"] > clock.now() - 1

    for restart in range(2):  # the second restart finds the retry made: no other one
        store = await database.open()
        center = await Center.start(store, clock, timers=False)
        node = await VoiceNode.start(settings(tmp_path), center, clock)
        try:
            again = center.workspace("acme")
            for _ in range(100):  # the retry was due a second after the plan: it is made at once, or soon
                if plan["sid"] in again.tasks:
                    break
                await asyncio.sleep(0.05)
            retry = again.tasks[plan["sid"]]
            assert retry.attributes == {**callback, "callback_attempt": 2} and retry.priority == 3
            assert [t.sid for t in again.tasks.values() if t.attributes.get("callback_number")] == [
                failed.sid,
                retry.sid,
            ], restart
        finally:
            await node.stop()
            await center.stop()
            await store.close()


class LaterClock(SystemClock):
    """The system's time, `offset` seconds on: a node that starts again after a long stop."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def now(self) -> float:
        return super().now() + self.offset


async def test_a_callback_retry_planned_before_a_three_day_stop_is_made_when_the_node_starts(
    database: Database, tmp_path: Path
) -> None:
    clock = SystemClock()
    store = await database.open()
    await store.migrate()
    center = await Center.start(store, clock, timers=False)
    ws = await center.create_workspace("acme")
    await center.run(ws.sid, build)
    workflow = next(iter(ws.workflows))
    callback = {"callback_number": "803", "callback_retries": 2, "callback_retry_every": 600, "callback_attempt": 1}
    failed = await center.run(ws.sid, lambda w: w.create_task(workflow, attributes=callback, channel="voice"))
    node = await VoiceNode.start(settings(tmp_path), center, clock)
    assert node.routing is not None
    await node.routing.callback_failed(ws.sid, failed.sid)
    plan = failed.attributes["callback_retry"]
    await center.run(ws.sid, lambda w: w.cancel_task(failed.sid, "callback not answered"))
    await node.stop()
    await center.stop()
    await store.close()

    store = await database.open()
    later = LaterClock(3 * 86_400)
    center = await Center.start(store, later, timers=False)
    node = await VoiceNode.start(settings(tmp_path), center, later)
    try:
        again = center.workspace("acme")
        for _ in range(100):  # overdue by three days: made at once
            if plan["sid"] in again.tasks:
                break
            await asyncio.sleep(0.05)
        assert again.tasks[plan["sid"]].attributes == {**callback, "callback_attempt": 2}
        for _ in range(100):  # and its plan is gone from the store
            if not await store.list_documents(again.sid, "callback_retry"):
                break
            await asyncio.sleep(0.05)
        assert await store.list_documents(again.sid, "callback_retry") == []
    finally:
        await node.stop()
        await center.stop()
        await store.close()
