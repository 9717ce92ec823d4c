"""What the HTTP API needs from the rest of Callboard; `app/` hands it concrete objects that fit."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from callboard.config.model import Center
from callboard.config.plan import Change
from callboard.core.clock import Clock
from callboard.core.events import Event
from callboard.routing.workspace import Workspace

T = TypeVar("T")
Record = dict[str, Any]
# Aliases: inside StorePort, `list` names its method.
Records = list[Record]
Logged = list[tuple[int, Event]]
Names = list[str]


class IvrStorePort(Protocol):
    """The store's side of the IVR: versioned flows, documents (schedules, numbers), the prompt library,
    emergency closures and CRM contacts."""

    async def publish_flow(self, workspace_sid: str, name: str, definition: Record) -> int: ...

    async def get_flow(self, workspace_sid: str, name: str, version: int | None = None) -> Record | None: ...

    async def list_flows(self, workspace_sid: str) -> Records: ...

    async def flow_versions(self, workspace_sid: str, name: str) -> Records: ...

    async def delete_flow(self, workspace_sid: str, name: str) -> bool: ...

    async def put_document(self, workspace_sid: str, kind: str, name: str, body: Record) -> None: ...

    async def get_document(self, workspace_sid: str, kind: str, name: str) -> Record | None: ...

    async def list_documents(self, workspace_sid: str, kind: str) -> Records: ...

    async def delete_document(self, workspace_sid: str, kind: str, name: str) -> bool: ...

    async def find_number(self, e164: str) -> tuple[str, Record] | None: ...

    async def put_prompt(
        self,
        workspace_sid: str,
        name: str,
        language: str,
        *,
        audio: bytes | None,
        text: str | None,
        voice: str | None,
        source: str,
    ) -> None: ...

    async def get_prompt(self, workspace_sid: str, name: str, language: str) -> Record | None: ...

    async def list_prompts(self, workspace_sid: str) -> Records: ...

    async def delete_prompt(self, workspace_sid: str, name: str, language: str | None = None) -> int: ...

    async def set_closure(
        self, workspace_sid: str, scope: str, target: str, *, prompt: str | None, text: str | None
    ) -> Record: ...

    async def clear_closure(self, workspace_sid: str, scope: str, target: str) -> bool: ...

    async def list_closures(self, workspace_sid: str) -> Records: ...

    async def put_contact(self, workspace_sid: str, contact: Record) -> Record: ...

    async def find_contact(self, workspace_sid: str, e164: str) -> Record | None: ...

    async def get_contact(self, workspace_sid: str, sid: str) -> Record | None: ...

    async def list_contacts(self, workspace_sid: str) -> Records: ...

    async def delete_contact(self, workspace_sid: str, sid: str) -> bool: ...


class StorePort(IvrStorePort, Protocol):
    """The store's read side, the event log, call records, users with their SIP credentials, sessions, API
    tokens and login attempts; and the IVR's side."""

    async def get(self, workspace_sid: str, kind: str, sid: str) -> Record | None: ...

    async def list(
        self,
        workspace_sid: str,
        kind: str,
        *,
        filters: Mapping[str, Any] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[Records, int]: ...

    async def events(
        self,
        workspace_sid: str | None,
        *,
        start: float | None = None,
        end: float | None = None,
        after_id: int | None = None,
        event_types: Names | None = None,
        limit: int = 1000,
    ) -> Logged: ...

    async def get_call(self, workspace_sid: str, sid: str) -> Record | None: ...

    async def list_calls(
        self,
        workspace_sid: str,
        *,
        limit: int = 50,
        before: float | None = None,
        before_sid: str | None = None,
        queue_sid: str | None = None,
        worker_sid: str | None = None,
        outcome: str | None = None,
        callers: Sequence[str] | None = None,
        since: float | None = None,
        number_ends: str | None = None,
        has_recording: bool | None = None,
    ) -> Records: ...

    async def create_user(
        self,
        username: str,
        password_hash: str,
        role: str,
        workspace_sid: str | None = None,
        worker_sid: str | None = None,
    ) -> Record: ...

    async def get_user(self, user_id: str) -> Record | None: ...

    async def get_user_by_name(self, username: str) -> Record | None: ...

    async def list_users(self) -> Records: ...

    async def update_user(self, user_id: str, **fields: Any) -> Record: ...

    async def delete_user(self, user_id: str) -> None: ...

    async def set_sip_credentials(self, user_id: str, realm: str, ha1_md5: str, ha1_sha256: str) -> None: ...

    async def create_session(self, token_hash: str, user_id: str, expires_at: float, csrf_token: str) -> None: ...

    async def get_session(self, token_hash: str) -> Record | None: ...

    async def delete_session(self, token_hash: str) -> None: ...

    async def purge_sessions(self, now: float) -> int: ...

    async def create_api_token(self, user_id: str, name: str, token_hash: str) -> Record: ...

    async def find_api_token(self, token_hash: str) -> Record | None: ...

    async def touch_api_token(self, token_id: str, now: float) -> None: ...

    async def list_api_tokens(self, user_id: str) -> Records: ...

    async def delete_api_token(self, token_id: str) -> None: ...

    async def record_login_attempt(self, key: str, now: float) -> None: ...

    async def count_login_attempts(self, key: str, since: float) -> int: ...

    async def clear_login_attempts(self, key: str) -> None: ...

    async def purge_login_attempts(self, before: float) -> int: ...


class Subscription(Protocol):
    """A reader's queue of published events."""

    async def get(self) -> Event: ...

    def close(self) -> None: ...


class BusPort(Protocol):
    def subscribe(self, accept: Callable[[Event], bool] | None = None) -> Subscription: ...


class IvrListener(Protocol):
    """Told after the API changed a workspace's IVR configuration (flows, numbers, schedules, closures,
    prompts), so the node reloads it; calls in progress keep the snapshot they started with."""

    def ivr_changed(self, workspace_sid: str) -> None: ...


@dataclass(frozen=True)
class Blocked:
    """A change of a center file that the running center cannot make now, and why (tasks in a queue...)."""

    change: Change
    reason: str


@dataclass(frozen=True)
class CenterPlan:
    """What applying a center file would change, and the changes that would be refused while things run."""

    changes: list[Change]
    blocked: list[Blocked]


class CenterFilePort(Protocol):
    """The whole center as its YAML file against the running center: what `callboard export`, `apply --dry-run`
    and `apply` do, one at a time. `apply` refuses (409 `apply_blocked`) a plan with blocked changes."""

    async def export(self) -> Center: ...

    async def plan(self, desired: Center) -> CenterPlan: ...

    async def apply(self, desired: Center) -> list[Change]: ...


class CenterPort(Protocol):
    """The running center: one engine per workspace; every change goes through `run`."""

    @property
    def store(self) -> StorePort: ...

    @property
    def bus(self) -> BusPort: ...

    @property
    def clock(self) -> Clock: ...

    def workspaces(self) -> dict[str, Workspace]: ...

    def workspace(self, sid: str) -> Workspace: ...

    async def run(self, workspace_sid: str, op: Callable[[Workspace], T]) -> T: ...

    async def create_workspace(self, friendly_name: str, **settings: Any) -> Workspace: ...

    async def update_workspace(self, sid: str, **settings: Any) -> Workspace: ...

    async def delete_workspace(self, sid: str) -> None: ...
