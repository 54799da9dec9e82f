"""`keepsake admin totp-enroll HANDLE`: give an operator the console's second factor."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from keepsake.accounts.models import User
from keepsake.cli.common import account_command, change_account, progress
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

    def store_secret(user: User) -> None:
        user.totp_secret = secret

    return await change_account(url, handle, store_secret)


def totp_enroll_command(args: argparse.Namespace) -> None:
    handle: str = args.handle.removeprefix("@")
    secret = totp.new_secret()
    found = account_command(args.data_dir, handle, lambda url: enroll(url, handle, secret))
    progress(f"@{found}'s console second factor: add it to an authenticator app")
    print(totp.provisioning_uri(secret, found))
