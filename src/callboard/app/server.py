"""Runs the HTTP API and the routing engines in one event loop (uvloop when installed)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from callboard.api.app import create_api
from callboard.app.center import Center
from callboard.app.center_file import CenterFile
from callboard.app.voice import VoiceNode
from callboard.config.settings import Settings
from callboard.core.clock import SystemClock
from callboard.core.errors import CallboardError
from callboard.storage.store import Store

log = logging.getLogger(__name__)

T = TypeVar("T")


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on uvloop when it is installed, on stock asyncio otherwise."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def set_priority(nice: int | None) -> None:
    """Give this process the nice value `process_nice` asks for (None: leave it). The voice plane paces every
    call's media from this one process, so a host's other work preempting it is heard as late packets; a lower
    value (higher priority) is what Asterisk's `-p` and FreeSWITCH's `-rp` do for theirs."""
    if nice is None:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    except OSError as exc:
        raise CallboardError(
            f"CALLBOARD_PROCESS_NICE={nice}: cannot set this process's priority ({exc.strerror}); a value below 0 "
            "needs root or CAP_SYS_NICE (systemd: Nice=, or AmbientCapabilities=CAP_SYS_NICE)"
        ) from exc
    log.info("process priority: nice %d", os.getpriority(os.PRIO_PROCESS, 0))


@asynccontextmanager
async def open_center(settings: Settings, *, timers: bool = True) -> AsyncIterator[Center]:
    """The store migrated and the center started, for as long as the block runs."""
    store = await Store.open(settings.database_url)
    try:
        await store.migrate()
        center = await Center.start(store, SystemClock(), timers=timers)
        try:
            yield center
        finally:
            await center.stop()
    finally:
        await store.close()


async def serve(
    settings: Settings,
    *,
    before: Callable[[Center], Awaitable[None]] | None = None,
    beside: Callable[[Center, uvicorn.Server, VoiceNode | None], Coroutine[Any, Any, None]] | None = None,
) -> None:
    """Serve until stopped; `before` runs once the center is up, `beside` alongside the server (and the voice
    node, when SIP is enabled)."""
    set_priority(settings.process_nice)
    async with open_center(settings) as center:
        if before is not None:
            await before(center)
        voice = await VoiceNode.start(settings, center) if settings.sip_enabled else None
        app = create_api(
            center,
            session_ttl=settings.session_ttl_seconds,
            secure_cookies=settings.secure_cookies,
            login_rate_limit=settings.login_rate_limit,
            sip_realm=settings.sip_realm,
            recordings_dir=Path(settings.recordings_dir),
            tts_cache_dir=settings.tts_cache,
            ivr_listener=voice,
            center_file=CenterFile(center, settings.sip_realm),
        )
        app.state.phone = voice.b2bua.phones if voice is not None else None  # agents' lines and desk phones
        app.state.ice_servers = settings.ice_server_list  # the STUN and TURN servers the pages' lines use
        config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level=settings.log_level)
        server = uvicorn.Server(config)
        side = asyncio.create_task(beside(center, server, voice)) if beside is not None else None
        try:
            await server.serve()
        finally:
            if side is not None:
                side.cancel()
                await asyncio.gather(side, return_exceptions=True)
            if voice is not None:
                await voice.stop()
