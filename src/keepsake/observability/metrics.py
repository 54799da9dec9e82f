"""Prometheus metrics, in a registry of each app's or worker's own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import QueuePool, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger("keepsake.metrics")

# Jobs run from milliseconds (a mail) to many minutes (a long memory on a small pod).
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200)
MEDIA_BUCKETS = (0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200)
# A scrape must answer even when the database does not; the series then goes missing.
QUEUE_DEPTH_TIMEOUT = 2.0

_QUEUE_DEPTH = text(
    # procrastinate's partial index of todo/doing jobs serves it: 0.05 ms beside 200,000
    # failed jobs (EXPLAIN ANALYZE on PostgreSQL 18).
    "SELECT queue_name, status::text, count(*) FROM procrastinate_jobs"
    " WHERE status IN ('todo', 'doing') GROUP BY queue_name, status"
)


class QueueDepth(Collector):
    """Jobs waiting and running, by queue, as read by the last `refresh`.

    Read on scrape by the API, not by the worker's reconcile loop: a queue that grows
    because no worker is alive is exactly when the number must still be reported.
    `Collector.collect` is synchronous, so the read happens before rendering, in the
    async `/metrics` handler, and never blocks the event loop.
    """

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], int] | None = None

    async def refresh(self, engine: AsyncEngine) -> None:
        try:
            async with asyncio.timeout(QUEUE_DEPTH_TIMEOUT), engine.connect() as connection:
                rows = (await connection.execute(_QUEUE_DEPTH)).all()
        except (TimeoutError, OSError, SQLAlchemyError) as exc:
            log.warning("metrics.queue_depth.failed", error=repr(exc))
            self._counts = None
            return
        # An empty queue reads as zeros, not as a missing series.
        counts = {("default", "todo"): 0, ("default", "doing"): 0}
        counts.update({(queue, status): count for queue, status, count in rows})
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        if self._counts is None:
            return
        gauge = GaugeMetricFamily(
            "keepsake_job_queue_depth",
            "Jobs waiting (todo) or running (doing), by queue.",
            labels=["queue", "status"],
        )
        for (queue, status), count in sorted(self._counts.items()):
            gauge.add_metric([queue, status], count)
        yield gauge


class PoolUsage(Collector):
    """The SQLAlchemy pool's connections, read when scraped (counters in memory, no I/O)."""

    def __init__(self, engine: AsyncEngine) -> None:
        # The engine, not its pool: `dispose()` swaps the pool for a new one.
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        pool = self._engine.pool
        if not isinstance(pool, QueuePool):
            return
        for name, doc, value in (
            ("checked_out", "Connections lent to requests or jobs.", pool.checkedout()),
            ("idle", "Open connections waiting in the pool.", pool.checkedin()),
            ("size", "Connections the pool keeps open (overflow comes on top).", pool.size()),
        ):
            yield GaugeMetricFamily(f"keepsake_db_pool_{name}", doc, value=value)


class ReadPoolUsage(Collector):
    """The feeds' autocommit pool (`keepsake.readdb`), read when scraped."""

    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        self._pool = pool

    def collect(self) -> Iterator[Metric]:
        stats = self._pool.get_stats()
        size, idle = stats.get("pool_size", 0), stats.get("pool_available", 0)
        for name, doc, value in (
            ("checked_out", "Connections lent to feed pages.", size - idle),
            ("idle", "Open connections waiting in the pool.", idle),
            ("size", "Connections open now (up to the pool's maximum).", size),
            ("waiting", "Pages waiting for a connection.", stats.get("requests_waiting", 0)),
        ):
            yield GaugeMetricFamily(f"keepsake_db_read_pool_{name}", doc, value=value)


class WatchedAuthCache(Protocol):
    active: bool
    notifications_applied: int

    def __len__(self) -> int: ...


class AuthCacheUsage(Collector):
    """The session cache (`keepsake.accounts.auth_cache`), read when scraped.

    `active` 0 for long means its listener cannot reach the database: every request then
    checks its session in the database, which is slower but still correct.
    """

    def __init__(self, cache: WatchedAuthCache) -> None:
        self._cache = cache

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "keepsake_auth_cache_active",
            "1 while the cache hears invalidations and is trusted, else 0.",
            value=int(self._cache.active),
        )
        yield GaugeMetricFamily(
            "keepsake_auth_cache_entries", "Access tokens cached.", value=len(self._cache)
        )
        yield CounterMetricFamily(
            "keepsake_auth_cache_invalidations",
            "Notifications of ended sessions and changed accounts applied.",
            value=self._cache.notifications_applied,
        )


class Metrics:
    """The app's own registry, so that several apps (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "keepsake_http_request_duration_seconds",
            "HTTP request latency by route template.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.server_errors = Counter(
            "keepsake_http_server_errors",
            "Responses with a 5xx status, by route template.",
            ["route"],
            registry=self.registry,
        )
        self.job_seconds = Histogram(
            "keepsake_job_duration_seconds",
            "Background job run time by task and outcome (succeeded, failed, aborted).",
            ["task", "status"],
            buckets=JOB_BUCKETS,
            registry=self.registry,
        )
        self.media_processing_seconds = Histogram(
            "keepsake_media_processing_seconds",
            "Time to process one memory's media: download, probe, transcode, store.",
            buckets=MEDIA_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = QueueDepth()
        self.registry.register(self.queue_depth)

    def watch_pool(self, engine: AsyncEngine) -> None:
        self.registry.register(PoolUsage(engine))

    def watch_read_pool(self, pool: AsyncConnectionPool[Any]) -> None:
        self.registry.register(ReadPoolUsage(pool))

    def watch_auth_cache(self, cache: WatchedAuthCache) -> None:
        self.registry.register(AuthCacheUsage(cache))

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def serve_metrics(metrics: Metrics, port: int) -> Callable[[], None]:
    """Serve `/metrics` from a thread (for `keepsake worker`); returns how to stop it."""
    server, thread = start_http_server(port, registry=metrics.registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return stop
