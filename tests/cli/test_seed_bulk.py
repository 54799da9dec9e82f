"""The seeder's bulk load: the schema as the migrations left it, the same rows the
triggers would have written, and a database the API reads correctly."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.seed import SEED_PASSWORD, SeedPlan, email, handle, seed, seed_id
from keepsake.seed_bulk import BIG_TABLES

PLAN = SeedPlan(60, 400, follows_per_user=8, max_follows=30, claps=500, now=datetime.now(UTC))
# Every table the seeder writes or derives, with a key that orders its rows.
DUMPED = {
    "follows": "follower_id, followee_id",
    "memories": "id",
    "clips": "id",
    "memory_hashtags": "memory_id, tag",
    "claps": "memory_id, user_id",
    "home_timeline": "owner_id, created_at, memory_id",
    "home_wide_authors": "author_id",
    "hashtags": "tag",
}
SCHEMA = """
SELECT 'index', tablename || '.' || indexname, indexdef FROM pg_indexes
    WHERE schemaname = 'public'
UNION ALL
SELECT 'constraint', conrelid::regclass::text || '.' || conname,
    pg_get_constraintdef(oid) || ' validated=' || convalidated
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'trigger', tgrelid::regclass::text || '.' || tgname, tgenabled::text
    FROM pg_trigger WHERE NOT tgisinternal
