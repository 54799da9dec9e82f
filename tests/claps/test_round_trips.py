"""What a clap costs in round trips: the clap, its notification batch and the idempotency
record together stay within four statements, whether or not the batch is new."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.claps.test_claps import clap
from tests.fixtures.feed_helpers import seed_memory
from tests.graph.test_graph import statements

SignUp = Callable[..., Any]


async def test_a_clap_with_its_batch_and_key_costs_at_most_four_statements(
    client: httpx.AsyncClient, app: FastAPI, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    made = await seed_memory(engine, mina)
    # Authentication comes from the session cache once the token has been seen.
    assert (await clap(client, theo, made, 1)).status_code == 200
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE notifications SET read_at = now()"))
    costs = []
    for count, key in ((2, "first"), (3, None), (4, "again")):
        with statements(app) as seen:
            response = await clap(client, theo, made, count, key)
        assert response.status_code == 200, response.text
        costs.append(len(seen))
    assert response.json() == {"my_claps": 10}
    # A new batch with a key: claim, clap with batch, push, stored answer. Joining the
    # batch without a key: the clap alone. Joining it with one: no push.
    assert costs == [4, 1, 3]
    async with engine.connect() as conn:
        unread = (
            await conn.execute(
                text("SELECT count FROM notifications WHERE read_at IS NULL AND kind = 'claps'")
            )
        ).all()
        pushes = await conn.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'push:deliver'")
        )
    assert unread == [(9,)]
    assert pushes == 2
