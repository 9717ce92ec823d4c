"""The voice node: SIP transports, the registrar and the B2BUA, wired to the center's routing engines and store.

`voice` and `routing` never import each other (DESIGN.md); this module adapts one to the other:
`CenterRouting` is the B2BUA's `RoutingPort` over `Center`, `forward_offers` hands the engine's reservation
and task events to the B2BUA, `Directory` serves agents' SIP credentials and worker links from the store,
and `StoredBindings` keeps registrations in the store so that phones stay registered over a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callboard.app.center import Center
from callboard.app.ivr import CenterServices, FlowCalls, IvrConfig
from callboard.app.ivr_voice import CallerVoice
from callboard.bus.memory import Subscription
from callboard.config.settings import Settings
from callboard.core import events as ev
from callboard.core.clock import Clock, SystemClock
from callboard.core.errors import NotFoundError, ValidationError
from callboard.flows.tts import TextToSpeech
from callboard.routing.model import ReservationStatus, TaskStatus, Worker
from callboard.routing.workspace import Workspace
from callboard.voice.calls.b2bua import AgentContact, B2bua, Enqueued, Offer, TrunkRoute
from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.menu import PROMPTS_DIR, MenuFlow, department_menu
from callboard.voice.media.clock import AsyncioMediaClock
from callboard.voice.media.playback import Prompt
from callboard.voice.media.ports import RtpPortPool
from callboard.voice.sip.bindings import Binding, MemoryBindingStore
from callboard.voice.sip.caller_id import CallerId
from callboard.voice.sip.digest import Algorithm, AuthOutcome, DigestAuthenticator, DigestClient, Ha1
from callboard.voice.sip.message import Request, Response
from callboard.voice.sip.options_prober import OptionsProber, ProbeSettings, ProbeStatus, ProbeTarget
from callboard.voice.sip.registrar import Registrar
from callboard.voice.sip.registration import OutboundRegistration, RegistrationState, RegistrationStatus
from callboard.voice.sip.scheduler import AsyncioScheduler
from callboard.voice.sip.transaction import TimerSettings
from callboard.voice.sip.transports import TcpTransport, TlsTransport, UdpTransport
from callboard.voice.sip.uri import SipUri
from callboard.voice.sip.user_agent import UserAgent

__all__ = ["CenterRouting", "Directory", "StoredBindings", "VoiceNode", "public_address", "release_orphans"]

log = logging.getLogger(__name__)

VOICE_CHANNEL = "voice"
DIRECTORY_REFRESH = 5.0  # seconds: how soon a new or changed SIP password is known to the registrar
RETRY_AFTER = 5  # seconds a refused INVITE is told to wait
ENDED_OFFERS = {
    ev.RESERVATION_TIMEOUT,
    ev.RESERVATION_CANCELED,
    ev.RESERVATION_RESCINDED,
    ev.RESERVATION_REJECTED,
}
ENDED_TASKS = {ev.TASK_CANCELED, ev.TASK_COMPLETED}


class Directory:
    """Users' SIP credentials (HA1 per algorithm) and which users are each worker's, read from the store."""

    def __init__(self, store: Any, realm: str) -> None:
        self.store = store
        self.realm = realm
        self._ha1: dict[tuple[str, Algorithm], str] = {}
        self._usernames: dict[str, list[str]] = {}
        self._workers: dict[str, str] = {}  # username -> worker sid

    async def refresh(self) -> None:
        ha1: dict[tuple[str, Algorithm], str] = {}
        usernames: dict[str, list[str]] = {}
        workers: dict[str, str] = {}
        for user in await self.store.list_users():
            if user.get("worker_sid") and not user.get("disabled"):
                usernames.setdefault(user["worker_sid"], []).append(user["username"])
                workers[user["username"]] = user["worker_sid"]
        for credentials in await self.store.list_sip_credentials():
            if credentials["realm"] == self.realm and not credentials["disabled"]:
                ha1[(credentials["username"], Algorithm.MD5)] = credentials["ha1_md5"]
                ha1[(credentials["username"], Algorithm.SHA_256)] = credentials["ha1_sha256"]
        self._ha1, self._usernames, self._workers = ha1, usernames, workers

    def lookup(self, username: str, realm: str, algorithm: Algorithm) -> Ha1 | None:
        """The registrar's `CredentialLookup`."""
        if realm != self.realm:
            return None
        value = self._ha1.get((username, algorithm))
        return Ha1(value) if value is not None else None

    def has_credentials(self, username: str) -> bool:
        return (username, Algorithm.MD5) in self._ha1

    def usernames(self, worker_sid: str) -> list[str]:
        return self._usernames.get(worker_sid, [])

    def worker_of(self, username: str) -> str | None:
        return self._workers.get(username)


