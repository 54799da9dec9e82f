"""The `keepsake` command: `serve`, `worker`, `migrate`, `admin set-role` and `admin seed`."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import signal
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import uvicorn
from pydantic import SecretStr, ValidationError
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake import migrate
from keepsake.accounts.models import Role
from keepsake.config import Settings
from keepsake.embedded_pg import EmbeddedPostgres, EmbeddedPostgresError


def progress(message: str) -> None:
    print(f"keepsake: {message}", file=sys.stderr, flush=True)


class CommandError(Exception):
    """A failure the user can act on: printed as one line, no traceback."""


def load_settings(data_dir: Path | None) -> Settings:
    try:
        return Settings() if data_dir is None else Settings(data_dir=data_dir)
    except ValidationError as exc:
        raise CommandError(f"invalid KEEPSAKE_ configuration:\n{exc}") from exc


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The configured database, or an embedded one that is stopped on the way out."""
    if settings.database_url is not None:
        yield settings.database_url.get_secret_value()
        return
    postgres = EmbeddedPostgres(settings.data_dir, progress=progress)
    # start() stays outside the `try`: when it fails on the data folder's lock, the
    # server belongs to another Keepsake process, and stop() must not touch it.
    url = postgres.start()
    try:
        yield url
    finally:
        postgres.stop()


def apply_migrations(url: str) -> None:
    progress("applying database migrations…")
    try:
        migrate.upgrade(url)
    except OperationalError as exc:
        raise CommandError(f"cannot reach the database: {exc.orig}") from exc
    progress("database schema is up to date")


def http_url(address: tuple[str, int], path: str) -> str:
    host, port = address
    # Bound to every interface: the local address is the one a browser here can open.
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    return f"http://[{host}]:{port}{path}" if ":" in host else f"http://{host}:{port}{path}"


class Server(uvicorn.Server):
    """uvicorn's server, announcing the API docs once it accepts connections."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            # The bound socket, not the --port flag, so that `--port 0` shows the real port.
            address = self.servers[0].sockets[0].getsockname()
            progress(f"ready; API docs at {http_url(address[:2], '/docs')}")


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


def serve(args: argparse.Namespace) -> None:
    # Imported here so that `keepsake migrate` does not load the whole API.
    from keepsake.main import create_app

    # Until uvicorn runs, SIGTERM unwinds like Ctrl-C, through the `finally` that stops
    # PostgreSQL.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    settings = load_settings(args.data_dir)
    if args.no_worker:
        settings = settings.model_copy(update={"worker_in_process": False})
    with database_url(settings) as url:
        apply_migrations(url)
        announce(settings, url)
        app = create_app(settings.model_copy(update={"database_url": SecretStr(url)}))
        config = uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            log_level=settings.log_level.lower(),
            # Which client address to trust is the app's decision (trust_forwarded_for).
            proxy_headers=False,
            # The app has configured logging: uvicorn's own lines then come out as the
            # same JSON. Its access log would repeat the app's `http.request` line without
            # the request id, and would print the signatures of signed upload URLs.
            log_config=None,
            access_log=False,
            # After SIGTERM, requests in flight get this long to finish; then they are cut.
            timeout_graceful_shutdown=math.ceil(settings.http_shutdown_timeout.total_seconds()),
        )
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, ignore_signal)
        Server(config).run()


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


async def check_database(engine: AsyncEngine) -> None:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise CommandError(f"cannot reach the database: {exc.orig}") from exc


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


async def set_role(url: str, handle: str, role: Role) -> str | None:
    """The account's handle once its role is set; None when no account has `handle`."""
    from keepsake.accounts import repository
    from keepsake.db import create_engine, sessionmaker

    engine = create_engine(url, pool_size=1)
    try:
        async with sessionmaker(engine)() as db, db.begin():
            user = await repository.user_by_handle(db, handle)
            if user is None:
                return None
            user.role = role
            return user.handle
    finally:
        await engine.dispose()


def set_role_command(args: argparse.Namespace) -> None:
    handle: str = args.handle.removeprefix("@")
    role = Role(args.role)
    with database_url(load_settings(args.data_dir)) as url:
        try:
            found = asyncio.run(set_role(url, handle, role))
        except OperationalError as exc:
            raise CommandError(f"cannot reach the database: {exc.orig}") from exc
    if found is None:
        raise CommandError(f"no account has the handle @{handle}")
    progress(f"@{found} is now {role}")


def migrate_command(args: argparse.Namespace) -> None:
    with database_url(load_settings(args.data_dir)) as url:
        apply_migrations(url)


def positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of 1 or more, not {value!r}")
    return int(value)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="keepsake", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    data_dir_help = (
        "folder for the embedded PostgreSQL and local files (default: $KEEPSAKE_DATA_DIR or ./var)"
    )

    serve_parser = commands.add_parser(
        "serve",
        help="serve the API (on an embedded PostgreSQL unless KEEPSAKE_DATABASE_URL is set)",
    )
    serve_parser.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    serve_parser.add_argument("--port", type=int, default=8000, help="default: %(default)s")
    serve_parser.add_argument("--data-dir", type=Path, help=data_dir_help)
    serve_parser.add_argument(
        "--no-worker",
        action="store_true",
        help="leave the jobs to `keepsake worker` (as KEEPSAKE_WORKER_IN_PROCESS=false does)",
    )
    serve_parser.set_defaults(handler=serve)

    worker_parser = commands.add_parser(
        "worker",
        help="process background jobs until SIGTERM (needs KEEPSAKE_DATABASE_URL)",
    )
    worker_parser.add_argument(
        "--concurrency",
        type=positive_int,
        help="jobs processed at once (default: $KEEPSAKE_WORKER_CONCURRENCY or 1)",
    )
    worker_parser.add_argument(
        "--data-dir", type=Path, help="folder for local files, shared with `keepsake serve`"
    )
    worker_parser.set_defaults(handler=worker_command)

    migrate_parser = commands.add_parser(
        "migrate",
        help="apply the database migrations (KEEPSAKE_DATABASE_URL, or the embedded database)",
    )
    migrate_parser.add_argument("--data-dir", type=Path, help=data_dir_help)
    migrate_parser.set_defaults(handler=migrate_command)

    admin_parser = commands.add_parser("admin", help="operator tasks on accounts")
    admin_commands = admin_parser.add_subparsers(
        dest="admin_command", required=True, metavar="TASK"
    )
    role_parser = admin_commands.add_parser(
        "set-role",
        help="give an account a role (KEEPSAKE_DATABASE_URL, or the embedded database)",
    )
    role_parser.add_argument("handle", help="the account's handle, with or without @")
    role_parser.add_argument("role", choices=[role.value for role in Role])
    role_parser.add_argument("--data-dir", type=Path, help=data_dir_help)
    role_parser.set_defaults(handler=set_role_command)
    # Imported here: admin_cli builds on this module's helpers.
    from keepsake.admin_cli import add_seed_parser

    add_seed_parser(admin_commands, data_dir_help)
    from keepsake.moderation.cli import add_moderation_parsers

    add_moderation_parsers(admin_commands, data_dir_help)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], None] = args.handler
    try:
        handler(args)
    except (CommandError, EmbeddedPostgresError) as exc:
        progress(str(exc))
        return 1
    except KeyboardInterrupt:
        progress("interrupted")
        return 130
    return 0
