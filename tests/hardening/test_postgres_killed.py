"""The embedded PostgreSQL killed (-9) under a `keepsake serve` taking writes: clean 503s
meanwhile, PostgreSQL back by itself, and every acknowledged write in the database."""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass, field

import httpx
import psycopg
import pytest

from tests.conftest import PASSWORD
from tests.fixtures.keepsake_cli import WORKER_URL, Keepsake
from tests.fixtures.polling import eventually

pytestmark = pytest.mark.slow

ACCOUNTS = 4
WRITERS = 8


@pytest.fixture(autouse=True)
def _clean_database() -> None:
    """Overrides conftest's: the server here has its own embedded database."""


@dataclass
class Log:
    """The client's log: each acknowledged write, and every other answer."""

    acknowledged: list[tuple[str, str]] = field(default_factory=list)
    refused: list[httpx.Response] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def acknowledged_since(self, mark: int) -> int:
        return len(self.acknowledged) - mark


async def writer(http: httpx.AsyncClient, handle: str, token: str, number: int, log: Log) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    sequence = 0
    while not log.stop.is_set():
        sequence += 1
        note = f"w{number}-{sequence}"
        answer = await http.patch("/v1/me", json={"note": note}, headers=headers)
        if answer.is_success:
            log.acknowledged.append((handle, note))
        else:
            log.refused.append(answer)
            await asyncio.sleep(0.05)


def kill_postmaster(keepsake: Keepsake) -> int:
    pid_file = keepsake.data_dir / "postgres" / "postmaster.pid"
    pid = int(pid_file.read_text().splitlines()[0])
    os.kill(pid, signal.SIGKILL)
    return pid


async def test_a_killed_postgres_comes_back_and_no_acknowledged_write_is_lost(
    keepsake: Keepsake,
) -> None:
    server = keepsake.serve(env={**keepsake.env, "KEEPSAKE_RATE_LIMIT_ENABLED": "false"})
    log = Log()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        tokens = {}
        for index in range(ACCOUNTS):
            handle = f"writer{index}"
            body = {"email": f"{handle}@example.com", "password": PASSWORD, "handle": handle}
            answer = await http.post("/v1/auth/signup", json={**body, "display_name": handle})
            assert answer.status_code == 201, answer.text
            tokens[handle] = answer.json()["tokens"]["access_token"]
        handles = list(tokens)
        writers = [
            asyncio.create_task(
                writer(http, handles[n % ACCOUNTS], tokens[handles[n % ACCOUNTS]], n, log)
            )
            for n in range(WRITERS)
        ]
        await eventually(lambda: len(log.acknowledged) >= 50, seconds=60, what="writes")

        kill_postmaster(keepsake)
        await eventually(lambda: log.refused, seconds=30, what="a refused write")
        await eventually(
            lambda: "PostgreSQL is back" in server.output(), seconds=60, what="PostgreSQL back"
        )
        mark = len(log.acknowledged)
        await eventually(
            lambda: log.acknowledged_since(mark) >= 50, seconds=60, what="writes after recovery"
        )
        log.stop.set()
        await asyncio.gather(*writers)

    for refused in log.refused:
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "unavailable"
        assert int(refused.headers["retry-after"]) > 0
    match = WORKER_URL.search(server.output())
    assert match, server.output()
    with psycopg.connect(match.group(1)) as db:
        stored = set(
            db.execute(
                "SELECT u.handle, n.note FROM note_history n JOIN users u ON u.id = n.user_id"
            ).fetchall()
        )
    lost = [write for write in log.acknowledged if write not in stored]
    assert not lost, f"{len(lost)} of {len(log.acknowledged)} acknowledged writes lost: {lost[:5]}"
    # One line per 10 s with a count, not one per refused request.
    lines = server.output().count('"database.unavailable"')
    assert 1 <= lines <= 3, lines
    assert len(log.refused) > lines
