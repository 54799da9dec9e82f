"""`keepsake admin totp-enroll HANDLE`: give an operator the console's second factor."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

from keepsake.cli.common import CommandError, database_url, load_settings, progress
from keepsake.web.console import totp


def add_totp_parser(admin_commands: Any, data_dir_help: str) -> None:
    """`admin_commands` is the `admin` group's subparsers action (a private argparse type)."""
    parser: argparse.ArgumentParser = admin_commands.add_parser(
        "totp-enroll",
        help="make a new TOTP secret for an operator's console sign-in and print it "
        "(replaces any earlier one)",
    )
    parser.add_argument("handle")
    parser.add_argument("--data-dir", type=Path, help=data_dir_help)
    parser.set_defaults(handler=totp_enroll_command)


async def enroll(url: str, handle: str, secret: str) -> str | None:
    """The account's handle once its secret is stored; None when no account has `handle`."""
    from keepsake.accounts import repository
    from keepsake.db import create_engine, sessionmaker

    engine = create_engine(url, pool_size=1)
    try:
        async with sessionmaker(engine)() as db, db.begin():
            user = await repository.user_by_handle(db, handle)
            if user is None:
                return None
            user.totp_secret = secret
            return user.handle
    finally:
        await engine.dispose()


def totp_enroll_command(args: argparse.Namespace) -> None:
    handle: str = args.handle.removeprefix("@")
    secret = totp.new_secret()
    with database_url(load_settings(args.data_dir)) as url:
        try:
            found = asyncio.run(enroll(url, handle, secret))
        except OperationalError as exc:
            raise CommandError(f"cannot reach the database: {exc.orig}") from exc
    if found is None:
        raise CommandError(f"no account has the handle @{handle}")
    progress(f"@{found}'s console second factor: add it to an authenticator app")
    print(totp.provisioning_uri(secret, found))
