"""Prometheus metrics: requests by route and status with latency (Litestar's middleware,
grouped by route template), events appended by this process (counted by the metered store,
events/metered.py), and each projection's progress: its lag behind the log's head (read from
the database, whoever runs it) and, for the runners of this process, their consecutive
failures and the time of their last error."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
from litestar.enums import ScopeType
from litestar.plugins.prometheus import PrometheusConfig, PrometheusMiddleware
from prometheus_client import REGISTRY, Counter, Gauge, generate_latest

from events.connections import Conn
from events.postgres.reads import fetch_head
from events.timeouts import ACQUIRE_TIMEOUT

if TYPE_CHECKING:
    import asyncpg
    from litestar.types import Message, Receive, Scope, Send

    from projections.engine import ProjectionRunner

__all__ = [
    "DEGRADED_LAG",
    "LeanPrometheusMiddleware",
    "Metrics",
    "ProjectionHealth",
    "projection_health",
]

DEGRADED_LAG = 1000
"""A projection further behind the head than this many events makes /health `degraded`."""


class ProjectionHealth(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    lag: int
    """Events in the log after the projection's checkpoint."""
    running_here: bool
    """Whether this process runs a runner for it (the failure figures are that runner's)."""
    consecutive_failures: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None

    @property
    def degraded(self) -> bool:
        return self.lag > DEGRADED_LAG or self.consecutive_failures > 0


async def projection_health(
    conn: Conn, names: Sequence[str], runners: Iterable[ProjectionRunner]
) -> tuple[int, dict[str, ProjectionHealth]]:
    """The log's head, and each projection's progress (a read only: no checkpoint is made)."""
    head = (await fetch_head(conn)).position
    rows = await conn.fetch("SELECT name, position FROM projection_checkpoints")
    positions = {row[0]: row[1] for row in rows}
    here = {r.projection.name: r for r in runners}
    health = {}
    for name in names:
        position = positions.get(name, 0)
        runner = here.get(name)
        failed_at = None if runner is None else runner.last_error_at
        health[name] = ProjectionHealth(
            position=position,
            lag=max(head - position, 0),
            running_here=runner is not None,
            consecutive_failures=0 if runner is None else runner.failures,
            last_error=None if runner is None else runner.last_error,
            last_error_at=None if failed_at is None else datetime.fromtimestamp(failed_at, UTC),
        )
    return head, health


class LeanPrometheusMiddleware(PrometheusMiddleware):
    """Litestar's Prometheus middleware with the same metrics, labels and values, at less cost
    per request: no `Request` object, no `functools.wraps` around `send`, and each label set's
    children (`.labels(...)`, a lock and a lookup in prometheus_client) looked up once per
    route, method and status, then kept.  As the parent: the in-progress gauge is labelled
    with status 200 (it is raised before the status is known), the duration runs to the last
    body message, a 5xx also counts in the error total.  With exemplars or extra labels
    configured it is the parent's own code."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._children: dict[tuple[str, str, int], tuple[object, ...]] = {}

    def _labelled(self, method: str, path: str, status: int) -> tuple[object, ...]:
        key = (method, path, status)
        found = self._children.get(key)
        if found is None:
            labels: dict[str, str | int | float] = {
                "method": method, "path": path, "status_code": status,
                "app_name": self._config.app_name,
            }  # fmt: skip
            values = list(labels.values())
            found = (
                self.requests_in_progress(labels).labels(*values),
                self.request_count(labels).labels(*values),
                self.request_time(labels).labels(*values),
                self.requests_error_count(labels).labels(*values),
            )
            self._children[key] = found
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        config = self._config
        if config.exemplars is not None or config.labels or not config.group_path:
            await super().__call__(scope, receive, send)
            return
        method = scope["method"] if scope["type"] == ScopeType.HTTP else scope["type"]
        if config.excluded_http_methods and method in config.excluded_http_methods:
            await self.app(scope, receive, send)
            return
        path = scope["path_template"]
        started = time.perf_counter()
        span = [200, 0.0]  # status, duration

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                span[0] = message["status"]
            elif message["type"] == "http.response.body":
                span[1] = time.perf_counter() - started
            await send(message)

        in_progress = self._labelled(method, path, 200)[0]
        in_progress.inc()  # type: ignore[attr-defined]
        try:
            await self.app(scope, receive, timed_send)
        finally:
            in_progress.dec()  # type: ignore[attr-defined]
            _, count, duration, errors = self._labelled(method, path, int(span[0]))
            if span[0] >= 500:
                errors.inc()  # type: ignore[attr-defined]
            count.inc()  # type: ignore[attr-defined]
            duration.observe(span[1])  # type: ignore[attr-defined]


def _metric(kind, name: str, doc: str, labels: Sequence[str] = ()):  # type: ignore[no-untyped-def]
    """The process-wide metric of that name (an app made twice in one process shares it)."""
    existing = REGISTRY._names_to_collectors.get(name)
    return existing if existing is not None else kind(name, doc, labels)


class Metrics:
    def __init__(self, projections: Sequence[str]) -> None:
        self.config = PrometheusConfig(
            app_name="ceu_ledger", prefix="ceu_ledger", group_path=True,
            middleware_class=LeanPrometheusMiddleware,
        )  # fmt: skip
        self.projections = tuple(projections)
        self.appended = _metric(
            Counter, "ceu_ledger_events_appended", "Events appended by this process", ["type"]
        )
        self.head = _metric(
            Gauge, "ceu_ledger_log_head_position", "Position of the last event in the log"
        )
        self.lag = _metric(
            Gauge, "ceu_ledger_projection_lag_events", "Events not yet projected", ["projection"]
        )
        self.failures = _metric(
            Gauge,
            "ceu_ledger_projection_consecutive_failures",
            "Failed attempts in a row of this process's runner (0 while it works)",
            ["projection"],
        )
        self.last_error = _metric(
            Gauge,
            "ceu_ledger_projection_last_error_timestamp_seconds",
            "When this process's runner last failed (Unix time; 0 if never)",
            ["projection"],
        )

    async def render(self, pool: asyncpg.Pool, runners: Iterable[ProjectionRunner]) -> str:
        async with pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
            head, health = await projection_health(conn, self.projections, runners)
        self.head.set(head)
        for name, h in health.items():
            self.lag.labels(projection=name).set(h.lag)
            if h.running_here:
                self.failures.labels(projection=name).set(h.consecutive_failures)
                when = 0.0 if h.last_error_at is None else h.last_error_at.timestamp()
                self.last_error.labels(projection=name).set(when)
        return generate_latest(REGISTRY).decode()
