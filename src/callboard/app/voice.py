"""The voice node: SIP transports, the registrar and the B2BUA, wired to the center's routing engines and store.

The routing adapter is in `voice_routing`, callback retries in `callback_retries`, agents' SIP credentials
and registrations in `sip_directory`; this module builds and runs the node and its trunk.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from callboard.app.center import Center
from callboard.app.ivr import CenterServices, FlowCalls, IvrConfig
from callboard.app.ivr_voice import CallerVoice
from callboard.app.sip_directory import Directory, StoredBindings
from callboard.app.voice_routing import CenterRouting, forward_offers, is_voice_event, release_orphans
from callboard.app.voice_routing import _reach as _reach  # tests/app reach it here
from callboard.bus.memory import Subscription
from callboard.config.settings import Settings
from callboard.core.clock import Clock, SystemClock
from callboard.core.errors import ValidationError
from callboard.flows.tts import TextToSpeech
from callboard.voice.calls.b2bua import B2bua, TrunkRoute
from callboard.voice.calls.media import MediaSettings
from callboard.voice.calls.menu import PROMPTS_DIR, MenuFlow, department_menu
from callboard.voice.calls.webrtc_line import IceServer
from callboard.voice.media.clock import AsyncioMediaClock
from callboard.voice.media.playback import Prompt
from callboard.voice.media.ports import RtpPortPool
from callboard.voice.sip.bindings import MemoryBindingStore
from callboard.voice.sip.caller_id import CallerId
from callboard.voice.sip.digest import Algorithm, AuthOutcome, DigestAuthenticator, DigestClient
from callboard.voice.sip.message import Request, Response
from callboard.voice.sip.options_prober import OptionsProber, ProbeSettings, ProbeStatus, ProbeTarget
from callboard.voice.sip.registrar import Registrar
from callboard.voice.sip.registration import OutboundRegistration, RegistrationState, RegistrationStatus
from callboard.voice.sip.scheduler import AsyncioScheduler
from callboard.voice.sip.transaction import TimerSettings
from callboard.voice.sip.transports import TcpTransport, TlsTransport, UdpTransport
from callboard.voice.sip.uri import SipUri
from callboard.voice.sip.user_agent import UserAgent

__all__ = [
    "CenterRouting", "Directory", "StoredBindings", "VoiceNode", "ice_servers", "public_address", "release_orphans",
]  # fmt: skip

log = logging.getLogger(__name__)

DIRECTORY_REFRESH = 5.0  # seconds: how soon a new or changed SIP password is known to the registrar
RETRY_AFTER = 5  # seconds a refused INVITE is told to wait


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


def ice_servers(settings: Settings) -> tuple[IceServer, ...]:
    """The STUN and TURN servers of the WebRTC lines (checked when the settings were read)."""
    return tuple(
        IceServer(tuple(server["urls"]), server.get("username"), server.get("credential"))
        for server in settings.ice_server_list
    )


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
    routing: CenterRouting | None = None

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
        tts = TextToSpeech(settings.tts_cache)
        voice = CallerVoice(center, tts, recordings, hold_music=media.hold_music, callbacks=trunk is not None)
        services = CenterServices(center)
        flows = FlowCalls(ivr, voice, services, clock, MenuFlow(department_menu()))
        routing = CenterRouting(center, directory, bindings, ivr)
        b2bua = B2bua(
            user_agent,
            routing,
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
        # the agents' and the supervisors' browser lines gather from the servers the pages are given
        b2bua.lines.ice_servers = b2bua.monitoring.lines.ice_servers = ice_servers(settings)
        if b2bua.lines.ice_servers:
            urls = [url for server in b2bua.lines.ice_servers for url in server.urls]
            log.info("WebRTC lines gather ICE candidates from %s", ", ".join(urls))
        assert b2bua.ua is not None
        node = cls(settings, center, b2bua, b2bua.ua, registrar, bindings, directory, stored, media_clock)
        node.ivr, node.voice, node.services, node.routing = ivr, voice, services, routing
        try:
            await node._open_transports(address)
        except BaseException:
            await node.stop()
            raise
        if b2bua.trunk is not None:
            node.trunk = Trunk.start(settings, node.ua, b2bua.trunk)
        await release_orphans(center, b2bua.live_call_sids())
        await routing.retries.resume()
        node.subscription = center.bus.subscribe(is_voice_event)
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
        if self.routing is not None:
            await self.routing.retries.close()
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
