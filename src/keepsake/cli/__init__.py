"""The `keepsake` command: `serve`, `worker`, `migrate` and the `admin` tasks (roles, seeding,
moderation, TOTP, backup and restore)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from keepsake.accounts.models import Role
from keepsake.cli.admin import add_seed_parser, set_role_command
from keepsake.cli.backup import add_backup_parsers
from keepsake.cli.common import CommandError, positive_int, progress
from keepsake.cli.migrate import migrate_command
from keepsake.cli.moderation import add_moderation_parsers
from keepsake.cli.serve import serve
from keepsake.cli.totp import add_totp_parser
from keepsake.cli.worker import worker_command
from keepsake.embedded_pg import EmbeddedPostgresError


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

    admin_parser = commands.add_parser("admin", help="operator tasks: accounts, seeding, backups")
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
    add_seed_parser(admin_commands, data_dir_help)
    add_moderation_parsers(admin_commands, data_dir_help)
    add_totp_parser(admin_commands, data_dir_help)
    add_backup_parsers(admin_commands, data_dir_help)
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
