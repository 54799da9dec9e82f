"""Wiring of the job worker: which tasks exist, which sweeps run, and where it runs.

`keepsake worker` runs it as its own process (production); `keepsake serve` runs it
inside the API process by default, so a laptop needs one command.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import procrastinate
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from keepsake import jobs, storage_jobs, wiring
from keepsake.accounts import deletion, link_tasks
from keepsake.config import Settings
from keepsake.exports import tasks as export_tasks
from keepsake.mailer import build_mailer
from keepsake.media import tasks as media_tasks
from keepsake.memories import tasks as memory_tasks
from keepsake.moderation import tasks as moderation_tasks
from keepsake.push import tasks as push_tasks
from keepsake.ratelimit import prune_counters
from keepsake.storage.base import Storage

JOB_APP = jobs.build_job_app(
    [
        ("memories", memory_tasks.blueprint),
        (storage_jobs.NAMESPACE, storage_jobs.blueprint),
        ("push", push_tasks.blueprint),
        (storage_jobs.PURGE_NAMESPACE, storage_jobs.purge_blueprint),
        ("accounts", link_tasks.blueprint),
        ("exports", export_tasks.blueprint),
    ]
)


async def _prune_rate_limits(res: jobs.Resources) -> None:
    async with res.sessionmaker() as db, db.begin():
        await prune_counters(db)


RECONCILERS = (
    memory_tasks.reconcile,
    media_tasks.sweep_expired_uploads,
    _prune_rate_limits,
    push_tasks.reconcile,
    deletion.purge_due_accounts,
    export_tasks.reconcile,
    moderation_tasks.lift_due_suspensions,
)


def job_resources(
    settings: Settings, factory: async_sessionmaker[AsyncSession], storage: Storage
) -> jobs.Resources:
    wiring.connect()
    return jobs.Resources(
        settings=settings,
        sessionmaker=factory,
        storage=storage,
        mailer=build_mailer(settings),
        reconcilers=RECONCILERS,
    )


def job_app(settings: Settings) -> procrastinate.App:
    assert settings.database_url is not None
    return jobs.connected(JOB_APP, settings.database_url.get_secret_value())


@contextlib.asynccontextmanager
async def in_process_worker(resources: jobs.Resources) -> AsyncIterator[None]:
    """Run the worker beside the API until the block exits, then stop it gracefully."""
    task = asyncio.create_task(
        jobs.run_worker(
            job_app(resources.settings),
            resources,
            concurrency=resources.settings.worker_concurrency,
        )
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
