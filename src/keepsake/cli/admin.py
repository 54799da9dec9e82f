"""`keepsake admin set-role` and `keepsake admin seed` (the seeding is `keepsake.seed`)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import OperationalError

from keepsake.accounts.models import Role, User
from keepsake.cli.common import (
    CommandError,
    account_command,
    apply_migrations,
    change_account,
    database_url,
    load_settings,
    positive_int,
    progress,
)
from keepsake.config import Settings

if TYPE_CHECKING:
    from keepsake.seed import SeedPlan, SeedResult


async def set_role(url: str, handle: str, role: Role) -> str | None:
    """The account's handle once its role is set; None when no account has `handle`."""

    def give_role(user: User) -> None:
        user.role = role

    return await change_account(url, handle, give_role)


def set_role_command(args: argparse.Namespace) -> None:
    handle: str = args.handle.removeprefix("@")
    role = Role(args.role)
    found = account_command(args.data_dir, handle, lambda url: set_role(url, handle, role))
    progress(f"@{found} is now {role}")


def _count(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"a whole number of 0 or more, not {value!r}")
    return int(value)


def add_seed_parser(admin_commands: Any, data_dir_help: str) -> None:
    """`admin_commands` is the `admin` group's subparsers action (a private argparse type)."""
    seed_parser: argparse.ArgumentParser = admin_commands.add_parser(
        "seed",
        help="fill the database with seeded accounts, follows, memories and claps for load "
        "tests; re-running with the same numbers adds nothing",
    )
    seed_parser.add_argument("--users", type=positive_int, required=True)
    seed_parser.add_argument("--memories", type=positive_int, required=True)
    seed_parser.add_argument(
        "--follows-per-user", type=positive_int, default=20, help="on average; default: %(default)s"
    )
    seed_parser.add_argument(
        "--max-follows",
        type=positive_int,
        help="the most anyone follows; seed_user_00000 follows that many "
        "(default: 20 × --follows-per-user, reached by nobody in particular)",
    )
    seed_parser.add_argument(
        "--claps", type=_count, help="clap rows in all (default: 3 per memory; 0 for none)"
    )
    seed_parser.add_argument("--data-dir", type=Path, help=data_dir_help)
    seed_parser.set_defaults(handler=seed_command)


async def _seed(url: str, settings: Settings, plan: SeedPlan) -> SeedResult:
    from keepsake.db import create_engine
    from keepsake.seed import seed
    from keepsake.storage import build_storage

    engine = create_engine(url, pool_size=1)
    try:
        return await seed(engine, build_storage(settings), plan, progress)
    finally:
        await engine.dispose()


def seed_command(args: argparse.Namespace) -> None:
    # Imported here, not at the top, so that other commands do not load PyAV.
    from keepsake.seed import EMAIL_DOMAIN, SEED_PASSWORD, SeedPlan, handle
    from keepsake.seed_sql import SeedError

    plan = SeedPlan(
        users=args.users,
        memories=args.memories,
        follows_per_user=args.follows_per_user,
        max_follows=args.max_follows,
        claps=args.claps,
    )
    settings = load_settings(args.data_dir)
    with database_url(settings) as url:
        # A fresh data folder has no schema yet; on a current one this is a no-op.
        apply_migrations(url)
        try:
            result = asyncio.run(_seed(url, settings, plan))
        except OperationalError as exc:
            raise CommandError(f"cannot reach the database: {exc.orig}") from exc
        except SeedError as exc:
            raise CommandError(str(exc)) from exc
    added = ", ".join(f"{rows} {table}" for table, rows in result.inserted.items())
    progress(f"seeded in {result.seconds:.1f} s; added {added}")
    progress(
        f"accounts {handle(0)}…{handle(plan.users - 1)} sign in as <handle>@{EMAIL_DOMAIN} "
        f"with the password {SEED_PASSWORD!r}"
    )