class StoredBindings:
    """The registrar's `BindingPersistence` over the store: changes are written in order by one writer task."""

    def __init__(self, store: Any, records: Iterable[dict[str, Any]]) -> None:
        self.store = store
        self._records = list(records)
        self._writes: asyncio.Queue[tuple[str, Binding]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    @classmethod
    async def load(cls, store: Any) -> StoredBindings:
        bindings = cls(store, await store.load_sip_bindings())
        bindings._writer = asyncio.get_running_loop().create_task(bindings._write(), name="callboard-bindings")
        return bindings

    def load_all(self) -> Iterable[Binding]:
        for record in self._records:
            try:
                yield Binding.from_record(record)
            except (ValueError, KeyError) as exc:
                log.warning("stored SIP binding dropped (%s): %r", exc, record)

    def save(self, binding: Binding) -> None:
        self._writes.put_nowait(("save", binding))

    def delete(self, binding: Binding) -> None:
        self._writes.put_nowait(("delete", binding))

    async def flush(self) -> None:
        await self._writes.join()

    async def close(self) -> None:
        await self.flush()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    async def _write(self) -> None:
        while True:
            action, binding = await self._writes.get()
            aor, key = binding.key
            try:
                if action == "save":
                    await self.store.save_sip_binding(aor, key, binding.as_record())
                else:
                    await self.store.delete_sip_binding(aor, key)
            except Exception:
                log.exception("SIP binding %s of %s not stored", key, aor)
            finally:
                self._writes.task_done()


class CenterRouting:
    """The B2BUA's `RoutingPort`: calls become voice tasks of the center's first workspace and workflow."""

    def __init__(
        self, center: Center, directory: Directory, bindings: MemoryBindingStore, ivr: IvrConfig | None = None
    ) -> None:
        self.center = center
        self.directory = directory
        self.bindings = bindings
        self.ivr = ivr
        self._retries: set[asyncio.Task[None]] = set()

    def _inbound_workspace(self) -> Workspace:
        engines = sorted(self.center.workspaces().values(), key=lambda w: w.friendly_name)
        for engine in engines:
            if VOICE_CHANNEL in engine.channels and engine.workflows:
                return engine
        raise ValidationError("no workspace has a voice channel and a workflow", error_id="no_voice_workspace")

    async def workspace_for(self, called: str) -> str | None:
        """The workspace of the number called; with no numbers configured anywhere, the first voice workspace."""
        if self.ivr is not None and await self.ivr.has_numbers():
            found = await self.ivr.number(called)
            return found[0].workspace_sid if found is not None else None
        try:
            return self._inbound_workspace().sid
        except ValidationError:
            return None

    async def enqueue(
        self,
        workspace_sid: str,
        call_sid: str,
        attributes: dict[str, Any],
        *,
        workflow: str | None = None,
        priority: int = 0,
        ttl: int | None = None,
        known_worker: str | None = None,
    ) -> Enqueued:
        """A voice task; `known_worker` goes in the attribute `known_worker`, which a workflow target names as
        `known_worker_friendly_name: task.known_worker` to offer the task to that agent first."""
        engine = self.center.workspace(workspace_sid)
        if workflow is None:
            chosen = min(engine.workflows.values(), key=lambda w: w.friendly_name)
        else:
            found = next((w for w in engine.workflows.values() if w.friendly_name == workflow), None)
            if found is None:
                raise NotFoundError(f"no workflow named {workflow!r}", error_id="workflow_not_found")
            chosen = found
        if known_worker:
            attributes = {**attributes, "known_worker": known_worker}
        options: dict[str, Any] = {"priority": priority} | ({"timeout": float(ttl)} if ttl else {})
        task = await self.center.run(
            engine.sid,
            lambda w: w.create_task(chosen.sid, attributes=attributes, channel=VOICE_CHANNEL, **options),
        )
        return Enqueued(engine.sid, task.sid)

    async def update(self, workspace_sid: str, task_sid: str, attributes: dict[str, Any]) -> None:
        def op(w: Workspace) -> None:
            task = w.task(task_sid)
            w.update_task(task_sid, attributes={**task.attributes, **attributes})

        await self.center.run(workspace_sid, op)

    async def callback_failed(self, workspace_sid: str, task_sid: str) -> None:
        """Tries the callback again after `callback_retry_every` seconds, as a new task of the same priority,
        while attempts remain (`callback_retries` after the first)."""
        engine = self.center.workspace(workspace_sid)
        task = engine.tasks.get(task_sid)
        if task is None:
            return
        attributes = dict(task.attributes)
        attempt = int(attributes.get("callback_attempt", 1))
        if attempt > int(attributes.get("callback_retries", 0)):
            log.info("callback task %s: no attempts left", task_sid)
            return
        attributes["callback_attempt"] = attempt + 1
        delay = float(attributes.get("callback_retry_every", 300))
        workflow_sid, priority = task.workflow_sid, task.priority

        async def later() -> None:
            await asyncio.sleep(delay)
            await self.center.run(
                workspace_sid,
                lambda w: w.create_task(workflow_sid, attributes=attributes, channel=VOICE_CHANNEL, priority=priority),
            )

        retry = asyncio.get_running_loop().create_task(later(), name=f"callback-retry-{task_sid}")
        self._retries.add(retry)
        retry.add_done_callback(self._retries.discard)

    async def cancel(self, workspace_sid: str, task_sid: str, reason: str) -> None:
        def op(w: Workspace) -> None:
            task = w.tasks.get(task_sid)
            if task is not None and task.status in (TaskStatus.PENDING, TaskStatus.RESERVED):
                w.cancel_task(task_sid, reason)

        await self.center.run(workspace_sid, op)

    async def accept(self, workspace_sid: str, reservation_sid: str) -> bool:
        def op(w: Workspace) -> bool:
            res = w.reservations.get(reservation_sid)
            if res is None or res.status is not ReservationStatus.PENDING:
                return False
            w.accept_reservation(reservation_sid)
            return True

        return await self.center.run(workspace_sid, op)

    async def reject(self, workspace_sid: str, reservation_sid: str, *, unreachable: bool) -> None:
        def op(w: Workspace) -> None:
            res = w.reservations.get(reservation_sid)
            if res is not None and res.status is ReservationStatus.PENDING:
                # A worker with no phone to ring is set to the timeout activity, as a missed offer would.
                w.reject_reservation(reservation_sid, activity_sid=w.timeout_activity_sid if unreachable else None)

        await self.center.run(workspace_sid, op)

    async def wrap_up(self, workspace_sid: str, reservation_sid: str) -> None:
        def op(w: Workspace) -> None:
            res = w.reservations.get(reservation_sid)
            if res is not None and res.status is ReservationStatus.ACCEPTED:
                w.wrapup_reservation(reservation_sid)

        await self.center.run(workspace_sid, op)

    async def transfer(self, workspace_sid: str, task_sid: str, target: str) -> Enqueued:
        """`target` names a queue (by name) or an agent (by worker name or user name)."""

        def op(w: Workspace) -> str:
            queue = next((q for q in w.queues.values() if q.friendly_name == target), None)
            worker = None if queue is not None else w.worker_by_name(target) or self._worker_of_user(w, target)
            if queue is None and worker is None:
                raise NotFoundError(
                    f"no queue or agent named {target!r}", error_id="transfer_target_not_found", target=target
                )
            moved = w.transfer_task(
                task_sid, queue_sid=queue.sid if queue else None, worker_sid=worker.sid if worker else None
            )
            return moved.sid

        return Enqueued(workspace_sid, await self.center.run(workspace_sid, op))

    def _worker_of_user(self, w: Workspace, username: str) -> Worker | None:
        sid = self.directory.worker_of(username)
        return w.workers.get(sid) if sid is not None else None

    async def agent(self, username: str) -> tuple[str, str] | None:
        for engine in self.center.workspaces().values():
            worker = self._worker_of_user(engine, username)
            if worker is not None:
                return engine.sid, worker.sid
        return None

    async def contacts_named(self, workspace_sid: str, name: str) -> list[AgentContact]:
        engine = self.center.workspace(workspace_sid)
        worker = engine.worker_by_name(name) or self._worker_of_user(engine, name)
        return await self.contacts(workspace_sid, worker.sid) if worker is not None else []

    async def contacts(self, workspace_sid: str, worker_sid: str) -> list[AgentContact]:
        names = set(self.directory.usernames(worker_sid))
        if not names:
            return []
        contacts: list[AgentContact] = []
        for aor in self.bindings.aors:
            if not any(aor.startswith(f"sip:{name}@") or aor.startswith(f"sips:{name}@") for name in names):
                continue
            contacts.extend(AgentContact(b.contact.uri, _reach(b)) for b in self.bindings.lookup(aor))
        return contacts

    async def save_call(self, record: dict[str, Any]) -> None:
        await self.center.store.save_call(record)


def _reach(binding: Binding) -> tuple[str, int] | None:
    """Where to send to a phone: its contact, unless NAT rewrote the address it registered from (the contact
    names another host than the REGISTER came from) or it registered over a connection: then that source."""
    source, uri = binding.source, binding.contact.uri
    if source is None or not isinstance(uri, SipUri):
        return source
    if binding.transport != "UDP" or source[0] != uri.host.strip("[]"):
        return source
    return None


async def forward_offers(center: Center, b2bua: B2bua, subscription: Subscription) -> None:
    """Hands the engine's voice reservations and task endings to the B2BUA, as the bus delivers them."""
    async for event in subscription:
        try:
            _forward(center, b2bua, event)
        except Exception:
            log.exception("routing event %s not handled by the B2BUA", event.name)


def _forward(center: Center, b2bua: B2bua, event: ev.Event) -> None:
    data = event.data
    if event.name == ev.RESERVATION_CREATED:
        engine = center.workspaces().get(event.workspace_sid)
        res = engine.reservations.get(event.resource_sid) if engine is not None else None
        if res is None or res.channel != VOICE_CHANNEL or res.status is not ReservationStatus.PENDING:
            return
        ring = max(0.0, res.timeout_at - center.clock.now())
        task = engine.tasks.get(res.task_sid) if engine is not None else None
        call_sid = task.attributes.get("call_sid") if task is not None else None
        callback = task.attributes.get("callback_number") if task is not None else None
        b2bua.offer(
            Offer(
                res.task_sid,
                res.sid,
                res.worker_sid,
                res.queue_sid,
                ring,
                call_sid,
                event.workspace_sid,
                str(callback) if callback else None,
            )
        )
    elif event.name in ENDED_OFFERS:
        b2bua.offer_ended(data.get("task_sid", ""), event.resource_sid)
    elif event.name in ENDED_TASKS:
        b2bua.task_ended(event.resource_sid, str(data.get("reason") or event.name))


def _is_voice_event(event: ev.Event) -> bool:
    return event.name == ev.RESERVATION_CREATED or event.name in ENDED_OFFERS or event.name in ENDED_TASKS


async def release_orphans(center: Center, live_calls: set[str]) -> int:
    """Ends the voice tasks whose calls did not survive a restart: waiting ones are canceled, talking ones
    go to wrap-up. Returns how many."""
    released = 0
    for sid, engine in list(center.workspaces().items()):
        orphans = [
            t.sid
            for t in engine.tasks.values()
            if t.channel == VOICE_CHANNEL
            and not t.attributes.get("callback_number")  # a callback's task outlives the call it came from
            and t.attributes.get("call_sid")
            and t.attributes["call_sid"] not in live_calls
        ]
        if not orphans:
            continue

        def op(w: Workspace, orphans: list[str] = orphans) -> int:
            count = 0
            for task_sid in orphans:
                task = w.tasks.get(task_sid)
                if task is None:
                    continue
                if task.status in (TaskStatus.PENDING, TaskStatus.RESERVED):
                    w.cancel_task(task_sid, "call lost in a restart")
                    count += 1
                elif task.status is TaskStatus.ASSIGNED:
                    for res_sid in list(task.reservations):
                        if w.reservations[res_sid].status is ReservationStatus.ACCEPTED:
                            w.wrapup_reservation(res_sid)
                            count += 1
            return count

        released += await center.run(sid, op)
    return released


def authorize_agent(
    request: Request, authenticator: DigestAuthenticator, directory: Directory
) -> Response | str | None:
    """Who places a new call: an outside caller (None), or one of our agents, whose From names a user with SIP
    credentials: they must prove it (digest, as when registering); the user name once they have, else the
    401 challenge. An agent's phone calls colleagues and numbers out through the trunk: unproven, anyone could."""
    from_ = request.headers.from_
    username = from_.uri.user if from_ is not None and isinstance(from_.uri, SipUri) else None
    if username is None or not directory.has_credentials(username):
        return None
    result = authenticator.authenticate(request, directory.lookup)
    if result.ok and result.username == username:
        return username
    return authenticator.challenge_response(request, stale=result.outcome is AuthOutcome.STALE)


def public_address(settings: Settings) -> str:
    """The address peers reach us at: the setting, else the bound address, else the default route's source."""
    if settings.sip_public_address:
        return settings.sip_public_address
    if settings.sip_host not in ("0.0.0.0", "::", ""):
        return settings.sip_host
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def _algorithms(names: list[str]) -> list[Algorithm]:
    """The digest algorithms the settings name (checked when they were read)."""
    return [algorithm for name in names if (algorithm := Algorithm.from_param(name)) is not None]


@dataclass
class VoiceNode:
    """Everything `serve` runs for voice; `start` opens it, `stop` hangs up and closes it."""

    settings: Settings
    center: Center
    b2bua: B2bua
    ua: UserAgent
    registrar: Registrar
    bindings: MemoryBindingStore
    directory: Directory
    stored_bindings: StoredBindings
    media_clock: AsyncioMediaClock
    transports: list[UdpTransport | TcpTransport] = field(default_factory=list)
    trunk: Trunk | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    subscription: Subscription | None = None
    ivr: IvrConfig | None = None
    voice: CallerVoice | None = None
    services: CenterServices | None = None

    def ivr_changed(self, workspace_sid: str) -> None:
        """The API's `IvrListener`: flows, numbers, schedules, prompts or closures of a workspace changed."""
        if self.ivr is not None:
            self.ivr.ivr_changed(workspace_sid)
        if self.voice is not None:
            self.voice.forget(workspace_sid)

    @classmethod
    async def start(cls, settings: Settings, center: Center, clock: Clock | None = None) -> VoiceNode:
        clock = clock or SystemClock()
        store = center.store
        directory = Directory(store, settings.sip_realm)
        await directory.refresh()
        stored = await StoredBindings.load(store)
        bindings = MemoryBindingStore(clock, stored)
        domains = [d.strip() for d in settings.sip_domains.split(",") if d.strip()] or None
        authenticator = DigestAuthenticator(
            settings.sip_realm, clock, secret=os.urandom(32), algorithms=_algorithms(settings.auth_algorithm_names)
        )
        registrar = Registrar(
            bindings, clock, domains=domains, authenticator=authenticator, credentials=directory.lookup
        )
        address = public_address(settings)
        media_clock = AsyncioMediaClock()
        media_clock.start()
        media = MediaSettings(
            RtpPortPool(settings.rtp_port_min, settings.rtp_port_max, host=settings.sip_host),
            media_clock,
            address,
            rtp_timeout=settings.rtp_timeout_seconds or None,
            hold_music=Prompt.from_wav(PROMPTS_DIR / "hold-music.wav"),
        )
        timers = TimerSettings(settings.sip_t1_ms / 1000, settings.sip_t2_ms / 1000, settings.sip_t4_ms / 1000)
        recordings = Path(settings.recordings_dir)
        await asyncio.to_thread(recordings.mkdir, parents=True, exist_ok=True)

        def user_agent(b2bua: B2bua) -> UserAgent:
            def admit() -> int | None:
                return RETRY_AFTER if b2bua.calls >= settings.sip_max_calls else None

            return UserAgent(
                b2bua,
                scheduler=AsyncioScheduler(clock),
                clock=clock,
                timers=timers,
                registrar=registrar,
                admit=admit,
                supported=("path",),
                authorize=lambda request: authorize_agent(request, authenticator, directory),
            )

        trunk = trunk_route(settings)
        ivr = IvrConfig(center)
        tts = TextToSpeech(recordings / ".." / "tts-cache")  # beside the recordings
        voice = CallerVoice(center, tts, recordings, hold_music=media.hold_music, callbacks=trunk is not None)
        services = CenterServices(center)
        flows = FlowCalls(ivr, voice, services, clock, MenuFlow(department_menu()))
        b2bua = B2bua(
            user_agent,
            CenterRouting(center, directory, bindings, ivr),
            media,
            flows,
            clock,
            attributes=settings.voice_attribute_values,
            recordings_dir=recordings,
            contact_host=address,
            answer_delay=settings.voice_answer_delay_seconds,
            trunk=trunk,
        )
        b2bua.callback_failed_prompt = voice.system("callback-failed", "en")
        assert b2bua.ua is not None
        node = cls(settings, center, b2bua, b2bua.ua, registrar, bindings, directory, stored, media_clock)
        node.ivr, node.voice, node.services = ivr, voice, services
        try:
            await node._open_transports(address)
        except BaseException:
            await node.stop()
            raise
        if b2bua.trunk is not None:
            node.trunk = Trunk.start(settings, node.ua, b2bua.trunk)
        await release_orphans(center, b2bua.live_call_sids())
        node.subscription = center.bus.subscribe(_is_voice_event)
        loop = asyncio.get_running_loop()
        node.tasks.append(loop.create_task(forward_offers(center, b2bua, node.subscription), name="callboard-offers"))
        node.tasks.append(loop.create_task(node._refresh_directory(), name="callboard-directory"))
        log.info("SIP on %s", ", ".join(f"{t.name} {t.local_address[0]}:{t.local_address[1]}" for t in node.transports))
        return node

    async def _open_transports(self, address: str) -> None:
        s = self.settings
        for name in s.transport_names:
            transport: UdpTransport | TcpTransport
            if name == "udp":
                transport = await UdpTransport.open(self.ua, s.sip_host, s.sip_port, sent_by=address)
            elif name == "tcp":
                transport = await TcpTransport.open(self.ua, s.sip_host, s.sip_port, sent_by=address)
            else:
                server, client = _tls_contexts(s)
                transport = await TlsTransport.open(
                    self.ua, s.sip_host, s.sip_tls_port, ssl=server, client_ssl=client, sent_by=address
                )
            self.transports.append(transport)
        first = self.transports[0]
        self.ua.bind(first, sent_by=(address, first.local_address[1]), name=first.name)

    async def _refresh_directory(self) -> None:
        while True:
            await asyncio.sleep(DIRECTORY_REFRESH)
            try:
                await self.directory.refresh()
                self.bindings.purge(self.center.clock.now())
            except Exception:
                log.exception("the SIP directory was not refreshed")

    def port(self, name: str = "UDP") -> int:
        """The port a transport listens on (useful with sip_port 0)."""
        return next(t.local_address[1] for t in self.transports if t.name == name.upper())

    async def stop(self) -> None:
        if self.subscription is not None:
            self.subscription.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.b2bua.close()
        if self.trunk is not None:
            await self.trunk.stop()
        for transport in self.transports:
            await transport.close()
        await self.stored_bindings.close()
        await self.media_clock.stop()
        if self.services is not None:
            await self.services.close()


def trunk_route(settings: Settings) -> TrunkRoute | None:
    """How calls go out through the trunk of the settings, if there is one."""
    if not settings.sip_trunk:
        return None
    try:
        uri = SipUri.parse(settings.sip_trunk, "sip_trunk")
    except ValueError as exc:
        raise ValidationError(f"sip_trunk is not a SIP URI: {exc}", field="sip_trunk") from None
    username = settings.sip_trunk_username
    return TrunkRoute(
        uri,
        credentials=DigestClient(username, settings.sip_trunk_password or "") if username else None,
        caller_id=CallerId(settings.sip_trunk_caller_id) if settings.sip_trunk_caller_id else None,
    )


@dataclass
class Trunk:
    """The SIP trunk of the node: its account kept registered (when it has one) and OPTIONS probes of it."""

    uri: SipUri
    registration: OutboundRegistration | None
    prober: OptionsProber | None

    @classmethod
    def start(cls, settings: Settings, ua: UserAgent, route: TrunkRoute) -> Trunk:
        """Registers the account of `route` (when it has credentials and registering is on) and probes it."""
        uri, registration = route.uri, None
        if route.credentials is not None and settings.sip_trunk_register:
            registration = OutboundRegistration(
                ua,
                route.target(route.credentials.username),
                credentials=route.credentials.new_session(),
                expires=settings.sip_trunk_register_seconds,
                listener=_log_registration,
            )
            registration.start()
        prober = None
        if settings.sip_trunk_keepalive_seconds > 0:
            prober = OptionsProber(
                ua, settings=ProbeSettings(interval=settings.sip_trunk_keepalive_seconds), listener=_log_reachability
            )
            prober.start([uri])
        return cls(uri, registration, prober)

    @property
    def up(self) -> bool:
        """The trunk answers its probes (True when it is not probed)."""
        return self.prober is None or bool(self.prober.up())

    async def stop(self) -> None:
        if self.prober is not None:
            self.prober.stop()
        registration = self.registration
        if registration is not None:
            registration.stop(unregister=registration.registered)
            for _ in range(50):  # the registrar's answer to the removal, briefly
                if registration.state is RegistrationState.UNREGISTERED:
                    break
                await asyncio.sleep(0.02)


class _RegistrationLog:
    def on_registration_changed(self, registration: OutboundRegistration, status: RegistrationStatus) -> None:
        log.info("trunk registration %s: %s %s", registration.aor, status.state.value, status.reason)


class _ReachabilityLog:
    def on_reachability_changed(self, target: ProbeTarget, status: ProbeStatus) -> None:
        log.warning("trunk %s is %s", target.uri, status.reachability.value)


_log_registration = _RegistrationLog()
_log_reachability = _ReachabilityLog()


def _tls_contexts(settings: Settings) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    if not settings.sip_tls_cert or not settings.sip_tls_key:
        raise ValidationError("SIP over TLS needs sip_tls_cert and sip_tls_key", field="sip_tls_cert")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(settings.sip_tls_cert, settings.sip_tls_key)
    client = ssl.create_default_context()
    return server, client
