"""`keepsake worker`: the job worker as its own process."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal

from keepsake.cli.common import CommandError, check_database, load_settings, progress
from keepsake.config import Settings


async def run_worker(settings: Settings, concurrency: int) -> None:
    """Process jobs until SIGTERM or SIGINT, then stop as procrastinate does: a running
    job gets `worker_shutdown_timeout` to finish before it is aborted."""
    from keepsake import jobs
    from keepsake.db import create_engine, sessionmaker
    from keepsake.observability import configure_logging, worker_telemetry
    from keepsake.storage import build_storage
    from keepsake.worker import job_app, job_resources

    configure_logging(settings.log_level, json=settings.log_json)
    assert settings.database_url is not None
    engine = create_engine(
        settings.database_url.get_secret_value(), pool_size=settings.database_pool_size
    )
    telemetry = worker_telemetry(settings, engine)
    try:
        # procrastinate's pool would retry an unreachable database forever, silently.
        await check_database(engine)
        resources = job_resources(settings, sessionmaker(engine), build_storage(settings))
        resources = dataclasses.replace(resources, telemetry=telemetry)
        worker = asyncio.create_task(
            jobs.run_worker(job_app(settings), resources, concurrency=concurrency)
        )
        loop = asyncio.get_running_loop()

        def stop() -> None:
            grace = settings.worker_shutdown_timeout.total_seconds()
            progress(f"stopping; running jobs get {grace:.0f} s to finish…")
            # A second signal is the operator insisting: the default handlers then end
            # the process at once.
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
            worker.cancel()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop)
        progress(f"worker started; processing jobs, {concurrency} at a time")
        await asyncio.wait([worker])
    finally:
        await telemetry.shutdown()
        await engine.dispose()
    if not worker.cancelled():
        # The worker ends on its own only by failing; its exception says why.
        worker.result()
    progress("worker stopped")


def worker_command(args: argparse.Namespace) -> None:
    # Until the worker runs, SIGTERM unwinds like Ctrl-C: there is nothing to finish.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    settings = load_settings(args.data_dir)
    if settings.database_url is None:
        raise CommandError(
            "keepsake worker needs KEEPSAKE_DATABASE_URL: an embedded PostgreSQL belongs to "
            "the `keepsake serve` that started it, which runs the worker itself and prints "
            "the URL other commands can use"
        )
    asyncio.run(run_worker(settings, args.concurrency or settings.worker_concurrency))
