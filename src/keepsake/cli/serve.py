"""`keepsake serve`: migrations, then the API under uvicorn (and the worker inside)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import signal
import socket
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import uvicorn
from pydantic import SecretStr
from starlette.types import ASGIApp

from keepsake import serve_address
from keepsake.cli.common import (
    CommandError,
    apply_migrations,
    database_url,
    load_settings,
    progress,
)
from keepsake.cli.connections import ConnectionLimits, limited_protocol
from keepsake.config import Settings


class MetricsServer(uvicorn.Server):
    """The `/metrics` listener, in the API server's event loop, started and stopped by it."""

    def __init__(self, config: uvicorn.Config, sock: socket.socket) -> None:
        super().__init__(config)
        self.sock = sock
        self.task: asyncio.Task[None] | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # SIGTERM/SIGINT are the API server's: it stops this one on its way out.
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            progress(f"Prometheus metrics at {serve_address.url_of(self.sock)}/metrics")

    def start(self) -> None:
        self.task = asyncio.create_task(self.serve(sockets=[self.sock]))

    async def stop(self) -> None:
        self.should_exit = True
        if self.task is not None:
            await self.task


class Server(uvicorn.Server):
    """uvicorn's server, announcing its address once it accepts connections, and exiting
    at the latest `shutdown_timeout` after the first SIGTERM/SIGINT."""

    def __init__(
        self,
        config: uvicorn.Config,
        public_url: str,
        shutdown_timeout: float,
        metrics: MetricsServer | None,
    ) -> None:
        super().__init__(config)
        self.public_url = public_url
        self.shutdown_timeout = shutdown_timeout
        self.metrics = metrics
        self.deadline: threading.Timer | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.deadline is None:
            # Draining, the worker's goodbye and stopping PostgreSQL may each wait on a
            # database that does not answer; Kubernetes would then kill the pod anyway.
            self.deadline = threading.Timer(
                self.shutdown_timeout, overran, (self.shutdown_timeout,)
            )
            self.deadline.daemon = True
            self.deadline.start()
        super().handle_exit(sig, frame)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            progress(f"ready; URLs handed out start with {self.public_url}")
            progress(f"API docs at {self.public_url}/docs")
            # After the app's lifespan: a scrape reads the queue through the app's engine.
            if self.metrics is not None:
                self.metrics.start()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.metrics is not None:
            await self.metrics.stop()
        await super().shutdown(sockets)


def overran(timeout: float) -> None:
    progress(
        f"shutdown did not finish within {timeout:.0f}s; exiting now "
        "(jobs cut short go back to the queue)"
    )
    os._exit(1)


def ignore_signal(signum: int, frame: FrameType | None) -> None:
    """Handles SIGINT/SIGTERM once uvicorn has stopped gracefully.

    uvicorn then re-raises the signal that stopped it; under the default handlers that
    would kill the process (SIGTERM) or unwind it with a traceback (SIGINT) before
    PostgreSQL is stopped, and there is nothing left for the signal to do.
    """


def announce(settings: Settings, url: str) -> None:
    if settings.database_url is None:
        # Only this process may own the embedded server, but other commands on this
        # machine (`keepsake worker`, `keepsake admin`) may connect to its socket.
        progress(f"other commands reach this database with KEEPSAKE_DATABASE_URL={url}")
    if settings.worker_in_process:
        progress("the job worker runs inside this process")
    else:
        progress("the job worker is off here: jobs wait for `keepsake worker`")
    if settings.metrics_port is None:
        progress("Prometheus metrics are not served: KEEPSAKE_METRICS_PORT is unset")


def listen(host: str, port: int) -> socket.socket:
    try:
        return serve_address.bind(host, port)
    except OSError as exc:
        raise CommandError(f"cannot listen on {host}:{port}: {exc}") from exc


def uvicorn_config(app: ASGIApp, settings: Settings, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level=settings.log_level.lower(),
        # Which client address to trust is the app's decision (trust_forwarded_for).
        proxy_headers=False,
        # The app has configured logging: uvicorn's own lines then come out as the
        # same JSON. Its access log would repeat the app's `http.request` line without
        # the request id, and would print the signatures of signed upload URLs.
        log_config=None,
        access_log=False,
        **options,
    )


def connection_limits(settings: Settings) -> ConnectionLimits:
    return ConnectionLimits(
        header_timeout=settings.header_timeout.total_seconds(),
        body_timeout=settings.body_timeout.total_seconds(),
        body_min_rate=settings.body_min_rate,
        max_connections=settings.max_connections,
    )


def serve(args: argparse.Namespace) -> None:
    # Imported here so that `keepsake migrate` does not load the whole API.
    from keepsake.health import metrics_app
    from keepsake.main import create_app

    # Until uvicorn runs, SIGTERM unwinds like Ctrl-C, through the `finally` that stops
    # PostgreSQL.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    settings = load_settings(args.data_dir)
    if args.no_worker:
        settings = settings.model_copy(update={"worker_in_process": False})
    sock = listen(args.host, args.port)
    settings = serve_address.with_public_url(settings, sock)
    with contextlib.ExitStack() as sockets:
        sockets.enter_context(sock)
        metrics_sock = None
        if settings.metrics_port is not None:
            metrics_sock = sockets.enter_context(
                listen(settings.metrics_host, settings.metrics_port)
            )
        url = sockets.enter_context(database_url(settings, supervise=True))
        apply_migrations(url)
        announce(settings, url)
        app = create_app(settings.model_copy(update={"database_url": SecretStr(url)}))
        config = uvicorn_config(
            app,
            settings,
            http=limited_protocol(connection_limits(settings)),
            # After SIGTERM, requests in flight get this long to finish; then they are cut.
            timeout_graceful_shutdown=math.ceil(settings.http_shutdown_timeout.total_seconds()),
        )
        metrics = None
        if metrics_sock is not None:
            metrics_config = uvicorn_config(metrics_app(app), settings, lifespan="off")
            metrics = MetricsServer(metrics_config, metrics_sock)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, ignore_signal)
        shutdown_timeout = settings.shutdown_timeout.total_seconds()
        Server(config, settings.public_url, shutdown_timeout, metrics).run(sockets=[sock])
