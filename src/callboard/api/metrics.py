"""Prometheus metrics of one API instance, in a registry of its own (tests build many apps in one process).

Gauges of live tasks and available workers are read from the engines at scrape time; published events
are counted as the bus delivers them; HTTP requests are counted and timed by route template and status.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callboard.api.ports import CenterPort
from callboard.core.events import Event
from callboard.routing.model import TaskStatus

router = APIRouter(tags=["operations"])

_LIVE = (TaskStatus.PENDING, TaskStatus.RESERVED, TaskStatus.ASSIGNED, TaskStatus.WRAPPING)


class _EngineCollector:
    """Reads the engines when Prometheus scrapes, so the gauges cannot drift from the state."""

    def __init__(self, center: CenterPort) -> None:
        self._center = center

    def collect(self) -> Iterator[Metric]:
        tasks = GaugeMetricFamily("callboard_tasks", "Live tasks by status", labels=["workspace_sid", "status"])
        workers = GaugeMetricFamily(
            "callboard_workers_available", "Workers in an available activity", labels=["workspace_sid"]
        )
        for engine in self._center.workspaces().values():
            counts = Tally(t.status for t in engine.tasks.values())
            for status in _LIVE:
                tasks.add_metric([engine.sid, str(status)], counts[status])
            workers.add_metric([engine.sid], sum(1 for w in engine.workers.values() if engine.is_available(w)))
        yield tasks
        yield workers


class Metrics:
    """The registry and the instruments the middleware and the bus observer update."""

    def __init__(self, center: CenterPort) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "callboard_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "callboard_http_request_duration_seconds",
            "HTTP request duration",
            ["method", "route"],
            registry=self.registry,
        )
        self.events = Counter(
            "callboard_events_published", "Events published by type", ["event_type"], registry=self.registry
        )
        self.registry.register(_EngineCollector(center))
        # An observer, not a reader: the filter counts each event and keeps nothing in the queue.
        self._subscription = center.bus.subscribe(self._count)

    def _count(self, event: Event) -> bool:
        self.events.labels(event.name).inc()
        return False

    def close(self) -> None:
        self._subscription.close()


class MetricsMiddleware:
    """Counts and times each HTTP request under its route template (`/api/v1/workspaces/{ws}/tasks`)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            route = _template(scope)
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(time.perf_counter() - started)


def _template(scope: Scope) -> str:
    # Unmatched paths share one label so that scanning for URLs cannot grow the series without bound.
    route = scope.get("route")
    return getattr(route, "path", "unmatched")


@router.get("/metrics", include_in_schema=True)
async def metrics(request: Request) -> Response:
    """Prometheus text exposition."""
    registry: CollectorRegistry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
