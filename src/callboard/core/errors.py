"""Domain errors. Each carries a stable `error_id`; `api/` maps them to HTTP status codes in one place."""

from __future__ import annotations

from typing import Any


class CallboardError(Exception):
    """Base of every error a user can be shown."""

    error_id = "error"

    def __init__(self, message: str, *, error_id: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if error_id is not None:
            self.error_id = error_id
        self.details: dict[str, Any] = details


class NotFoundError(CallboardError):
    error_id = "not_found"


class ConflictError(CallboardError):
    error_id = "conflict"


class InvalidStateError(ConflictError):
    """An operation that the object's current state does not allow."""

    error_id = "invalid_state"


class ValidationError(CallboardError, ValueError):
    error_id = "validation_error"


class AuthenticationError(CallboardError):
    error_id = "not_authenticated"


class PermissionDeniedError(CallboardError):
    error_id = "permission_denied"
