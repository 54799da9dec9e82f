"""The `keepsake` command: `serve` and `migrate`."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import uvicorn
from pydantic import SecretStr, ValidationError
from sqlalchemy.exc import OperationalError

from keepsake import migrate
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


def serve(args: argparse.Namespace) -> None:
    # Imported here so that `keepsake migrate` does not load the whole API.
    from keepsake.main import create_app

    # Until uvicorn runs, SIGTERM unwinds like Ctrl-C, through the `finally` that stops
    # PostgreSQL.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    settings = load_settings(args.data_dir)
    with database_url(settings) as url:
        apply_migrations(url)
        app = create_app(settings.model_copy(update={"database_url": SecretStr(url)}))
        config = uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            log_level=settings.log_level.lower(),
            # Which client address to trust is the app's decision (trust_forwarded_for).
            proxy_headers=False,
        )
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, ignore_signal)
        Server(config).run()


def migrate_command(args: argparse.Namespace) -> None:
    with database_url(load_settings(args.data_dir)) as url:
        apply_migrations(url)


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
    serve_parser.set_defaults(handler=serve)

    migrate_parser = commands.add_parser(
        "migrate",
        help="apply the database migrations (KEEPSAKE_DATABASE_URL, or the embedded database)",
    )
    migrate_parser.add_argument("--data-dir", type=Path, help=data_dir_help)
    migrate_parser.set_defaults(handler=migrate_command)
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
