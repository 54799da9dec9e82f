"""What one app or one worker process observes itself with: its metrics and its traces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import anyio.to_thread
import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.config import Settings
from keepsake.observability.metrics import Metrics, serve_metrics
from keepsake.observability.tracing import Tracing, build_provider


@dataclass(frozen=True)
class Telemetry:
    metrics: Metrics
    tracing: Tracing
    # How to stop the metrics server of a worker process; the API serves its own.
    stop_serving: Callable[[], None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Telemetry:
        return cls(Metrics(), Tracing(build_provider(settings)))

    @classmethod
    def disabled(cls) -> Telemetry:
        """Metrics nobody reads and no traces: for jobs run outside an app (tests)."""
        return cls(Metrics(), Tracing(None))

    def instrument_engine(self, engine: AsyncEngine) -> None:
        self.metrics.watch_pool(engine)
        self.tracing.instrument_engine(engine)

    def instrument_client(self, client: httpx.AsyncClient) -> None:
        self.tracing.instrument_client(client)

    async def shutdown(self) -> None:
        # Both steps block (the metrics server's poll, the last spans' HTTP export).
        await anyio.to_thread.run_sync(self._stop)

    def _stop(self) -> None:
        if self.stop_serving is not None:
            self.stop_serving()
        self.tracing.shutdown()


def worker_telemetry(settings: Settings, engine: AsyncEngine) -> Telemetry:
    """Telemetry of a `keepsake worker` process: traces of its jobs and queries, and its
    metrics served on `worker_metrics_port`. Call `shutdown()` when the worker stops."""
    metrics = Metrics()
    port = settings.worker_metrics_port
    stop_serving = serve_metrics(metrics, port) if port is not None else None
    telemetry = Telemetry(metrics, Tracing(build_provider(settings)), stop_serving)
    telemetry.instrument_engine(engine)
    return telemetry
