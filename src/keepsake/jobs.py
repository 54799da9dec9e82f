"""Background jobs on procrastinate, a queue kept in the same PostgreSQL.

A job is only a trigger: the truth (a memory's status, an account's deletion date)
lives in our own tables, and `reconcile` re-triggers anything a lost job left behind.
Jobs are deferred with `defer()` inside the request's own transaction, so a job
exists exactly when the write that needs it was committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import procrastinate
import structlog
from opentelemetry.trace import SpanKind
from procrastinate import JobContext
from procrastinate.exceptions import JobAborted
from procrastinate.middleware import AsyncCallNext, WorkerMiddleware
from procrastinate.worker import Worker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from keepsake.config import Settings
from keepsake.mailer import Mailer
from keepsake.observability import Telemetry
from keepsake.storage.base import Storage

log = structlog.get_logger("keepsake.jobs")

_DEFER = text(
    """
    SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(
        :queue, :task, 0, :lock, :queueing_lock, CAST(:args AS jsonb), :scheduled_at
    )::procrastinate_job_to_defer_v1])
    """
)

# Reconcilers are idempotent sweeps each domain registers; the worker runs them all.
Reconciler = Callable[["Resources"], Awaitable[None]]


@dataclass(frozen=True)
class Resources:
    """What a job may use; handed to every task through the job context."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    storage: Storage
    mailer: Mailer
    reconcilers: tuple[Reconciler, ...] = field(default=())
    telemetry: Telemetry = field(default_factory=Telemetry.disabled)


class RequeueOnShutdown(procrastinate.BaseRetryStrategy):
    """A job cut short because its worker is stopping (a deploy, Ctrl-C) goes straight back
    to the queue; every other failure stays the task's own business."""

    def get_retry_decision(
        self, *, exception: BaseException, job: procrastinate.jobs.Job
    ) -> procrastinate.RetryDecision | None:
        # Keepsake never aborts a job on purpose: a cancelled job is a stopping worker's.
        if isinstance(exception, asyncio.CancelledError):
            return procrastinate.RetryDecision()
        return None


REQUEUE_ON_SHUTDOWN = RequeueOnShutdown()


def resources(context: JobContext) -> Resources:
    found = context.additional_context["resources"]
    assert isinstance(found, Resources)
    return found


async def defer(
    db: AsyncSession,
    task: str,
    *,
    queueing_lock: str | None = None,
    lock: str | None = None,
    scheduled_at: datetime | None = None,
    queue: str = "default",
    **args: Any,
) -> None:
    """Enqueue `task` in the caller's transaction: it runs only if that commits."""
    await db.execute(
        _DEFER,
        {
            "queue": queue,
            "task": task,
            "lock": lock,
            "queueing_lock": queueing_lock,
            "args": json.dumps(args),
            "scheduled_at": scheduled_at,
        },
    )


async def has_pending_job(db: AsyncSession, queueing_lock: str) -> bool:
    """Whether a job with this queueing lock is waiting or running."""
    found = await db.scalar(
        text(
            "SELECT 1 FROM procrastinate_jobs"
            " WHERE queueing_lock = :lock AND status IN ('todo', 'doing') LIMIT 1"
        ),
        {"lock": queueing_lock},
    )
    return found is not None


def build_job_app(blueprints: Iterable[tuple[str, procrastinate.Blueprint]]) -> procrastinate.App:
    """The process's one job app; naming tasks into it is done once, at import."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector())
    for namespace, blueprint in blueprints:
        app.add_tasks_from(blueprint, namespace=namespace)
    return app


def connected(app: procrastinate.App, database_url: str) -> procrastinate.App:
    """The job app with its own small pool to `database_url`."""
    return app.with_connector(
        procrastinate.PsycopgConnector(conninfo=database_url, min_size=1, max_size=4)
    )


def _observed(telemetry: Telemetry) -> WorkerMiddleware:
    """Around every job: a span, a duration by outcome, and one `job.finished` line,
    all under the job's ids (each job runs in its own asyncio task, so the bound log
    context ends with it)."""
    tracer = telemetry.tracing.tracer("keepsake.jobs")
    durations = telemetry.metrics.job_seconds

    async def observe(call_next: AsyncCallNext, context: JobContext, worker: Worker) -> Any:
        job = context.job
        attempt = job.attempts + 1
        status = "failed"
        started = time.perf_counter()
        with (
            structlog.contextvars.bound_contextvars(job_id=job.id, task=job.task_name),
            tracer.start_as_current_span(
                f"job {job.task_name}",
                kind=SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "procrastinate",
                    "messaging.operation.type": "process",
                    "messaging.destination.name": job.queue,
                    "messaging.message.id": str(job.id),
                    "job.task": job.task_name,
                    "job.attempt": attempt,
                },
            ) as span,
        ):
            try:
                result = await call_next()
            except (JobAborted, asyncio.CancelledError):
                status = "aborted"
                raise
            else:
                status = "succeeded"
                return result
            finally:
                elapsed = time.perf_counter() - started
                span.set_attribute("job.status", status)
                durations.labels(job.task_name, status).observe(elapsed)
                log.info(
                    "job.finished",
                    status=status,
                    attempt=attempt,
                    duration_ms=round(elapsed * 1000, 1),
                )

    return observe


async def _reconcile_forever(app: procrastinate.App, res: Resources) -> None:
    interval = res.settings.reconcile_interval.total_seconds()
    stalled_after = res.settings.stalled_job_timeout.total_seconds()
    # One span per sweep, so that its queries form one trace instead of one each.
    tracer = res.telemetry.tracing.tracer("keepsake.jobs")
    while True:
        with tracer.start_as_current_span("jobs.reconcile"):
            try:
                # Jobs whose worker died (kill -9, lost pod) go back to the queue.
                for job in await app.job_manager.get_stalled_jobs(
                    seconds_since_heartbeat=stalled_after
                ):
                    log.warning("job.stalled.retried", job_id=job.id, task=job.task_name)
                    await app.job_manager.retry_job(job)
                for reconciler in res.reconcilers:
                    await reconciler(res)
            except Exception:
                # A failed sweep must not stop the worker; the next one tries again.
                log.exception("jobs.reconcile.failed")
        await asyncio.sleep(interval)


async def run_worker(app: procrastinate.App, res: Resources, *, concurrency: int) -> None:
    """Process jobs until cancelled, sweeping for lost work on the side."""
    async with app.open_async():
        sweeper = asyncio.create_task(_reconcile_forever(app, res))
        try:
            await app.run_worker_async(
                concurrency=concurrency,
                additional_context={"resources": res},
                install_signal_handlers=False,
                update_heartbeat_interval=min(
                    10.0, res.settings.stalled_job_timeout.total_seconds() / 3
                ),
                stalled_worker_timeout=res.settings.stalled_job_timeout.total_seconds(),
                shutdown_graceful_timeout=res.settings.worker_shutdown_timeout.total_seconds(),
                delete_jobs="successful",
                worker_middleware=[_observed(res.telemetry)],
            )
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