ORDER BY 1, 2
"""
_LIMIT = "CREATE OR REPLACE FUNCTION keepsake_home_fanout_limit() RETURNS integer"


@pytest.fixture
async def low_fanout_limit(engine: AsyncEngine) -> AsyncIterator[None]:
    """Authors with more than 5 followers are read at home time, not fanned out."""
    async with engine.begin() as conn:
        await conn.execute(text(f"{_LIMIT} LANGUAGE sql STABLE AS 'SELECT 5'"))
    yield
    async with engine.begin() as conn:
        await conn.execute(text(f"{_LIMIT} LANGUAGE sql STABLE AS 'SELECT 10000'"))


async def schema(engine: AsyncEngine) -> list[tuple[str, str, str]]:
    async with engine.connect() as conn:
        return [(k, n, d) for k, n, d in (await conn.execute(text(SCHEMA))).all()]


async def dump(engine: AsyncEngine) -> dict[str, list[tuple[object, ...]]]:
    async with engine.connect() as conn:
        return {
            table: [
                tuple(row)
                # Constants above, not input.
                for row in await conn.execute(text(f"SELECT * FROM {table} ORDER BY {key}"))  # noqa: S608
            ]
            for table, key in DUMPED.items()
        }


async def test_a_bulk_seed_leaves_indexes_constraints_and_triggers_as_migrated(
    engine: AsyncEngine, app: FastAPI
) -> None:
    before = await schema(engine)
    lines: list[str] = []

    result = await seed(engine, app.state.storage, PLAN, lines.append)

    assert result.bulk
    assert await schema(engine) == before
    dropped = {name for kind, name, _ in before if kind == "index"}
    assert {f"{t}.pk_{t}" for t in ("follows", "claps", "home_timeline")} <= dropped
    assert "seeding an empty database in bulk" in lines
    assert any(line.startswith("seeding indexes and keys: ") for line in lines)
    assert set(BIG_TABLES) <= {*result.inserted, "home_timeline"}


async def test_a_bulk_seed_writes_what_the_row_by_row_path_and_its_triggers_write(
    engine: AsyncEngine, app: FastAPI, low_fanout_limit: None
) -> None:
    bulk = await seed(engine, app.state.storage, PLAN, lambda _: None)
    loaded = await dump(engine)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE users, hashtags, {', '.join(DUMPED)} CASCADE"))
        # Someone already there: the seeder then adds row by row, every trigger firing.
        await conn.execute(
            text(
                "INSERT INTO users (id, email, handle, display_name)"
                " VALUES (:id, 'ada@example.com', 'ada', 'Ada')"
            ),
            {"id": uuid.uuid4()},
        )

    rowwise = await seed(engine, app.state.storage, PLAN, lambda _: None)

    assert bulk.bulk
    assert not rowwise.bulk
    assert rowwise.inserted == bulk.inserted
    again = await dump(engine)
    for table in DUMPED:
        assert again[table] == loaded[table], table
    assert loaded["home_wide_authors"], "some authors are past the lowered fan-out limit"
    assert len(loaded["claps"]) == PLAN.claps


async def sign_in(client: httpx.AsyncClient, n: int) -> dict[str, str]:
    login = await client.post("/v1/auth/login", json={"email": email(n), "password": SEED_PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['tokens']['access_token']}"}


async def ids(engine: AsyncEngine, sql: str, **params: object) -> list[str]:
    async with engine.connect() as conn:
        return [str(i) for i in (await conn.scalars(text(sql), params)).all()]


async def test_a_bulk_seeded_database_answers_home_a_person_page_and_a_memory(
    engine: AsyncEngine, app: FastAPI, client: httpx.AsyncClient
) -> None:
    await seed(engine, app.state.storage, PLAN, lambda _: None)
    reader = seed_id("user", 0)
    headers = await sign_in(client, 0)
    # What the privacy rules let the reader see at home: their own memories, and the
    # public or followers' memories of those they follow (nobody is a close friend).
    home_sql = """
        SELECT m.id FROM memories m WHERE m.author_id = :me OR (
            m.visibility IN ('public', 'followers') AND EXISTS (SELECT 1 FROM follows f
                WHERE f.follower_id = :me AND f.followee_id = m.author_id
                AND f.state = 'active'))
        ORDER BY m.created_at DESC, m.id DESC LIMIT 20"""

    home = await client.get("/v1/feed/home", headers=headers)

    assert home.status_code == 200, home.text
    expected = await ids(engine, home_sql, me=reader)
    assert len(expected) == 20
    assert [item["id"] for item in home.json()["items"]] == expected

    followed = await ids(
        engine,
        "SELECT u.handle FROM follows f JOIN users u ON u.id = f.followee_id"
        " JOIN memories m ON m.author_id = u.id AND m.visibility = 'followers'"
        " WHERE f.follower_id = :me ORDER BY u.handle LIMIT 1",
        me=reader,
    )
    page = await client.get(f"/v1/users/{followed[0]}/memories", headers=headers)
    assert page.status_code == 200, page.text
    theirs = await ids(
        engine,
        "SELECT m.id FROM memories m JOIN users u ON u.id = m.author_id WHERE u.handle = :h"
        " AND m.visibility IN ('public', 'followers') ORDER BY m.created_at DESC, m.id DESC",
        h=followed[0],
    )
    assert [item["id"] for item in page.json()["items"]] == theirs[:20]

    # A followers-only memory: its author's follower reads it, a stranger does not.
    hidden = await ids(
        engine,
        "SELECT m.id FROM memories m JOIN users u ON u.id = m.author_id"
        " WHERE u.handle = :h AND m.visibility = 'followers' LIMIT 1",
        h=followed[0],
    )
    one = await client.get(f"/v1/memories/{hidden[0]}", headers=headers)
    assert one.status_code == 200, one.text
    assert one.json()["caption"]
    strangers = await ids(
        engine,
        "SELECT u.handle FROM users u JOIN memories m ON m.id = :m WHERE u.id <> m.author_id"
        " AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = u.id"
        " AND f.followee_id = m.author_id) ORDER BY u.handle LIMIT 1",
        m=hidden[0],
    )
    stranger = int(strangers[0].removeprefix("seed_user_"))
    assert handle(stranger) == strangers[0]
    refused = await client.get(f"/v1/memories/{hidden[0]}", headers=await sign_in(client, stranger))
    assert refused.status_code == 404
