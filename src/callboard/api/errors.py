"""The one place where errors become HTTP responses: `{"error": {"id", "message", "details"}}`.

Domain errors carry their stable `error_id`; this module picks the status code by error type, logs each
error with its id, and gives framework errors (bad request bodies, unknown routes, wrong methods, crashes)
the same shape.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from callboard.core.errors import (
    AuthenticationError,
    CallboardError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)

log = logging.getLogger(__name__)


class RateLimitedError(CallboardError):
    """Too many attempts; the client may retry after `retry_after` seconds."""

    error_id = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, **details: Any) -> None:
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after


class ServiceUnavailableError(CallboardError):
    """Something the server needs for this request is missing (a program not installed, say)."""

    error_id = "service_unavailable"


# Most specific first: InvalidStateError is a ConflictError.
STATUS_BY_TYPE: tuple[tuple[type[CallboardError], int], ...] = (
    (NotFoundError, 404),
    (ValidationError, 422),
    (ConflictError, 409),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (RateLimitedError, 429),
    (ServiceUnavailableError, 503),
)

_HTTP_IDS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def status_of(exc: CallboardError) -> int:
    return next((status for kind, status in STATUS_BY_TYPE if isinstance(exc, kind)), 400)


def error_body(error_id: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"id": error_id, "message": message, "details": details or {}}}


def describe(exc: CallboardError) -> dict[str, Any]:
    """The error as the contract shows it (the WebSocket stream sends this too)."""
    return error_body(exc.error_id, exc.message, _jsonable(exc.details))


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    safe: dict[str, Any] = {}
    for key, value in details.items():
        safe[key] = value if isinstance(value, str | int | float | bool | list | dict | None) else str(value)
    return safe


def _respond(
    request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    error = body["error"]
    level = logging.WARNING if status >= 500 else logging.INFO
    log.log(level, "%s %s -> %d %s: %s", request.method, request.url.path, status, error["id"], error["message"])
    return JSONResponse(body, status_code=status, headers=headers)


async def _callboard_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CallboardError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimitedError) else None
    return _respond(request, status_of(exc), describe(exc), headers)


async def _request_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(part) for part in e.get("loc", ())], "message": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    body = error_body("request_invalid", "the request is not valid", {"errors": errors})
    return _respond(request, 422, body)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error_id = _HTTP_IDS.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else error_id.replace("_", " ")
    if exc.status_code == 404 and message == "Not Found":
        message = f"no route {request.url.path}"
    return _respond(request, exc.status_code, error_body(error_id, message), dict(exc.headers or {}))


class CatchAll:
    """Turns an unhandled exception into a 500 `internal_error` with a reference also written to the log.

    A FastAPI handler for `Exception` would answer too, but Starlette re-raises the exception after it so
    the server logs it a second time, without the reference.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            ref = uuid.uuid4().hex[:12]
            log.exception("%s %s -> 500 internal_error (ref %s)", scope.get("method"), scope.get("path"), ref)
            if started:
                raise
            body = error_body("internal_error", "an internal error occurred", {"ref": ref})
            await JSONResponse(body, status_code=500)(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_exception_handler(CallboardError, _callboard_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
