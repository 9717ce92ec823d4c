"""Fixtures of the API tests: a real `Center` over the real `store`, the API in front of it, a seeded center."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from callboard.api import create_api
from callboard.app.center import Center
from callboard.core.clock import VirtualClock
from callboard.storage import Store

from .api_support import Seed, make_client, seed_center


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def center(store: Store, clock: VirtualClock) -> AsyncIterator[Center]:
    center = await Center.start(store, clock, timers=False)
    try:
        yield center
    finally:
        await center.stop()


@pytest.fixture
def api(center: Center) -> FastAPI:
    return create_api(center, login_rate_limit=3)


@pytest.fixture
async def client(api: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Not logged in."""
    async with make_client(api) as c:
        yield c


@pytest.fixture
async def seed(center: Center, api: FastAPI) -> AsyncIterator[Seed]:
    seeded = await seed_center(center, api)
    async with seeded.admin, seeded.supervisor, seeded.agent:
        yield seeded
