"""The HTTP API: REST under /api/v1, the WebSocket event stream, health and metrics."""

from callboard.api.app import create_api

__all__ = ["create_api"]
