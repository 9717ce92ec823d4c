"""The HTTP API factory: REST under `/api/v1`, the event stream, `/healthz`, `/metrics`, OpenAPI at `/docs`."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI

import callboard
from callboard.api import (
    activities,
    auth_routes,
    calls,
    channels,
    contacts,
    emergency,
    errors,
    events,
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
    workers,
    workflows,
    workspaces,
)
from callboard.api.auth import AuthConfig
from callboard.api.ports import CenterPort, IvrListener
from callboard.flows.tts import TextToSpeech

# Statistics routes come before the routers whose `/{sid}` would otherwise take `statistics` for a sid.
ROUTERS: tuple[APIRouter, ...] = (
    auth_routes.router,
    users.router,
    workspaces.router,
    activities.router,
    channels.router,
    statistics.router,
    workers.router,
    queues.router,
    workflows.router,
    tasks.router,
    reservations.router,
    calls.router,
    events.router,
    stream.router,
    flows.router,
    emergency.router,
    numbers.router,
    schedules.router,
    prompts.router,
    contacts.router,
)

TAGS = [
    {"name": "auth", "description": "Log in and out with a session cookie; API tokens for machines."},
    {"name": "users", "description": "Users and their roles (admins only)."},
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
) -> FastAPI:
    """The API of one running center; `session_ttl` is in seconds, `login_rate_limit` failed logins a minute.

    Setting a password also stores the user's SIP digest credentials in `sip_realm`; call recordings are
    served only from inside `recordings_dir` (None: none are served). Text-to-speech renders into
    `tts_cache_dir` (None: a folder in the system's temporary folder); `ivr_listener` is told of every change
    of a workspace's IVR configuration (None: nobody listens).
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
    app.state.metrics = meter
    errors.install(app)
    app.add_middleware(errors.CatchAll)
    app.add_middleware(metrics.MetricsMiddleware, metrics=meter)  # outermost: it sees the 500s too
    for router in (*ROUTERS, health.router, metrics.router):
        app.include_router(router)
    return app
