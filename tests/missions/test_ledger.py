"""The ledger's rules on the real database: append-only, balanced, never below zero,
each award once under retries, races and crashes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.accounts.deletion import purge_due_accounts
from keepsake.exports import archive
from keepsake.memories import repository as memories
from keepsake.missions import entries
from keepsake.missions.entries import enter_memory
from keepsake.points import service as points
from keepsake.points.models import DELETED_ACCOUNTS, TransferKind
from keepsake.worker import job_resources
from tests.fixtures.feed_helpers import seed_memory
from tests.missions.helpers import (
    Clock,
    balance,
    create_mission,
    ledger_rows,
    make_admin,
    post_ready,
)

SignUp = Callable[..., Any]
HOUR = timedelta(hours=1)


async def _award_once(app: FastAPI, mission_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    async with app.state.sessionmaker() as db, db.begin():
        return await points.award(
            db, kind=TransferKind.entry, mission_id=mission_id, user_id=user_id, amount=10
        )


async def test_fifty_concurrent_awards_of_one_key_record_once(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, clock: Clock
) -> None:
    admin, mina = await sign_up(), await sign_up()
    await make_admin(engine, admin)
    mission = await create_mission(client, admin, clock.now)
    given = await asyncio.gather(
        *(_award_once(app, uuid.UUID(mission["id"]), uuid.UUID(mina.id)) for _ in range(50))
    )
    assert given.count(True) == 1
    assert await ledger_rows(engine) == (1, 2)
    assert await balance(client, mina) == 10


async def test_fifty_concurrent_winner_calls_close_once(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, clock: Clock
) -> None:
    admin, mina = await sign_up(), await sign_up()
    await make_admin(engine, admin)
    start = clock.now - 3 * HOUR
    mission = await create_mission(
        client, admin, start, ends_at=(start + 2 * HOUR).isoformat(), entry_points=0
    )
    won = await post_ready(app, engine, mina, "#첫눈", made=start, ready=start + HOUR)
    calls = [
        client.post(
            f"/v1/admin/missions/{mission['id']}/winners",
            json={"memory_ids": [won]},
            headers=admin.headers,
        )
        for _ in range(50)
    ]
    answers = await asyncio.gather(*calls)
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] + [409] * 49
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"winners_already_chosen"}
    assert await ledger_rows(engine) == (1, 2)
    assert await balance(client, mina) == 100


async def test_ledger_refuses_updates_deletes_and_unbalanced_transfers(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, clock: Clock
) -> None:
    admin, mina = await sign_up(), await sign_up()
    await make_admin(engine, admin)
    mission = await create_mission(client, admin, clock.now)
    assert await _award_once(app, uuid.UUID(mission["id"]), uuid.UUID(mina.id))
    for statement in (
        "UPDATE points_entries SET amount = amount * 2",
        "DELETE FROM points_entries",
        "UPDATE points_transfers SET reason = 'x'",
        "DELETE FROM points_transfers",
        # Straight into a person's account without its other half.
        "INSERT INTO points_transfers (id, kind, account_id)"
        " VALUES (gen_random_uuid(), 'adjustment', :mina)",
        # Below zero, even with a balanced transfer.
        "UPDATE points_accounts SET balance = -1 WHERE kind = 'person'",
    ):
        with pytest.raises(DBAPIError):
            async with engine.begin() as conn:
                await conn.execute(text(statement), {"mina": uuid.UUID(mina.id)})
    assert await balance(client, mina) == 10


async def test_a_crash_before_commit_leaves_no_entry_without_points(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, clock: Clock
) -> None:
    """The entry and its award are written in the memory-ready transaction: a worker killed
    (its connection gone) before the commit leaves neither; the rerun makes both."""
    admin, mina = await sign_up(), await sign_up()
    await make_admin(engine, admin)
    mission = await create_mission(client, admin, clock.now - HOUR)
    memory_id = uuid.UUID(await seed_memory(engine, mina, caption="#첫눈", at=clock.now))

    async def killed_before_commit() -> None:
        async with app.state.sessionmaker() as db, db.begin():
            memory = await memories.get(db, memory_id, lock=True)
            assert memory is not None
            await enter_memory(db, memory, now=clock.now)
            pid = await db.scalar(text("SELECT pg_backend_pid()"))
            async with engine.begin() as killer:
                await killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    with pytest.raises(DBAPIError):
        await killed_before_commit()
    async with engine.connect() as conn:
        made = await conn.scalar(text("SELECT count(*) FROM mission_entries"))
    assert made == 0
    assert await ledger_rows(engine) == (0, 0)
    async with app.state.sessionmaker() as db, db.begin():
        memory = await memories.get(db, memory_id, lock=True)
        assert memory is not None
        await enter_memory(db, memory, now=clock.now)
    mine = (await client.get(f"/v1/missions/{mission['id']}", headers=mina.headers)).json()
    assert mine["my_entry"]["memory_id"] == str(memory_id)
    assert await balance(client, mina) == 10


async def test_disqualify_and_requalify_move_points_by_transfers(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, clock: Clock
) -> None:
    admin, mina = await sign_up(), await sign_up()
    await make_admin(engine, admin)
    await create_mission(client, admin, clock.now - HOUR)
    entry = uuid.UUID(await post_ready(app, engine, mina, "#첫눈", made=clock.now, ready=clock.now))
    for change, held in (
        (entries.disqualify_memory, 0),
        (entries.disqualify_memory, 0),
        (entries.requalify_memory, 10),
        (entries.requalify_memory, 10),
    ):
        async with app.state.sessionmaker() as db, db.begin():
            await change(db, entry)
        assert await balance(client, mina) == held
    statement = (await client.get("/v1/me/points", headers=mina.headers)).json()
    assert [i["kind"] for i in statement["items"]] == ["restored", "disqualified", "entry"]
    assert [i["amount"] for i in statement["items"]] == [10, -10, 10]
    assert await ledger_rows(engine) == (3, 6)


def _key(member: Any) -> dict[str, str]:
    return {**member.headers, "Idempotency-Key": str(uuid.uuid4())}


async def test_adjustments_are_idempotent_and_never_go_below_zero(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    admin, mina = await sign_up(), await sign_up()
    await make_admin(engine, admin)
    path = "/v1/admin/points/adjustments"
    body = {"handle": mina.handle, "amount": 30, "reason": "Prize resent"}
    headers = {**admin.headers, "Idempotency-Key": "adj-1"}
    first = await client.post(path, json=body, headers=headers)
    again = await client.post(path, json=body, headers=headers)
    assert first.status_code == 201
    assert again.json() == first.json()
    assert await balance(client, mina) == 30
    too_much = {**body, "amount": -31}
    refused = await client.post(path, json=too_much, headers=_key(admin))
    assert refused.status_code == 409
    assert refused.json()["code"] == "insufficient_points"
    for wrong in ({**body, "amount": 0}, {**body, "amount": "5"}, {**body, "extra": 1}):
        assert (await client.post(path, json=wrong, headers=_key(admin))).status_code == 422
    keyless = await client.post(path, json=body, headers=admin.headers)
    assert keyless.status_code == 422
    nobody = await client.post(path, json={**body, "handle": "nobody"}, headers=_key(admin))
    assert nobody.status_code == 404
    by_member = await client.post(path, json=body, headers=_key(mina))
    assert by_member.status_code == 403
    assert await balance(client, mina) == 30
    assert await ledger_rows(engine) == (1, 2)


async def test_purged_account_points_go_to_deleted_accounts(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, clock: Clock
) -> None:
    admin, mina = await sign_up(), await sign_up()
    await make_admin(engine, admin)
    await create_mission(client, admin, clock.now - HOUR)
    await post_ready(app, engine, mina, "#첫눈", made=clock.now, ready=clock.now)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE users SET status = 'deleting', deletion_requested_at = now() - interval"
                " '365 days' WHERE id = :id"
            ),
            {"id": uuid.UUID(mina.id)},
        )
    state = app.state
    await purge_due_accounts(job_resources(state.settings, state.sessionmaker, state.storage))
    async with engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT id, user_id, balance FROM points_accounts ORDER BY id"))
        ).all()
    held = {row.id: (row.user_id, row.balance) for row in rows}
    assert held[DELETED_ACCOUNTS] == (None, 10)
    assert held[uuid.UUID(mina.id)] == (None, 0)
    assert await ledger_rows(engine) == (2, 4)


async def test_nobody_else_sees_a_balance_or_point_count(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, clock: Clock
) -> None:
    admin, mina, joon = await sign_up(), await sign_up(), await sign_up()
    await make_admin(engine, admin)
    mission = await create_mission(client, admin, clock.now - HOUR)
    await post_ready(app, engine, mina, "#첫눈", made=clock.now, ready=clock.now)
    seen = [
        await client.get(path, headers=joon.headers)
        for path in (
            "/v1/missions",
            f"/v1/missions/{mission['id']}",
            f"/v1/missions/{mission['id']}/entries",
            f"/v1/users/{mina.handle}",
            f"/v1/users/{mina.handle}/memories",
        )
    ]
    assert [r.status_code for r in seen] == [200] * 5
    for response in seen:
        for word in ('"balance"', '"points"', '"clap_total"', '"my_entry":{'):
            assert word not in response.text.replace(" ", ""), response.text
    entry = seen[2].json()["items"]
    assert len(entry) == 1
    assert entry[0]["winner"] is None
    own = await client.get("/v1/me/points", headers=joon.headers)
    assert own.json() == {"balance": 0, "items": [], "next_cursor": None}


async def test_export_holds_the_persons_entries_and_statement(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, clock: Clock
) -> None:
    admin, mina = await sign_up(), await sign_up()
    await make_admin(engine, admin)
    mission = await create_mission(client, admin, clock.now - HOUR)
    entered = await post_ready(app, engine, mina, "#첫눈", made=clock.now, ready=clock.now)
    state = app.state
    async with state.sessionmaker() as db:
        contents = await archive.collect(
            db, settings=state.settings, storage=state.storage, user_id=uuid.UUID(mina.id)
        )
    assert contents is not None
    [entry] = contents.documents["missions.json"]
    assert (entry["mission"]["id"], entry["memory_id"]) == (
        uuid.UUID(mission["id"]),
        uuid.UUID(entered),
    )
    [line] = contents.documents["points.json"]
    assert (line.amount, line.kind, line.mission.title) == (10, "entry", "First snow")
