"""`keepsake migrate`."""

from __future__ import annotations

import argparse

from keepsake.cli.common import apply_migrations, database_url, load_settings


def migrate_command(args: argparse.Namespace) -> None:
    with database_url(load_settings(args.data_dir)) as url:
        apply_migrations(url)
