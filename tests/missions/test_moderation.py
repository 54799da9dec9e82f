"""A moderator's hide disqualifies a mission entry; undoing the hide gives its points back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.missions.helpers import Clock, balance, create_mission, make_admin, post_ready
from tests.moderation.helpers import moderator

SignUp = Callable[..., Any]
HOUR = timedelta(hours=1)


async def test_a_hidden_entry_gives_its_points_back_until_restored(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, clock: Clock
) -> None:
    admin, mod, mina = await sign_up(), await sign_up(), await sign_up()
    await make_admin(engine, admin)
    await moderator(engine, mod)
    await create_mission(client, admin, clock.now - HOUR)
    memory_id = await post_ready(app, engine, mina, "#첫눈", made=clock.now, ready=clock.now)
    assert uuid.UUID(memory_id)
    assert await balance(client, mina) == 10

    hidden = await client.post(
        f"/v1/admin/memories/{memory_id}/hide", json={"reason": "spam"}, headers=mod.headers
    )
    assert hidden.status_code == 200, hidden.text
    assert await balance(client, mina) == 0
    statement = (await client.get("/v1/me/points", headers=mina.headers)).json()
    assert [item["kind"] for item in statement["items"]] == ["disqualified", "entry"]

    restored = await client.post(
        f"/v1/admin/memories/{memory_id}/restore", json={"reason": "mistake"}, headers=mod.headers
    )
    assert restored.status_code == 200, restored.text
    assert await balance(client, mina) == 10
