"""What every `keepsake` command shares: settings, the database, one-line errors."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake import migrate
from keepsake.config import Settings
from keepsake.embedded_pg import EmbeddedPostgres

if TYPE_CHECKING:
    from keepsake.accounts.models import User


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


async def change_account(url: str, handle: str, change: Callable[[User], None]) -> str | None:
    """The account's handle once `change` is made to it in one transaction; None when no
    account has `handle`."""
    from keepsake.accounts import repository
    from keepsake.db import create_engine, sessionmaker

    engine = create_engine(url, pool_size=1)
    try:
        async with sessionmaker(engine)() as db, db.begin():
            user = await repository.user_by_handle(db, handle)
            if user is None:
                return None
            change(user)
            return user.handle
    finally:
        await engine.dispose()


def account_command(
    data_dir: Path | None,
    handle: str,
    run: Callable[[str], Coroutine[Any, Any, str | None]],
) -> str:
    """`run` (given the database URL) against the configured database; the account's
    handle, or a one-line error when the database is out of reach or no account has it."""
    with database_url(load_settings(data_dir)) as url:
        try:
            found = asyncio.run(run(url))
        except OperationalError as exc:
            raise CommandError(f"cannot reach the database: {exc.orig}") from exc
    if found is None:
        raise CommandError(f"no account has the handle @{handle}")
    return found
