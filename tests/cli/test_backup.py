"""`keepsake admin backup` and `restore`: a round trip puts back every row and every byte."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from keepsake.embedded_pg import EmbeddedPostgres
from tests.fixtures.keepsake_cli import Keepsake

# Process-level (`keepsake` commands on their own embedded PostgreSQL): `--quick` leaves these out.
pytestmark = pytest.mark.slow

Contents = tuple[dict[str, tuple[int, str]], dict[str, bytes]]


@pytest.fixture(autouse=True)
def _clean_database() -> None:
    """Each test has its own data folder: replaces conftest's cleanup of the shared one."""


def contents(keepsake: Keepsake) -> Contents:
    """Every public table's row count and a digest of its rows in a fixed order, and every
    media file's bytes."""
    tables: dict[str, tuple[int, str]] = {}
    with EmbeddedPostgres(keepsake.data_dir).running() as url, psycopg.connect(url) as conn:
        names = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
        for (name,) in names:
            query = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
                " FROM {} AS t"
            ).format(sql.Identifier(name))
            row = conn.execute(query).fetchone()
            assert row is not None
            tables[name] = (row[0], row[1])
    media = keepsake.data_dir / "media"
    files = {str(p.relative_to(media)): p.read_bytes() for p in media.rglob("*") if p.is_file()}
    return tables, files


def alter(keepsake: Keepsake) -> None:
    """What a bad day does: rows gone and changed, media gone, changed and added."""
    with EmbeddedPostgres(keepsake.data_dir).running() as url, psycopg.connect(url) as conn:
        conn.execute("DELETE FROM claps")
        conn.execute("UPDATE users SET note = 'changed after the backup'")
        conn.execute("DROP TABLE memory_hashtags")
    media = sorted(p for p in (keepsake.data_dir / "media").rglob("*") if p.is_file())
    media[0].unlink()
    media[1].write_bytes(b"not the clip any more")
    (media[2].parent / "stray.mp4").write_bytes(b"added after the backup")


def one_line_error(result: subprocess.CompletedProcess[str], contains: str) -> None:
    assert result.returncode == 1
    assert contains in result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr


def test_round_trip_puts_back_every_row_and_every_file(keepsake: Keepsake, tmp_path: Path) -> None:
    seeded = keepsake.run("admin", "seed", "--users", "6", "--memories", "12", "--claps", "20")
    assert seeded.returncode == 0, seeded.stderr
    before = contents(keepsake)
    tables, files = before
    assert tables["claps"][0] == 20
    assert tables["memories"][0] == 12
    assert any(name.endswith(".mp4") for name in files), "the seeder stores real clips"

    backup = tmp_path / "backup"
    made = keepsake.run("admin", "backup", str(backup))
    assert made.returncode == 0, made.stderr
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["format"] == 1
    assert manifest["revision"]
    assert manifest["database"]["rows"] == {name: count for name, (count, _) in tables.items()}
    assert {name: entry["size"] for name, entry in manifest["media"].items()} == {
        name: len(data) for name, data in files.items()
    }

    alter(keepsake)
    assert contents(keepsake) != before
    one_line_error(keepsake.run("admin", "restore", str(backup)), "--force")

    restored = keepsake.run("admin", "restore", str(backup), "--force")

    assert restored.returncode == 0, restored.stderr
    assert "all verified" in restored.stderr
    assert contents(keepsake) == before


def test_restore_into_a_fresh_data_folder_needs_no_force(
    keepsake: Keepsake, tmp_path: Path
) -> None:
    assert keepsake.run("admin", "seed", "--users", "3", "--memories", "4").returncode == 0
    before = contents(keepsake)
    backup = tmp_path / "backup"
    assert keepsake.run("admin", "backup", str(backup)).returncode == 0
    # Not under tmp_path, as in keepsake_runner: PostgreSQL's user must reach the folder.
    with tempfile.TemporaryDirectory(prefix="keepsake-cli-") as folder:
        fresh = Keepsake(Path(folder) / "var", keepsake.env)
        fresh.data_dir.mkdir()
        try:
            restored = fresh.run("admin", "restore", str(backup))
            assert restored.returncode == 0, restored.stderr
            assert contents(fresh) == before
        finally:
            fresh.close()


def test_a_missing_or_damaged_backup_is_refused_in_one_line(
    keepsake: Keepsake, tmp_path: Path
) -> None:
    one_line_error(keepsake.run("admin", "restore", str(tmp_path / "none")), "holds no backup")
    assert keepsake.run("admin", "seed", "--users", "2", "--memories", "2").returncode == 0
    backup = tmp_path / "backup"
    assert keepsake.run("admin", "backup", str(backup)).returncode == 0
    one_line_error(keepsake.run("admin", "backup", str(backup)), "not an empty folder")

    manifest = json.loads((backup / "manifest.json").read_text())
    (backup / "manifest.json").write_text(
        json.dumps({**manifest, "media": {"../outside": {"size": 0, "sha256": ""}}})
    )
    one_line_error(keepsake.run("admin", "restore", str(backup)), "outside the media folder")
    (backup / "manifest.json").write_text(json.dumps(manifest))
    clip = next(p for p in (backup / "media").rglob("*.mp4"))
    clip.write_bytes(clip.read_bytes()[:-1])
    one_line_error(keepsake.run("admin", "restore", str(backup)), "missing or damaged")
    (backup / "manifest.json").write_text("{not json")
    one_line_error(keepsake.run("admin", "restore", str(backup)), "unreadable")
