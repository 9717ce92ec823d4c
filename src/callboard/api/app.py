"""The HTTP API factory: REST under `/api/v1`, the event stream, `/healthz`, `/metrics`, OpenAPI at `/docs`."""

from __future__ import annotations

import base64
import hashlib
import re
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import callboard
from callboard.api import (
    activities,
    auth_routes,
    calls,
    channels,
    contacts,
    directory,
    dispositions,
    emergency,
    errors,
    events,
    flow_tools,
    flows,
    health,
    metrics,
    numbers,
    prompts,
    queues,
    reservations,
    schedules,
    statistics,
    stream,
    tasks,
    users,
    waiting,
    workers,
    workflows,
    workspaces,
)
from callboard.api import center as center_file_routes
from callboard.api import monitor as monitor_routes
from callboard.api import phone as phone_routes
from callboard.api.auth import AuthConfig
from callboard.api.ports import CenterFilePort, CenterPort, IvrListener
from callboard.flows.tts import TextToSpeech

# Statistics routes come before the routers whose `/{sid}` would otherwise take `statistics` for a sid.
ROUTERS: tuple[APIRouter, ...] = (
    auth_routes.router,
    users.router,
    center_file_routes.router,
    workspaces.router,
    activities.router,
    channels.router,
    statistics.router,
    workers.router,
    directory.router,
    queues.router,
    workflows.router,
    tasks.router,
    reservations.router,
    calls.router,
    events.router,
    stream.router,
    flow_tools.router,
    flows.router,
    emergency.router,
    numbers.router,
    schedules.router,
    prompts.router,
    contacts.router,
    waiting.router,
    dispositions.router,
    phone_routes.router,
    monitor_routes.router,
)

TAGS = [
    {"name": "auth", "description": "Log in and out with a session cookie; API tokens for machines."},
    {"name": "users", "description": "Users and their roles (admins only)."},
    {"name": "center", "description": "The whole center as its YAML file: export, check, plan, apply (admins)."},
    {"name": "workspaces", "description": "Tenants, each with its own routing engine."},
    {"name": "activities", "description": "Worker states such as Available, Break, Offline."},
    {"name": "task channels", "description": "Kinds of work (voice, chat, email) and default capacities."},
    {"name": "workers", "description": "Agents: attributes, activity, capacity per channel."},
    {"name": "task queues", "description": "Queues of tasks waiting for eligible workers."},
    {"name": "workflows", "description": "Routing rules: filters with ordered targets (TaskRouter's shape)."},
    {"name": "tasks", "description": "Units of work and their lifecycle."},
    {"name": "reservations", "description": "Offers of tasks to workers and the workers' answers."},
    {"name": "statistics", "description": "Real-time and cumulative statistics with TaskRouter's field names."},
    {"name": "calls", "description": "Call records and their recordings."},
    {"name": "phone", "description": "The agent's softphone in the page: its WebRTC line and call control."},
    {"name": "monitor", "description": "Supervisors on live calls: listen, whisper and barge."},
    {"name": "events", "description": "The event log."},
    {"name": "flows", "description": "Contact flows (IVR), versioned; calls in progress keep their version."},
    {"name": "numbers", "description": "Numbers (DIDs): their flow, hours, holidays and closed messages."},
    {"name": "schedules", "description": "Time zones, weekly hours and holidays, by name."},
    {"name": "emergency", "description": "Close a number or a site now; reopen it."},
    {"name": "prompts", "description": "Recorded and text-to-speech prompts per language; the system prompts."},
    {"name": "contacts", "description": "CRM contacts, found by phone number."},
    {"name": "stream", "description": "Live events over the WebSocket `/api/v1/stream`."},
    {"name": "operations", "description": "Health and Prometheus metrics."},
]


