"""Request bodies over the limit answer 413 while they are read, before parsing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from keepsake.config import Settings
from tests.accounts.test_signup_login import assert_problem
from tests.conftest import PASSWORD

SignUp = Callable[..., Any]
CHUNK = 64 * 1024


async def test_a_streamed_oversized_body_is_refused_while_read(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    sent = 0

    async def hundred_megabytes() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"email": "mina@example.com", "password": "'
        for _ in range(100 * 1024 * 1024 // CHUNK):
            sent += CHUNK
            yield b"x" * CHUNK

    # No Content-Length: the body comes chunked and can only be counted as it streams.
    response = await client.post(
        "/v1/auth/login", content=hundred_megabytes(), headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413, "payload_too_large")
    assert sent <= settings.max_json_body_bytes + CHUNK


async def test_a_declared_oversized_body_is_refused_before_reading(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    body = b'{"bio": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = await client.patch(
        "/v1/me", content=body, headers={**mina.headers, "Content-Type": "application/json"}
    )
    assert_problem(response, 413, "payload_too_large")
    small = await client.post("/v1/auth/login", json={"email": mina.email, "password": PASSWORD})
    assert small.status_code == 200


async def test_the_console_music_form_has_its_own_wider_ceiling(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    # Over the JSON limit yet under the music one: read through to the route, which
    # sends a signed-out browser to the sign-in page.
    big = b"x" * (settings.max_json_body_bytes * 2)
    files = {"audio": ("track.mp3", big, "audio/mpeg")}
    passed = await client.post("/admin/music/upload", files=files)
    assert (passed.status_code, passed.headers["location"]) == (303, "/admin/login")
    elsewhere = await client.post("/admin/music/some-track/remove", files=files)
    assert_problem(elsewhere, 413, "payload_too_large")
    over = b"x" * (settings.max_music_bytes + settings.max_json_body_bytes + 1)
    refused = await client.post(
        "/admin/music/upload", content=over, headers={"Content-Type": "multipart/form-data"}
    )
    assert_problem(refused, 413, "payload_too_large")
