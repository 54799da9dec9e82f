"""`home_timeline`: the triggers that fill and empty it, and the privacy check on read.

Each rule is tested with the memory's timeline row still in place (where the rule does
not take it out), so what keeps the memory off home is the read's own check.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Member
from tests.feeds.test_privacy import _approve_first_request
from tests.fixtures.feed_helpers import HOME, ids, seed_memory
from tests.graph.test_graph import follow
from tests.moderation.helpers import act, moderator
from tests.profiles.test_profiles import patch_me

SignUp = Callable[..., Any]


async def timeline(engine: AsyncEngine, owner: Member) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT memory_id FROM home_timeline WHERE owner_id = :owner"),
            {"owner": uuid.UUID(owner.id)},
        )
        return {str(memory_id) for memory_id in rows.scalars()}


async def test_follows_fill_and_empty_the_timeline(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo, pri = await sign_up("mina"), await sign_up("theo"), await sign_up("pri")
    older = [await seed_memory(engine, theo) for _ in range(3)]
    await seed_memory(engine, theo, status="processing")
    mine = await seed_memory(engine, mina, visibility="only_me")
    assert await timeline(engine, mina) == {mine}
    # Following brings the followee's ready memories; new ones arrive as they are made.
    await follow(client, mina, "theo")
    newer = await seed_memory(engine, theo)
    assert await timeline(engine, mina) == {mine, newer, *older}
    assert await ids(client, mina, HOME) == [newer, mine, *reversed(older)]
    await client.delete("/v1/users/theo/follow", headers=mina.headers)
    assert await timeline(engine, mina) == {mine}
    assert await ids(client, mina, HOME) == [mine]
    # A request brings nothing until it is approved.
    await patch_me(client, pri, is_private=True)
    pri_memory = await seed_memory(engine, pri, visibility="followers")
    await follow(client, mina, "pri")
    assert pri_memory not in await timeline(engine, mina)
    await _approve_first_request(client, pri)
    assert await ids(client, mina, HOME) == [pri_memory, mine]


async def test_a_memory_becoming_ready_or_deleted(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await follow(client, mina, "theo")
    memory = await seed_memory(engine, theo, status="processing")
    assert memory not in await timeline(engine, mina)
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE memories SET status = 'ready' WHERE id = :id"), {"id": uuid.UUID(memory)}
        )
    assert memory in await timeline(engine, mina)
    assert memory in await timeline(engine, theo)
    deleted = await client.delete(f"/v1/memories/{memory}", headers=theo.headers)
    assert deleted.status_code == 204, deleted.text
    assert await ids(client, mina, HOME) == []
    assert memory not in await timeline(engine, mina)


async def test_every_rule_holds_over_rows_left_in_place(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo, ada, kim, lee = [await sign_up(h) for h in ("mina", "theo", "ada", "kim", "lee")]
    mod = await moderator(engine, await sign_up("mod"))
    for handle in ("theo", "ada", "kim", "lee"):
        await follow(client, mina, handle)
    made = {
        who.handle: await seed_memory(engine, who, visibility="followers")
        for who in (theo, ada, kim, lee)
    }
    assert set(await ids(client, mina, HOME)) == set(made.values())

    changed = await client.patch(
        f"/v1/memories/{made['theo']}", json={"visibility": "only_me"}, headers=theo.headers
    )
    assert changed.status_code == 200, changed.text
    hidden = await act(client, mod, f"/memories/{made['ada']}/hide", reason="Shows an address.")
    assert hidden.status_code == 200, hidden.text
    suspended = await act(client, mod, "/users/kim/suspend")
    assert suspended.status_code == 200, suspended.text
    await client.post("/v1/users/lee/mute", headers=mina.headers)

    assert await timeline(engine, mina) == set(made.values())
    assert await ids(client, mina, HOME) == []
    # The authors still see their own, but a hidden one is its author's alone.
    assert made["ada"] in await ids(client, ada, HOME)
    assert made["theo"] in await ids(client, theo, HOME)


async def test_a_stale_row_grants_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo, ada = await sign_up("mina"), await sign_up("theo"), await sign_up("ada")
    public = await seed_memory(engine, theo, visibility="public")
    blocked = await seed_memory(engine, ada, visibility="public")
    await client.post("/v1/users/mina/block", headers=ada.headers)
    # Rows no trigger wrote: a public memory of someone not followed, one of a blocker.
    async with engine.begin() as conn:
        for memory in (public, blocked):
            await conn.execute(
                text(
                    "INSERT INTO home_timeline (owner_id, created_at, memory_id)"
                    " SELECT :owner, created_at, id FROM memories WHERE id = :memory"
                ),
                {"owner": uuid.UUID(mina.id), "memory": uuid.UUID(memory)},
            )
    assert await ids(client, mina, HOME) == []
    await follow(client, mina, "theo")
    assert await ids(client, mina, HOME) == [public]


async def test_widely_followed_authors_are_read_not_fanned_out(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    star, mina, theo, ada = [await sign_up(h) for h in ("star", "mina", "theo", "ada")]
    for fan in (mina, theo, ada):
        await follow(client, fan, "star")
    limit = "CREATE OR REPLACE FUNCTION keepsake_home_fanout_limit() RETURNS integer"
    async with engine.begin() as conn:
        await conn.execute(text(f"{limit} LANGUAGE sql STABLE AS 'SELECT 2'"))
    try:
        posted = await seed_memory(engine, star, visibility="followers")
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"{limit} LANGUAGE sql STABLE AS 'SELECT 10000'"))
    async with engine.connect() as conn:
        wide = (await conn.scalars(text("SELECT author_id FROM home_wide_authors"))).all()
    assert [str(w) for w in wide] == [star.id]
    assert posted not in await timeline(engine, mina)
    assert posted in await timeline(engine, star)
    # Read at home time, under the same rules: followers see it once, others never.
    assert await ids(client, mina, HOME) == [posted]
    assert await ids(client, star, HOME) == [posted]
    await client.delete("/v1/users/star/follow", headers=mina.headers)
    await client.post("/v1/users/star/mute", headers=theo.headers)
    mod = await moderator(engine, await sign_up("mod"))
    assert await ids(client, mina, HOME) == []
    assert await ids(client, theo, HOME) == []
    assert await ids(client, ada, HOME) == [posted]
    hidden = await act(client, mod, f"/memories/{posted}/hide", reason="Shows an address.")
    assert hidden.status_code == 200, hidden.text
    assert await ids(client, ada, HOME) == []
