"""Logging in and out, the caller's own account, and API tokens for machines."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from callboard.api.auth import (
    API_TOKEN_PREFIX,
    SESSION_COOKIE,
    AnyUser,
    AuthConfigDep,
    CenterDep,
    digest,
    new_secret,
    user_view,
    verify_password,
)
from callboard.api.errors import RateLimitedError
from callboard.api.params import PageDep
from callboard.api.schemas import Login, TokenCreate
from callboard.api.urls import V1
from callboard.core.errors import AuthenticationError, NotFoundError

router = APIRouter(prefix=f"{V1}/auth", tags=["auth"])

RATE_WINDOW = 60


@router.post("/login")
async def login(body: Login, request: Request, response: Response, center: CenterDep, config: AuthConfigDep) -> Any:
    """Check the password and open a session: the token goes in an HttpOnly cookie, the CSRF token in the body.

    Failed attempts are counted per username and client address; past `login_rate_limit` in a minute the
    answer is 429 until the minute has passed.
    """
    store, now = center.store, center.clock.now()
    key = f"{body.username.lower()}|{request.client.host if request.client else '-'}"
    await store.purge_login_attempts(now - RATE_WINDOW)
    if await store.count_login_attempts(key, now - RATE_WINDOW) >= config.login_rate_limit:
        raise RateLimitedError("too many failed logins; try again in a minute", retry_after=RATE_WINDOW)
    user = await store.get_user_by_name(body.username)
    if not await verify_password(user["password_hash"] if user else None, body.password) or user is None:
        await store.record_login_attempt(key, now)
        raise AuthenticationError("wrong username or password", error_id="invalid_credentials")
    if user["disabled"]:
        raise AuthenticationError("the account is disabled", error_id="account_disabled")
    await store.clear_login_attempts(key)
    await store.purge_sessions(now)
    token, csrf_token = new_secret(), new_secret()
    await store.create_session(digest(token), user["id"], now + config.session_ttl, csrf_token)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(config.session_ttl),
        path="/",
        secure=config.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return {"user": user_view(user), "csrf_token": csrf_token}


@router.post("/logout", status_code=204)
async def logout(request: Request, response: Response, _: AnyUser, center: CenterDep) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await center.store.delete_session(digest(token))
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me")
async def me(principal: AnyUser, center: CenterDep) -> dict[str, Any]:
    """The caller's user, and the session's CSRF token (for a page reloaded after login)."""
    user = await center.store.get_user(principal.user_id)
    assert user is not None  # authentication just read it
    return {"user": user_view(user), "csrf_token": principal.csrf_token}


def _token_view(token: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in token.items() if k != "token_hash"}


@router.post("/tokens", status_code=201)
async def create_token(body: TokenCreate, principal: AnyUser, center: CenterDep) -> dict[str, Any]:
    """A token acting as the caller; its secret is in this answer only, the store keeps a digest."""
    secret = new_secret(API_TOKEN_PREFIX)
    token = await center.store.create_api_token(principal.user_id, body.name, digest(secret))
    return {**_token_view(token), "token": secret}


@router.get("/tokens")
async def list_tokens(principal: AnyUser, center: CenterDep, page: PageDep) -> dict[str, Any]:
    return page.slice([_token_view(t) for t in await center.store.list_api_tokens(principal.user_id)])


@router.delete("/tokens/{token_id}", status_code=204)
async def delete_token(token_id: str, principal: AnyUser, center: CenterDep) -> None:
    mine = await center.store.list_api_tokens(principal.user_id)
    token = next((t for t in mine if str(t["id"]) == token_id), None)
    if token is None:
        raise NotFoundError(f"no API token {token_id}", error_id="token_not_found", id=token_id)
    await center.store.delete_api_token(token["id"])
