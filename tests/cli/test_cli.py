"""The `keepsake` command, run as real processes on fresh data folders."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
import psycopg
import pytest

from keepsake.embedded_pg import EmbeddedPostgres
from tests.conftest import Member

# Process-level (every test here starts `keepsake` processes): `--quick` leaves these out.
pytestmark = pytest.mark.slow

KEEPSAKE = Path(sys.executable).with_name("keepsake")
# Generous: a first start runs initdb, and CI may run two test workers on two cores.
READY_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0
DOCS_URL = re.compile(r"API docs at (http://\S+)/docs")
WORKER_URL = re.compile(r"KEEPSAKE_DATABASE_URL=(\S+)")

T = TypeVar("T")


def wait_for(condition: Callable[[], T | None], *, timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"gave up after {timeout:.0f}s waiting for {what}")


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    """The postmaster serving this data folder (its command line names it) and its children."""
    pgdata = str(data_dir.resolve() / "postgres")
    found: list[psutil.Process] = []
    for process in psutil.process_iter(["cmdline"]):
        if any(pgdata in part for part in process.info["cmdline"] or ()):
            try:
                found += [process, *process.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
    return found


@dataclass
class Process:
    """A running `keepsake` command and the file its output goes to."""

    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"keepsake {self.log.stem} exited early:\n{self.output()}")
        return True

    def stop(self, signum: signal.Signals = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=STOP_TIMEOUT)


@dataclass
class Server(Process):
    base_url: str = ""

    def docs_url(self) -> str | None:
        self.alive()
        match = DOCS_URL.search(self.output())
        return match.group(1) if match else None

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/readyz", timeout=5).status_code == 200
        except httpx.TransportError:
            return False


@dataclass
class Keepsake:
    """Runs the `keepsake` command on one data folder and cleans up after the test."""

    data_dir: Path
    env: dict[str, str]
    processes: list[Process] = field(default_factory=list)

    def _start(
        self, command: str, *args: str, env: dict[str, str] | None
    ) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.data_dir.parent / f"{command}-{len(self.processes)}.log"
        argv: list[str | Path] = [KEEPSAKE, command, "--data-dir", self.data_dir, *args]
        with log.open("wb") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=out, env=env or self.env)
        return process, log

    def serve(self, *args: str, env: dict[str, str] | None = None) -> Server:
        server = Server(*self._start("serve", "--port", "0", *args, env=env))
        self.processes.append(server)
        server.base_url = wait_for(server.docs_url, timeout=READY_TIMEOUT, what="the docs URL")
        wait_for(server.ready, timeout=READY_TIMEOUT, what="/readyz")
        return server

    def worker(self, *args: str, env: dict[str, str] | None = None) -> Process:
        worker = Process(*self._start("worker", *args, env=env))
        self.processes.append(worker)
        wait_for(
            lambda: worker.alive() and "worker started" in worker.output(),
            timeout=READY_TIMEOUT,
            what="the worker to start",
        )
        return worker

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """A command that ends by itself, such as `migrate`."""
        return subprocess.run(
            [KEEPSAKE, *args, "--data-dir", self.data_dir],
            env=env or self.env,
            cwd=self.data_dir.parent,
            capture_output=True,
            text=True,
            timeout=READY_TIMEOUT,
            check=False,
        )

    def migrate(self, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return self.run("migrate", env=env)

    def close(self) -> None:
        for running in self.processes:
            if running.process.poll() is None:
                running.process.kill()
                running.process.wait(timeout=STOP_TIMEOUT)
        # A test that failed half-way may have left the embedded server running.
        EmbeddedPostgres(self.data_dir).stop()


@contextlib.contextmanager
def keepsake_runner() -> Iterator[Keepsake]:
    # The tests choose the database themselves, whatever this shell has configured.
    env = {name: value for name, value in os.environ.items() if not name.startswith("KEEPSAKE_")}
    # Not under tmp_path: under root, PostgreSQL runs as another user who must be able to
    # reach its folder, and every pytest start resets /tmp/pytest-of-<user> to mode 0700.
    with tempfile.TemporaryDirectory(prefix="keepsake-cli-") as folder:
        runner = Keepsake(Path(folder) / "var", env)
        try:
            yield runner
        finally:
            runner.close()


@pytest.fixture
def keepsake() -> Iterator[Keepsake]:
    with keepsake_runner() as runner:
        yield runner


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
