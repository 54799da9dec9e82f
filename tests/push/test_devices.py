"""Devices: registering push tokens (idempotent per token) and removing them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Member
from tests.profiles.test_profiles import assert_problem

SignUp = Callable[..., Any]
IPHONE = "5d1e9f0c3b7a4e6d8c2f1a0b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"
PIXEL = "cK3x9QmT_Ui:APA91bH4kR2v7Zt0-wLq8sN1yE6oP3dF"


async def register(
    client: httpx.AsyncClient, member: Member, platform: str, token: str
) -> httpx.Response:
    return await client.post(
        "/v1/devices", json={"platform": platform, "token": token}, headers=member.headers
    )


async def devices(engine: AsyncEngine) -> list[tuple[str, str, str]]:
    """(owner's handle, platform, token) of every device."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT u.handle, d.platform, d.token FROM devices d"
                " JOIN users u ON u.id = d.user_id ORDER BY d.registered_at"
            )
        )
    return [(row[0], row[1], row[2]) for row in rows]


async def test_register_a_device_idempotently(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    created = await register(client, mina, "ios", IPHONE.upper())
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"id", "platform", "created_at"}
    assert body["platform"] == "ios"
    again = await register(client, mina, "ios", IPHONE)
    assert again.status_code == 201
    assert again.json() == body
    assert await devices(engine) == [("mina", "ios", IPHONE)]

    # The phone changes hands (or accounts): the token follows whoever registered it last.
    moved = await register(client, theo, "ios", IPHONE)
    assert moved.json()["id"] == body["id"]
    assert await devices(engine) == [("theo", "ios", IPHONE)]
    gone = await client.delete(f"/v1/devices/{body['id']}", headers=mina.headers)
    assert_problem(gone, 404, "device_not_found")


async def test_remove_only_your_own_device(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    device = (await register(client, mina, "android", PIXEL)).json()["id"]
    path = f"/v1/devices/{device}"
    assert_problem(await client.delete(path, headers=theo.headers), 404, "device_not_found")
    assert (await client.delete(path, headers=mina.headers)).status_code == 204
    assert_problem(await client.delete(path, headers=mina.headers), 404, "device_not_found")
    assert await devices(engine) == []


@pytest.mark.parametrize(
    ("platform", "token", "code"),
    [
        ("ios", "not-hex-at-all-0123", "invalid_device_token"),
        ("ios", "abc", "validation_error"),
        ("android", "spaces are not allowed", "validation_error"),
        ("windows", PIXEL, "validation_error"),
    ],
)
async def test_device_tokens_are_checked(
    client: httpx.AsyncClient, sign_up: SignUp, platform: str, token: str, code: str
) -> None:
    mina = await sign_up("mina")
    assert_problem(await register(client, mina, platform, token), 422, code)


async def test_a_person_keeps_at_most_ten_devices(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    for i in range(12):
        assert (await register(client, mina, "android", f"{PIXEL}{i}")).status_code == 201
    kept = [token for _, _, token in await devices(engine)]
    assert kept == [f"{PIXEL}{i}" for i in range(2, 12)]
