"""Helpers for the API tests: clients, the seeded center, and the error contract's shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI

from callboard.api.auth import digest, new_secret
from callboard.app.center import Center
from callboard.routing.workspace import Workspace

PASSWORD = "correct horse battery"
# Hashed once: argon2 is slow on purpose, and every test seeds three users.
PASSWORD_HASH = PasswordHasher().hash(PASSWORD)
BASE_URL = "http://callboard.test"


def make_client(app: FastAPI, token: str | None = None, **options: Any) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app, **options)
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers)


@dataclass
class Seed:
    """Sids of the seeded center and a bearer-token client per role (the agent is alice)."""

    ws: str
    available: str
    offline: str
    on_break: str
    voice: str
    support: str
    sales: str
    workflow: str
    alice: str
    bob: str
    users: dict[str, dict[str, Any]]
    tokens: dict[str, str]
    admin: httpx.AsyncClient
    supervisor: httpx.AsyncClient
    agent: httpx.AsyncClient

    def url(self, path: str = "") -> str:
        return f"/api/v1/workspaces/{self.ws}{path}"


def _build(w: Workspace) -> dict[str, str]:
    available = w.add_activity("Available", True)
    offline = w.add_activity("Offline", False)
    on_break = w.add_activity("Break", False)
    voice = w.add_channel("voice", capacity=1)
    support = w.add_queue("Support", target_workers='skills HAS "support"')
    sales = w.add_queue("Sales", target_workers='skills HAS "sales"')
    routing = {
        "task_routing": {
            "filters": [{"expression": 'type == "sales"', "targets": [{"queue": sales.sid}]}],
            "default_filter": {"queue": support.sid},
        }
    }
    workflow = w.add_workflow("Inbound", routing, task_reservation_timeout=30)
    alice = w.add_worker("alice", attributes={"skills": ["support"], "languages": ["en"]}, activity_sid=offline.sid)
    bob = w.add_worker("bob", attributes={"skills": ["sales"], "languages": ["fr"]}, activity_sid=offline.sid)
    return {
        "available": available.sid,
        "offline": offline.sid,
        "on_break": on_break.sid,
        "voice": voice.sid,
        "support": support.sid,
        "sales": sales.sid,
        "workflow": workflow.sid,
        "alice": alice.sid,
        "bob": bob.sid,
    }


async def seed_center(center: Center, app: FastAPI) -> Seed:
    """Workspace `acme`: activities, channel voice, queues Support and Sales, workflow Inbound, workers
    alice (support) and bob (sales), both Offline; users admin, sue (supervisor) and alice (agent)."""
    engine = await center.create_workspace("acme", service_level_threshold=20)
    sids = await center.run(engine.sid, _build)
    store = center.store
    users = {
        "admin": await store.create_user("admin", PASSWORD_HASH, "admin"),
        "supervisor": await store.create_user("sue", PASSWORD_HASH, "supervisor"),
        "agent": await store.create_user("alice", PASSWORD_HASH, "agent", engine.sid, sids["alice"]),
    }
    tokens = {}
    for role, user in users.items():
        tokens[role] = new_secret("cb_")
        await store.create_api_token(user["id"], f"{role} test token", digest(tokens[role]))
    return Seed(
        ws=engine.sid,
        users=users,
        tokens=tokens,
        admin=make_client(app, tokens["admin"]),
        supervisor=make_client(app, tokens["supervisor"]),
        agent=make_client(app, tokens["agent"]),
        **sids,
    )


def error_id(response: httpx.Response) -> str:
    """The contract's error id, after checking the body has the contract's shape."""
    body = response.json()
    assert "error" in body, body
    assert set(body["error"]) == {"id", "message", "details"}, body
    return str(body["error"]["id"])
