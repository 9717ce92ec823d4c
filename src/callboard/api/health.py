"""Liveness for load balancers and orchestrators."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from callboard.api.auth import CenterDep

log = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz(center: CenterDep) -> JSONResponse:
    """200 when the store answers a trivial query, 503 when it does not."""
    try:
        await center.store.events(None, limit=0)
    except Exception as exc:
        log.warning("health check failed: store_unavailable: %s", exc)
        body = {"status": "unavailable", "error": {"id": "store_unavailable", "message": str(exc), "details": {}}}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok"})
