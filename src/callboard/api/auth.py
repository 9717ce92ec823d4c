"""Who is calling: passwords, login sessions, API tokens, roles and CSRF, as FastAPI dependencies.

A browser logs in and holds a random session token in an HttpOnly cookie; a machine sends an API token
as `Authorization: Bearer`. The store keeps only SHA-256 digests of both. Requests that change state
with a cookie must echo the session's CSRF token in `X-CSRF-Token` (the cookie alone is sent by any site
the user visits); bearer requests need not, since a browser never adds that header by itself.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from callboard.api.ports import CenterPort, Record, StorePort
from callboard.core.errors import AuthenticationError, PermissionDeniedError
from callboard.voice.sip.digest import Algorithm, ha1

SESSION_COOKIE = "callboard_session"
CSRF_HEADER = "X-CSRF-Token"
API_TOKEN_PREFIX = "cb_"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the username is unknown, so a wrong name costs the same time as a wrong password."""
    return _hasher.hash("callboard-no-such-user")


class Role(enum.StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


@dataclass(frozen=True)
class AuthConfig:
    session_ttl: float
    secure_cookies: bool
    login_rate_limit: int
    sip_realm: str = "callboard"  # the digest realm agent phones register in


@dataclass(frozen=True)
class Principal:
    """The authenticated caller; `csrf_token` is set when it came with a session cookie."""

    user_id: str
    username: str
    role: Role
    workspace_sid: str | None = None
    worker_sid: str | None = None
    csrf_token: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.ADMIN, Role.SUPERVISOR)

    @property
    def is_agent(self) -> bool:
        return self.role is Role.AGENT

    def require_staff(self) -> None:
        if not self.is_staff:
            raise denied("only supervisors and admins may do this")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise denied("only admins may do this")


def denied(message: str) -> PermissionDeniedError:
    return PermissionDeniedError(message, error_id="permission_denied")


# Secrets


async def hash_password(password: str) -> str:
    return await run_in_threadpool(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await run_in_threadpool(check)


async def store_sip_credentials(store: StorePort, user_id: str, username: str, password: str, realm: str) -> None:
    """Store what a clear password gives besides its argon2 hash: the SIP digest HA1s phones register with."""
    await store.set_sip_credentials(
        user_id, realm, ha1(username, realm, password, Algorithm.MD5), ha1(username, realm, password, Algorithm.SHA_256)
    )


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Secrets of a user record: the argon2 hash of the password and the SIP digest HA1s derived from it.
SECRET_USER_FIELDS = frozenset({"password_hash", "sip_ha1_md5", "sip_ha1_sha256"})


def user_view(user: Record) -> dict[str, Any]:
    """A user as the API shows it: never the password hash nor the SIP HA1s (`sip_realm` says if it has some)."""
    return {k: v for k, v in user.items() if k not in SECRET_USER_FIELDS}


def principal_of(user: Record, csrf_token: str | None = None) -> Principal:
    return Principal(
        user_id=user["id"],
        username=user["username"],
        role=Role(user["role"]),
        workspace_sid=user.get("workspace_sid"),
        worker_sid=user.get("worker_sid"),
        csrf_token=csrf_token,
    )


# Record when a token was last used at most this often, so every request is not a write.
TOKEN_TOUCH_INTERVAL = 60.0


async def authenticate(center: CenterPort, *, session_token: str | None, api_token: str | None) -> Principal:
    """The caller of an API token or a session token; raises `AuthenticationError`."""
    store, now = center.store, center.clock.now()
    if api_token:
        token = await store.find_api_token(digest(api_token))
        user = await store.get_user(token["user_id"]) if token else None
        if token is None or user is None:
            raise AuthenticationError("the API token is not valid", error_id="invalid_token")
        if token["last_used"] is None or now - token["last_used"] >= TOKEN_TOUCH_INTERVAL:
            await store.touch_api_token(token["id"], now)
        return _active(principal_of(user), user)
    if session_token:
        session = await store.get_session(digest(session_token))
        if session is None or session["expires_at"] <= now:
            raise AuthenticationError("the session has expired; log in again", error_id="session_expired")
        user = await store.get_user(session["user_id"])
        if user is None:
            raise AuthenticationError("the session's user no longer exists", error_id="session_expired")
        return _active(principal_of(user, session["csrf_token"]), user)
    raise AuthenticationError("log in or send an API token", error_id="not_authenticated")


def _active(principal: Principal, user: Record) -> Principal:
    if user.get("disabled"):
        raise AuthenticationError("the account is disabled", error_id="account_disabled")
    return principal


# Dependencies


def get_center(request: Request) -> CenterPort:
    center: CenterPort = request.app.state.center
    return center


def get_auth_config(request: Request) -> AuthConfig:
    config: AuthConfig = request.app.state.auth_config
    return config


CenterDep = Annotated[CenterPort, Depends(get_center)]
AuthConfigDep = Annotated[AuthConfig, Depends(get_auth_config)]


def bearer_token(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


async def current_principal(request: Request, center: CenterDep) -> Principal:
    principal = await authenticate(
        center, session_token=request.cookies.get(SESSION_COOKIE), api_token=bearer_token(request)
    )
    if principal.csrf_token is not None and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), principal.csrf_token.encode()):
            raise PermissionDeniedError(f"send the session's CSRF token in {CSRF_HEADER}", error_id="csrf_failed")
    return principal


def require_staff(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    principal.require_staff()
    return principal


def require_admin(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    principal.require_admin()
    return principal


AnyUser = Annotated[Principal, Depends(current_principal)]
Staff = Annotated[Principal, Depends(require_staff)]
Admin = Annotated[Principal, Depends(require_admin)]
