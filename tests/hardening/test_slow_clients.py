"""Slow and too many clients against a real `keepsake serve`, over real sockets: headers
and bodies that trickle are cut with 408 `request_timeout`, and connections over the cap
are answered 503 at once (the issue measured 200 header and 20 body tricklers all still
held after 60 s)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import httpx
import pytest

from tests.fixtures.keepsake_cli import Keepsake, Server
from tests.fixtures.polling import eventually

pytestmark = pytest.mark.slow

HEADER_TIMEOUT_S = 2
BODY_WINDOW_S = 1
BODY_MIN_RATE = 100
# The server's timer and the client's read, on two busy cores.
ALLOWANCE_S = 5
LOGIN = b'{"email": "ana@example.com", "password": "a quiet walk by the sea"}'


@pytest.fixture(autouse=True)
def _clean_database() -> None:
    """Overrides conftest's: the server here has its own embedded database."""


def serve(keepsake: Keepsake, **settings: str) -> Server:
    names = {f"KEEPSAKE_{name.upper()}": value for name, value in settings.items()}
    return keepsake.serve(env={**keepsake.env, **names})


@dataclass
class Outcome:
    status: int | None
    code: str | None
    seconds: float
    retry_after: str | None = None


def address(server: Server) -> tuple[str, int]:
    url = httpx.URL(server.base_url)
    assert url.host
    assert url.port
    return url.host, url.port


async def read_answer(reader: asyncio.StreamReader, started: float) -> Outcome:
    """Everything the server sends until it closes the connection."""
    answer = await reader.read()
    seconds = time.monotonic() - started
    if not answer:
        return Outcome(None, None, seconds)
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines)
    status = int(status_line.split(" ", 2)[1])
    return Outcome(status, json.loads(body).get("code"), seconds, headers.get("retry-after"))


async def trickle(
    server: Server, at_once: bytes, trickled: bytes, *, chunk: int, every: float
) -> Outcome:
    """Sends `at_once`, then `trickled` `chunk` bytes every `every` seconds, until the
    server answers or closes the connection (or everything was sent)."""
    reader, writer = await asyncio.open_connection(*address(server))
    started = time.monotonic()
    answer = asyncio.ensure_future(read_answer(reader, started))
    writer.write(at_once)
    for at in range(0, len(trickled), chunk):
        if answer.done():
            break
        try:
            writer.write(trickled[at : at + chunk])
            await writer.drain()
        except ConnectionError:
            break
        await asyncio.wait([answer], timeout=every)
    outcome = await asyncio.wait_for(answer, timeout=HEADER_TIMEOUT_S + ALLOWANCE_S)
    writer.close()
    return outcome


def login_head(length: int) -> bytes:
    return (
        b"POST /v1/auth/login HTTP/1.1\r\nHost: test\r\nconnection: close\r\n"
        b"content-type: application/json\r\n"
        b"content-length: " + str(length).encode() + b"\r\n\r\n"
    )


async def test_trickling_headers_and_bodies_are_cut_with_408(keepsake: Keepsake) -> None:
    server = serve(
        keepsake,
        header_timeout=f"PT{HEADER_TIMEOUT_S}S",
        body_timeout=f"PT{BODY_WINDOW_S}S",
        body_min_rate=str(BODY_MIN_RATE),
    )
    # One byte every 0.5 s would take over a minute to send these headers.
    headers = login_head(len(LOGIN)) + b"x-padding: " + b"a" * 60 + b"\r\n"
    header_tricklers = [trickle(server, b"", headers, chunk=1, every=0.5) for _ in range(200)]
    # 10 bytes a second, a tenth of the pace the server asks for.
    padded = LOGIN + b" " * 1000
    body_tricklers = [
        trickle(server, login_head(len(padded)), padded, chunk=10, every=1.0) for _ in range(20)
    ]
    # Meanwhile a client at four times the slowest pace allowed is served.
    steady = trickle(server, login_head(len(padded)), padded, chunk=BODY_MIN_RATE, every=0.25)
    *slow, served = await asyncio.gather(*header_tricklers, *body_tricklers, steady)

    assert served.status == 401, served
    for outcome in slow:
        assert (outcome.status, outcome.code) == (408, "request_timeout"), outcome
    longest = max(outcome.seconds for outcome in slow)
    assert longest < HEADER_TIMEOUT_S + ALLOWANCE_S, f"the slowest was cut after {longest:.1f}s"


async def test_a_client_still_sending_after_its_408_reads_it_whole(keepsake: Keepsake) -> None:
    """Bytes arriving as the server closes would make the kernel reset the connection,
    and a reset can wipe out the 408 before the client reads it; the server lingers."""
    server = serve(keepsake, header_timeout=f"PT{HEADER_TIMEOUT_S}S")
    endless = b"POST /v1/auth/login HTTP/1.1\r\nHost: test\r\nx-padding: " + b"a" * 1_000_000
    busy = [trickle(server, b"", endless, chunk=100, every=0.001) for _ in range(50)]
    outcomes = await asyncio.gather(*busy)

    for outcome in outcomes:
        assert (outcome.status, outcome.code) == (408, "request_timeout"), outcome


async def test_an_unused_connection_is_closed_silently(keepsake: Keepsake) -> None:
    server = serve(keepsake, header_timeout=f"PT{HEADER_TIMEOUT_S}S")
    reader, writer = await asyncio.open_connection(*address(server))
    outcome = await asyncio.wait_for(
        read_answer(reader, time.monotonic()), timeout=HEADER_TIMEOUT_S + ALLOWANCE_S
    )
    writer.close()
    assert outcome.status is None
    assert outcome.seconds >= HEADER_TIMEOUT_S - 0.5


async def test_connections_over_the_cap_are_answered_503(keepsake: Keepsake) -> None:
    cap = 4
    server = serve(keepsake, max_connections=str(cap), header_timeout="PT60S")
    held = [await asyncio.open_connection(*address(server)) for _ in range(cap)]

    reader, writer = await asyncio.open_connection(*address(server))
    refused = await asyncio.wait_for(read_answer(reader, time.monotonic()), timeout=ALLOWANCE_S)
    writer.close()
    assert (refused.status, refused.code) == (503, "unavailable")
    assert refused.retry_after == "5"

    for _, held_writer in held:
        held_writer.close()

    async def health() -> int | None:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=5) as http:
            response = await http.get("/healthz")
        return response.status_code if response.status_code == 200 else None

    assert await eventually(health, seconds=10, what="a free connection slot") == 200
