"""SIGTERM to a serving `keepsake serve`: requests in flight finish, new ones are refused.

The slow requests are uploads to the local storage route whose client sends the body
over a few seconds, as a phone on a poor network does; nothing in the API is added for
the test.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.fixtures.keepsake_cli import Keepsake
from tests.fixtures.memory_helpers import local_path

# Process-level (a real `keepsake serve`, stopped with SIGTERM): `--quick` leaves these out.
pytestmark = pytest.mark.slow

UPLOADS = 4
CHUNK = 16 * 1024
CHUNKS = 16
CHUNK_PAUSE = 0.25  # so each body takes CHUNKS × CHUNK_PAUSE = 4 s to send
SIGTERM_AFTER = 1.0


async def _slowly() -> AsyncIterator[bytes]:
    for index in range(CHUNKS):
        await asyncio.sleep(CHUNK_PAUSE)
        yield bytes([index]) * CHUNK


def _refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


async def _signed_upload_targets(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    body = {"email": "mina@example.com", "password": PASSWORD, "handle": "mina"}
    signed_up = await http.post("/v1/auth/signup", json={**body, "display_name": "Mina"})
    assert signed_up.status_code == 201, signed_up.text
    headers = {"Authorization": f"Bearer {signed_up.json()['tokens']['access_token']}"}
    targets = []
    for _ in range(UPLOADS):
        size = {"purpose": "clip", "content_type": "video/mp4", "size_bytes": CHUNK * CHUNKS}
        created = await http.post("/v1/uploads", json=size, headers=headers)
        assert created.status_code == 201, created.text
        targets.append(created.json())
    return targets


async def test_sigterm_finishes_requests_in_flight_and_refuses_new_ones(
    keepsake: Keepsake, database_url: str
) -> None:
    server = keepsake.serve(env={**keepsake.env, "KEEPSAKE_DATABASE_URL": database_url})
    port = urlsplit(server.base_url).port
    assert port is not None
    finished_at: list[float] = []

    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        targets = await _signed_upload_targets(http)

        async def upload(target: dict[str, Any]) -> httpx.Response:
            response = await http.put(
                local_path(target["upload_url"]),
                content=_slowly(),
                headers={**target["headers"], "Content-Length": str(CHUNK * CHUNKS)},
            )
            finished_at.append(time.monotonic())
            return response

        in_flight = [asyncio.create_task(upload(target)) for target in targets]
        await asyncio.sleep(SIGTERM_AFTER)
        server.process.send_signal(signal.SIGTERM)
        signalled_at = time.monotonic()
        deadline = signalled_at + 2.0
        while not await asyncio.to_thread(_refuses_connections, port):
            assert time.monotonic() < deadline, "the listening socket should close on SIGTERM"
            await asyncio.sleep(0.05)
        assert not finished_at, "the uploads should still be in flight when new ones are refused"
        responses = await asyncio.gather(*in_flight)

    assert [r.status_code for r in responses] == [204] * UPLOADS, [r.text for r in responses]
    assert min(finished_at) > signalled_at
    assert await asyncio.to_thread(server.process.wait, 60) == 0, server.output()
