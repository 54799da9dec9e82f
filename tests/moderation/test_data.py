"""What moderation keeps: nothing a hide or suspension covers goes while it may be
appealed; and a person's export holds their reports, strikes and appeals."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from keepsake.accounts import repository as accounts
from keepsake.exports import archive
from tests.fixtures.feed_helpers import seed_memory
from tests.moderation.helpers import act, moderator, report
from tests.profiles.test_profiles import assert_problem

SignUp = Callable[..., Any]


async def test_appeal_window_holds_the_purge_and_the_memory(
    client: httpx.AsyncClient, app: FastAPI, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    mod = await moderator(engine, await sign_up("mod"))
    memory = await seed_memory(engine, mina)
    assert (await act(client, mod, f"/memories/{memory}/hide")).status_code == 200
    assert_problem(
        await client.delete(f"/v1/memories/{memory}", headers=mina.headers),
        409,
        "memory_under_moderation",
    )
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE users SET status = 'deleting', deletion_requested_at = now() - interval"
                " '60 days' WHERE id IN (:mina, :theo)"
            ),
            {"mina": uuid.UUID(mina.id), "theo": uuid.UUID(theo.id)},
        )
    later = datetime.now(UTC) + timedelta(days=1)
    async with AsyncSession(app.state.engine) as db, db.begin():
        due = [str(u.id) for u in await accounts.due_for_purge(db, requested_before=later, limit=9)]
    assert due == [theo.id]
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE strikes SET appealable_until = now() - interval '1 s'"))
    async with AsyncSession(app.state.engine) as db, db.begin():
        due = [str(u.id) for u in await accounts.due_for_purge(db, requested_before=later, limit=9)]
    assert set(due) == {mina.id, theo.id}


async def test_the_export_holds_reports_strikes_and_appeals(
    client: httpx.AsyncClient, app: FastAPI, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    mod = await moderator(engine, await sign_up("mod"))
    memory = await seed_memory(engine, mina)
    made = (await report(client, theo, "memory", memory, "hate")).json()
    assert (await act(client, mod, f"/memories/{memory}/hide")).status_code == 200
    strike = (await client.get("/v1/me/strikes", headers=mina.headers)).json()["items"][0]
    appeal = await client.post(
        f"/v1/me/strikes/{strike['id']}/appeal", json={"text": "Mine."}, headers=mina.headers
    )
    assert appeal.status_code == 201
    state = app.state
    async with AsyncSession(state.engine) as db:
        of_mina = await archive.collect(
            db, settings=state.settings, storage=state.storage, user_id=uuid.UUID(mina.id)
        )
        of_theo = await archive.collect(
            db, settings=state.settings, storage=state.storage, user_id=uuid.UUID(theo.id)
        )
    assert of_mina is not None
    assert of_theo is not None
    safety = of_mina.documents["safety.json"]
    assert [s["appeal"]["text"] for s in safety["strikes"]] == ["Mine."]
    # The hidden memory's media stays out of its author's archive too.
    assert of_mina.files == []
    assert [r["id"] for r in of_theo.documents["safety.json"]["reports"]] == [made["id"]]
