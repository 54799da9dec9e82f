"""`keepsake admin seed`: realistic, idempotent, and usable through the API as it is."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.seed import SEED_PASSWORD, SeedPlan, SeedResult, email, handle, seed, seed_id
from tests.fixtures.keepsake_cli import keepsake_runner

TABLES = ("users", "follows", "memories", "clips", "memory_hashtags", "claps")


async def run_seed(
    engine: AsyncEngine, app: FastAPI, plan: SeedPlan, lines: list[str] | None = None
) -> SeedResult:
    return await seed(engine, app.state.storage, plan, (lines if lines is not None else []).append)


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            t: await conn.scalar(text(f"SELECT count(*) FROM {t}")) or 0  # noqa: S608 - constants
            for t in TABLES
        }


async def test_seed_fills_every_table_and_shows_progress(engine: AsyncEngine, app: FastAPI) -> None:
    lines: list[str] = []

    result = await run_seed(engine, app, SeedPlan(40, 90, follows_per_user=6, claps=120), lines)

    found = await counts(engine)
    assert found["users"] == 40
    assert found["memories"] == 90
    assert found["claps"] == 120
    assert found["follows"] > 40
    assert 90 <= found["clips"] <= 3 * 90
    assert result.inserted == found
    assert any(line.startswith("seeding users 40/40: 40 rows") for line in lines)
    assert any(line.startswith("seeding memories of memories 90/90: 90 rows") for line in lines)
    async with engine.connect() as conn:
        handles = (await conn.scalars(text("SELECT handle FROM users ORDER BY handle"))).all()
        bare = await conn.scalar(
            text(
                "SELECT count(*) FROM memories m WHERE NOT EXISTS "
                "(SELECT 1 FROM clips c WHERE c.memory_id = m.id)"
            )
        )
        statuses = (await conn.scalars(text("SELECT DISTINCT status::text FROM memories"))).all()
    assert handles[0] == handle(0) == "seed_user_00000"
    assert handles[-1] == "seed_user_00039"
    assert bare == 0, "every memory has its clips"
    assert statuses == ["ready"]


async def test_a_rerun_with_the_same_numbers_adds_nothing(
    engine: AsyncEngine, app: FastAPI
) -> None:
    plan = SeedPlan(30, 60, follows_per_user=5)
    await run_seed(engine, app, plan)
    before = await counts(engine)

    again = await run_seed(engine, app, plan)

    assert set(again.inserted.values()) == {0}
    assert await counts(engine) == before


async def test_a_larger_run_adds_only_the_new_accounts_and_memories(
    engine: AsyncEngine, app: FastAPI
) -> None:
    await run_seed(engine, app, SeedPlan(20, 40, follows_per_user=4))

    larger = await run_seed(engine, app, SeedPlan(30, 70, follows_per_user=4))

    assert larger.inserted["users"] == 10
    assert larger.inserted["memories"] == 30
    found = await counts(engine)
    assert (found["users"], found["memories"]) == (30, 70)


async def test_a_seeded_account_signs_in_and_sees_playable_media(
    engine: AsyncEngine, app: FastAPI, client: httpx.AsyncClient
) -> None:
    await run_seed(engine, app, SeedPlan(25, 120, follows_per_user=8))
    login = await client.post("/v1/auth/login", json={"email": email(3), "password": SEED_PASSWORD})
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['tokens']['access_token']}"}

    explore = await client.get("/v1/feed/explore", headers=headers)

    assert explore.status_code == 200, explore.text
    memory = explore.json()["items"][0]
    one = await client.get(f"/v1/memories/{memory['id']}", headers=headers)
    assert one.status_code == 200
    for url in (memory["clips"][0]["video_url"], memory["clips"][0]["poster_url"]):
        parts = urlsplit(url)
        media = await client.get(f"{parts.path}?{parts.query}")
        assert media.status_code == 200, url
        assert media.content[4:8] == b"ftyp" or media.content[:2] == b"\xff\xd8"


@pytest.mark.parametrize("bad", [["--users", "0"], ["--claps", "-1"]])
@pytest.mark.slow
def test_admin_seed_refuses_bad_numbers(bad: list[str]) -> None:
    with keepsake_runner() as keepsake:
        args = {"--users": "3", "--memories": "3", **dict(zip(bad[::2], bad[1::2], strict=True))}
        result = keepsake.run("admin", "seed", *(x for pair in args.items() for x in pair))

    assert result.returncode == 2
    assert "a whole number" in result.stderr


@pytest.mark.slow
async def test_admin_seed_command_prints_progress_and_the_password(database_url: str) -> None:
    with keepsake_runner() as keepsake:
        env = {**keepsake.env, "KEEPSAKE_DATABASE_URL": database_url}
        args = ("admin", "seed", "--users", "12", "--memories", "20", "--follows-per-user", "3")

        first = await asyncio.to_thread(keepsake.run, *args, env=env)
        again = await asyncio.to_thread(keepsake.run, *args, env=env)

    assert first.returncode == 0, first.stderr
    assert "keepsake: seeding users 12/12: 12 rows in " in first.stderr
    assert "added 12 users" in first.stderr
    assert repr(SEED_PASSWORD) in first.stderr
    assert again.returncode == 0, again.stderr
    assert "added 0 users, 0 follows, 0 memories" in again.stderr


async def test_max_follows_makes_someone_follow_thousands(
    engine: AsyncEngine, app: FastAPI
) -> None:
    plan = SeedPlan(2_500, 20, follows_per_user=4, max_follows=1_200, claps=0)
    result = await run_seed(engine, app, plan)
    async with engine.connect() as conn:
        most = await conn.execute(
            text(
                "SELECT u.handle, count(*) FROM follows f JOIN users u ON u.id = f.follower_id"
                " GROUP BY u.handle ORDER BY count(*) DESC LIMIT 2"
            )
        )
        (first, followed), (_, runner_up) = most.all()
        reader = {"id": seed_id("user", 0)}
        timeline = await conn.scalar(
            text("SELECT count(*) FROM home_timeline WHERE owner_id = :id"), reader
        )
        theirs = await conn.scalar(
            text(
                "SELECT count(*) FROM memories m WHERE m.author_id = :id OR EXISTS"
                " (SELECT 1 FROM follows f WHERE f.follower_id = :id"
                " AND f.followee_id = m.author_id AND f.state = 'active')"
            ),
            reader,
        )
    assert (first, followed) == (handle(0), 1_200)
    assert runner_up <= 1_200
    # The reader's home is filled as the follows and memories went in.
    assert timeline == theirs
    assert theirs
    # A re-run with the same numbers adds nothing.
    assert (await run_seed(engine, app, plan)).inserted == dict.fromkeys(result.inserted, 0)
    assert result.seconds < 60