def create_api(
    center: CenterPort,
    *,
    session_ttl: float = 8 * 3600,
    secure_cookies: bool = False,
    login_rate_limit: int = 10,
    sip_realm: str = "callboard",
    recordings_dir: Path | None = None,
    tts_cache_dir: Path | None = None,
    ivr_listener: IvrListener | None = None,
    center_file: CenterFilePort | None = None,
) -> FastAPI:
    """The API of one running center; `session_ttl` is in seconds, `login_rate_limit` failed logins a minute.

    Setting a password also stores the user's SIP digest credentials in `sip_realm`; call recordings are
    served only from inside `recordings_dir` (None: none are served). Text-to-speech renders into
    `tts_cache_dir` (None: a folder in the system's temporary folder); `ivr_listener` is told of every change
    of a workspace's IVR configuration (None: nobody listens); `center_file` exports, plans and applies the
    center's YAML (None: `/center` answers 503 `center_file_unavailable`, its check still works).
    """
    meter = metrics.Metrics(center)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        meter.close()

    app = FastAPI(
        title="Callboard",
        version=callboard.__version__,
        description='The Callboard contact center API. Errors are `{"error": {"id", "message", "details"}}`.',
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.center = center
    app.state.auth_config = AuthConfig(session_ttl, secure_cookies, login_rate_limit, sip_realm)
    app.state.recordings_dir = recordings_dir
    app.state.tts = TextToSpeech(tts_cache_dir or Path(tempfile.gettempdir()) / "callboard-tts")
    app.state.ivr_listener = ivr_listener
    app.state.center_file = center_file
    app.state.metrics = meter
    errors.install(app)
    app.add_middleware(errors.CatchAll)
    app.add_middleware(metrics.MetricsMiddleware, metrics=meter)  # outermost: it sees the 500s too
    for router in (*ROUTERS, health.router, metrics.router):
        app.include_router(router)
    _mount_ui(app)
    return app


# The browser UI: the page at `/`, its files under `/ui/` (a prefix of its own, so an unknown API path still
# answers the API's JSON 404 and 405). Added after the API routers, which keep their paths.
WEB_DIR = Path(__file__).resolve().parent.parent / "web"
UI_PREFIX = "/ui"
_IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.DOTALL)
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def _mount_ui(app: FastAPI) -> None:
    index = WEB_DIR / "index.html"
    if not index.is_file():
        return  # a source tree without the UI still serves the API

    @app.get("/", include_in_schema=False)
    async def ui_page() -> FileResponse:
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})

    app.mount(UI_PREFIX, StaticFiles(directory=WEB_DIR), name="ui")
    app.add_middleware(UiHeaders, import_maps=_IMPORT_MAP.findall(index.read_text(encoding="utf-8")))


class UiHeaders:
    """Security headers on the UI's responses (not the API's: `/docs` loads Swagger UI from a CDN).

    The page runs only scripts served from here plus its inline import map, allowed by hash; it connects only
    to this server (its WebSocket by name, for browsers whose `'self'` does not cover `ws:`); no framing.
    """

    def __init__(self, app: ASGIApp, import_maps: list[str]) -> None:
        self.app = app
        self.script_hashes = " ".join(
            f"'sha256-{base64.b64encode(hashlib.sha256(m.encode()).digest()).decode()}'" for m in import_maps
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/" or path.startswith(UI_PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        headers = self.headers(dict(scope["headers"]).get(b"host", b"").decode("latin-1"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def headers(self, host: str) -> list[tuple[bytes, bytes]]:
        sockets = f" ws://{host} wss://{host}" if _HOST.match(host) else ""
        policy = (
            "default-src 'none'; "
            f"script-src 'self' {self.script_hashes}; "
            "style-src 'self'; img-src 'self' data:; font-src 'self'; media-src 'self' blob:; "
            f"connect-src 'self'{sockets}; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        )
        pairs = {
            "Content-Security-Policy": policy,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "same-origin",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Permissions-Policy": "camera=(), geolocation=(), microphone=(self)",
        }
        return [(k.lower().encode(), v.encode("latin-1")) for k, v in pairs.items()]
