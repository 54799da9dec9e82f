"""Serving what a benchmark loads: Keepsake or the bare ASGI ceiling, on the server's core
(`loadgen.SERVER_CPU`), until the `with` block ends."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loadgen import SERVER_CPU, postgres_pids

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KEEPSAKE = [str(BIN / "keepsake"), "serve"]
# The ceiling: `bench/bare_app.py` under uvicorn, logging as little as Keepsake does.
BARE = [str(BIN / "uvicorn"), "--app-dir", str(ROOT / "bench"), "bare_app:app"]
BARE += ["--log-level", "warning", "--no-access-log"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def served(argv: list[str], env: dict[str, str], ready_path: str) -> Iterator[tuple[str, int]]:
    """`argv` listening on a free port once `ready_path` answers: its base URL and pid."""
    port = free_port()
    command = ["taskset", "-c", str(SERVER_CPU), *argv, "--port", str(port)]
    # taskset execs the server, so this pid is the server's own.
    process = subprocess.Popen(command, env=env, cwd=ROOT)  # noqa: S603 - fixed programs
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + ready_path, timeout=1).close()  # noqa: S310 - a loopback http URL built here
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{argv[0]} did not become ready") from None
                time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def server_env(url: str, folder: Path, **settings: str) -> dict[str, str]:
    """The environment of a Keepsake on `url`'s database and `folder`, logging warnings
    only; `settings` are more of its settings (`rate_limit_enabled="false"`)."""
    return {
        **os.environ,
        "KEEPSAKE_DATABASE_URL": url,
        "KEEPSAKE_DATA_DIR": str(folder),
        "KEEPSAKE_LOG_LEVEL": "WARNING",
        **{f"KEEPSAKE_{name.upper()}": value for name, value in settings.items()},
    }


def pin_postgres(folder: Path) -> None:
    """PostgreSQL on the server's core too, so the load generator has the other to itself;
    backends forked later inherit the postmaster's affinity."""
    for pid in postgres_pids(folder):
        # An autovacuum worker may have ended since it was listed.
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(pid, {SERVER_CPU})


@contextmanager
def served_keepsake(url: str, folder: Path) -> Iterator[tuple[str, int]]:
    """`keepsake serve --no-worker` on `url`'s database, PostgreSQL pinned beside it, rate
    limits off (a few seeded viewers sign in once; nothing here should be throttled)."""
    pin_postgres(folder)
    env = server_env(url, folder, rate_limit_enabled="false")
    with served([*KEEPSAKE, "--no-worker"], env, "/readyz") as api:
        yield api


@contextmanager
def served_bare() -> Iterator[tuple[str, int]]:
    with served(BARE, dict(os.environ), "/") as ceiling:
        yield ceiling
