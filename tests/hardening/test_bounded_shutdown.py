"""SIGTERM ends `keepsake serve` within KEEPSAKE_SHUTDOWN_TIMEOUT even when its database
does not answer at all (every PostgreSQL process stopped with SIGSTOP)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Iterator

import httpx
import psutil
import pytest

from tests.fixtures.keepsake_cli import Keepsake, postgres_processes
from tests.fixtures.polling import eventually

pytestmark = pytest.mark.slow

SHUTDOWN_TIMEOUT_S = 5
# Python's exit and the kernel's reaping, on two busy cores.
EXIT_ALLOWANCE_S = 5


@pytest.fixture(autouse=True)
def _clean_database() -> None:
    """Overrides conftest's: the server here has its own embedded database."""


@contextlib.contextmanager
def frozen(processes: list[psutil.Process]) -> Iterator[None]:
    for process in processes:
        process.suspend()
    try:
        yield
    finally:
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.resume()


def open_connections(pid: int) -> int:
    connections = psutil.Process(pid).net_connections(kind="tcp")
    return sum(1 for c in connections if c.status == psutil.CONN_ESTABLISHED)


async def test_sigterm_ends_serve_in_time_while_postgres_hangs(keepsake: Keepsake) -> None:
    env = {**keepsake.env, "KEEPSAKE_SHUTDOWN_TIMEOUT": f"PT{SHUTDOWN_TIMEOUT_S}S"}
    server = keepsake.serve(env=env)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        body = {"email": "ana@example.com", "password": "a quiet walk by the sea"}
        with frozen(postgres_processes(keepsake.data_dir)):
            # Requests that wait on the database, as a phone's would during the outage.
            hanging = [
                asyncio.create_task(http.post("/v1/auth/login", json=body)) for _ in range(4)
            ]
            await eventually(lambda: open_connections(server.process.pid) >= len(hanging))
            server.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            code = await asyncio.to_thread(
                server.process.wait, SHUTDOWN_TIMEOUT_S + EXIT_ALLOWANCE_S
            )
            took = time.monotonic() - signalled
        await asyncio.gather(*hanging, return_exceptions=True)

    assert code == 1, server.output()
    assert took <= SHUTDOWN_TIMEOUT_S + EXIT_ALLOWANCE_S
    assert f"shutdown did not finish within {SHUTDOWN_TIMEOUT_S}s" in server.output()
