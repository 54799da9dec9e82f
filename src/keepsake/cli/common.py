"""What every `keepsake` command shares: settings, the database, one-line errors."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake import migrate
from keepsake.config import Settings
from keepsake.embedded_pg import EmbeddedPostgres


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
def database_url(settings: Settings, *, supervise: bool = False) -> Iterator[str]:
    """The configured database, or an embedded one that is stopped on the way out (and,
    with `supervise`, started again meanwhile if it stops by itself)."""
    if settings.database_url is not None:
        yield settings.database_url.get_secret_value()
        return
    postgres = EmbeddedPostgres(settings.data_dir, progress=progress)
    # start() stays outside the `try`: when it fails on the data folder's lock, the
    # server belongs to another Keepsake process, and stop() must not touch it.
    url = postgres.start()
    try:
        with postgres.supervised() if supervise else nullcontext():
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


async def check_database(engine: AsyncEngine) -> None:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise CommandError(f"cannot reach the database: {exc.orig}") from exc


def positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of 1 or more, not {value!r}")
    return int(value)
