"""`keepsake admin reports | suspend | unsuspend | hide-memory`: the moderation queue and
actions from a terminal, through the same service functions as the API, recorded in the
audit log with the operator (`--as HANDLE`, a moderator or admin) as the actor."""

from __future__ import annotations

import argparse
import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.cli.common import CommandError, database_url, load_settings, progress

Step = Callable[[AsyncSession, Any], Awaitable[str]]


def _when(value: str) -> datetime:
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"an ISO 8601 time with its offset, not {value!r}"
        ) from None
    if found.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give the offset too, e.g. {value}+00:00")
    return found


def add_moderation_parsers(admin_commands: Any, data_dir_help: str) -> None:
    """`admin_commands` is the `admin` group's subparsers action (a private argparse type)."""

    def command(name: str, help_text: str, step: Step) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = admin_commands.add_parser(name, help=help_text)
        parser.add_argument("--as", dest="actor", required=True, help="your moderator handle")
        parser.add_argument("--data-dir", type=Path, help=data_dir_help)
        parser.set_defaults(handler=lambda args: _run(args, step))
        return parser

    command("reports", "print the open report queue, most urgent first", _reports)
    suspend = command("suspend", "suspend an account; its sessions end at once", _suspend)
    suspend.add_argument("handle")
    suspend.add_argument("--reason", required=True)
    suspend.add_argument("--until", type=_when, help="when it lifts itself (ISO 8601)")
    unsuspend = command("unsuspend", "lift an account's suspension", _unsuspend)
    unsuspend.add_argument("handle")
    unsuspend.add_argument("--reason", required=True)
    hide = command("hide-memory", "hide a memory from everyone but its author", _hide)
    hide.add_argument("memory_id", type=uuid.UUID)
    hide.add_argument("--reason", required=True)


async def _reports(db: AsyncSession, args: Any) -> str:
    from keepsake.moderation import views
    from keepsake.moderation.models import ReportStatus

    page = await views.queue(db, status=ReportStatus.open, limit=100, cursor=None)
    lines = [
        f"{'!' if item.urgent else ' '} {item.target.kind.value:6} {item.target.id} "
        f"{item.reports_count:3} report(s) {','.join(item.reasons)} "
        f"oldest {item.oldest_age_s // 3600}h  report {item.id}"
        for item in page.items
    ]
    return "\n".join(lines) if lines else "the queue is empty"


async def _suspend(db: AsyncSession, args: Any) -> str:
    from keepsake.moderation import service

    await service.suspend(
        db, actor=args.actor_user, handle=args.handle, reason=args.reason, until=args.until
    )
    return f"@{args.handle.removeprefix('@')} is suspended"


async def _unsuspend(db: AsyncSession, args: Any) -> str:
    from keepsake.moderation import service

    await service.unsuspend(db, actor=args.actor_user, handle=args.handle, reason=args.reason)
    return f"@{args.handle.removeprefix('@')} is no longer suspended"


async def _hide(db: AsyncSession, args: Any) -> str:
    from keepsake.moderation import service

    await service.hide(db, actor=args.actor_user, memory_id=args.memory_id, reason=args.reason)
    return f"memory {args.memory_id} is hidden"


async def _in_transaction(url: str, args: Any, step: Step) -> str:
    from keepsake.accounts.models import Role
    from keepsake.db import create_engine, sessionmaker
    from keepsake.errors import AppError
    from keepsake.moderation import repository

    engine = create_engine(url, pool_size=1)
    try:
        async with sessionmaker(engine)() as db, db.begin():
            actor = await repository.user_by_handle(db, args.actor.removeprefix("@"))
            if actor is None or actor.role not in (Role.moderator, Role.admin):
                raise CommandError(f"@{args.actor.removeprefix('@')} is not a moderator or admin")
            args.actor_user = actor
            try:
                return await step(db, args)
            except AppError as exc:
                raise CommandError(exc.detail) from None
    finally:
        await engine.dispose()


def _run(args: argparse.Namespace, step: Step) -> None:
    with database_url(load_settings(args.data_dir)) as url:
        try:
            message = asyncio.run(_in_transaction(url, args, step))
        except OperationalError as exc:
            raise CommandError(f"cannot reach the database: {exc.orig}") from exc
    print(message)
    progress("done")
