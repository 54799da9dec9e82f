"""The `keepsake` command, run as real processes on fresh data folders."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
import pytest

from keepsake.embedded_pg import EmbeddedPostgres
from tests.conftest import Member
from tests.fixtures.keepsake_cli import WORKER_URL, Keepsake, postgres_processes, wait_for

# Process-level (every test here starts `keepsake` processes): `--quick` leaves these out.
pytestmark = pytest.mark.slow


def no_postgres_left(data_dir: Path) -> bool:
    return not postgres_processes(data_dir)


def test_serve_is_ready_then_sigterm_stops_postgres(keepsake: Keepsake) -> None:
    server = keepsake.serve()

    assert httpx.get(f"{server.base_url}/docs", timeout=5).status_code == 200
    assert postgres_processes(keepsake.data_dir), "serve should run an embedded PostgreSQL"
    assert server.stop() == 0
    wait_for(lambda: no_postgres_left(keepsake.data_dir), timeout=10, what="PostgreSQL to exit")
    assert "stopping PostgreSQL" in server.output()


def test_second_keepsake_on_a_data_dir_is_refused_and_leaves_the_first_alone(
    keepsake: Keepsake,
) -> None:
    server = keepsake.serve()

    refused = keepsake.migrate()

    assert refused.returncode == 1
    assert "another Keepsake process" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert server.ready(), "the refused command must not stop the first one's PostgreSQL"
    assert server.stop() == 0


def test_serve_after_kill_9_reuses_the_orphaned_postgres(keepsake: Keepsake) -> None:
    first = keepsake.serve()
    first.stop(signal.SIGKILL)
    assert postgres_processes(keepsake.data_dir), "PostgreSQL outlives a kill -9 of keepsake"

    second = keepsake.serve()

    assert "reusing it" in second.output()
    assert second.stop() == 0
    wait_for(lambda: no_postgres_left(keepsake.data_dir), timeout=10, what="PostgreSQL to exit")


def test_serve_after_kill_9_of_keepsake_and_postgres_ignores_the_stale_pid_file(
    keepsake: Keepsake,
) -> None:
    first = keepsake.serve()
    first.stop(signal.SIGKILL)
    for process in postgres_processes(keepsake.data_dir):
        # A backend may already have exited on seeing its postmaster die.
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    wait_for(lambda: no_postgres_left(keepsake.data_dir), timeout=10, what="PostgreSQL to die")
    assert (keepsake.data_dir / "postgres" / "postmaster.pid").exists()

    second = keepsake.serve()

    assert "starting PostgreSQL" in second.output()
    assert second.stop() == 0
    wait_for(lambda: no_postgres_left(keepsake.data_dir), timeout=10, what="PostgreSQL to exit")


def test_migrate_creates_the_schema_of_a_fresh_data_dir(keepsake: Keepsake) -> None:
    first = keepsake.migrate()
    again = keepsake.migrate()

    assert first.returncode == 0, first.stderr
    assert "database schema is up to date" in first.stderr
    assert again.returncode == 0, again.stderr
    assert no_postgres_left(keepsake.data_dir)
    with (
        EmbeddedPostgres(keepsake.data_dir).running() as url,
        psycopg.connect(url) as connection,
    ):
        version = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version is not None


def test_migrate_uses_keepsake_database_url(keepsake: Keepsake, database_url: str) -> None:
    result = keepsake.migrate(env={**keepsake.env, "KEEPSAKE_DATABASE_URL": database_url})

    assert result.returncode == 0, result.stderr
    assert "database schema is up to date" in result.stderr
    assert not keepsake.data_dir.exists(), "no embedded PostgreSQL with a database URL set"


def test_worker_needs_a_database_url(keepsake: Keepsake) -> None:
    result = keepsake.run("worker")

    assert result.returncode == 1
    assert "keepsake worker needs KEEPSAKE_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
    assert not keepsake.data_dir.exists(), "the worker never starts an embedded PostgreSQL"


def test_worker_refuses_an_unreachable_database(keepsake: Keepsake) -> None:
    # Port 1 on this machine: nothing listens there, so the connection is refused at once.
    unreachable = {**keepsake.env, "KEEPSAKE_DATABASE_URL": "postgresql://keepsake@127.0.0.1:1/x"}

    result = keepsake.run("worker", env=unreachable)

    assert result.returncode == 1
    assert "cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_without_worker_names_the_url_a_worker_can_use(keepsake: Keepsake) -> None:
    server = keepsake.serve("--no-worker")
    match = WORKER_URL.search(server.output())
    assert match, server.output()

    worker = keepsake.worker(env={**keepsake.env, "KEEPSAKE_DATABASE_URL": match.group(1)})

    assert worker.stop(signal.SIGINT) == 0
    assert "worker stopped" in worker.output()
    assert server.stop() == 0


async def test_admin_set_role_gives_an_account_its_role(
    keepsake: Keepsake,
    database_url: str,
    client: httpx.AsyncClient,
    sign_up: Callable[..., Any],
) -> None:
    mina: Member = await sign_up("Mina")
    env = {**keepsake.env, "KEEPSAKE_DATABASE_URL": database_url}

    result = await asyncio.to_thread(keepsake.run, "admin", "set-role", "@mina", "admin", env=env)

    assert result.returncode == 0, result.stderr
    assert "@Mina is now admin" in result.stderr
    me = await client.get("/v1/me", headers=mina.headers)
    assert me.json()["role"] == "admin"


def test_admin_set_role_of_an_unknown_handle_fails_clearly(
    keepsake: Keepsake, database_url: str
) -> None:
    env = {**keepsake.env, "KEEPSAKE_DATABASE_URL": database_url}

    result = keepsake.run("admin", "set-role", "nobody", "moderator", env=env)

    assert result.returncode == 1
    assert result.stderr.strip() == "keepsake: no account has the handle @nobody"
