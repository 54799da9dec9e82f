"""Feeds and every privacy rule: audiences, follow requests, private accounts, blocks
either way, mutes, and suspended or deleting authors."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Member
from tests.fixtures.feed_helpers import EXPLORE, HOME, ids, seed_memory, set_status
from tests.graph.test_close_friends import add as add_close_friend
from tests.graph.test_graph import follow
from tests.profiles.test_profiles import patch_me

SignUp = Callable[..., Any]


async def test_home_follows_every_visibility_rule(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    theo, ada, pri, muted, gone, blocker = [
        await sign_up(h) for h in ("theo", "ada", "pri", "muted", "gone", "blocker")
    ]
    for handle in ("theo", "ada", "muted", "gone", "blocker"):
        await follow(client, mina, handle)
    await add_close_friend(client, theo, "mina")
    visible = {
        v: await seed_memory(engine, theo, visibility=v)
        for v in ("only_me", "close_friends", "followers", "public")
    }
    ada_close = await seed_memory(engine, ada, visibility="close_friends")
    ada_followers = await seed_memory(engine, ada, visibility="followers")
    processing = await seed_memory(engine, theo, status="processing")
    failed = await seed_memory(engine, theo, status="failed")
    # A private account: a request is not a follow; approval lets the follower in.
    await patch_me(client, pri, is_private=True)
    pri_memory = await seed_memory(engine, pri, visibility="followers")
    assert (await follow(client, mina, "pri")).json() == {"relationship": "requested"}
    muted_memory = await seed_memory(engine, muted, visibility="followers")
    await client.post("/v1/users/muted/mute", headers=mina.headers)
    gone_memory = await seed_memory(engine, gone, visibility="followers")
    await set_status(engine, gone, "suspended")
    blocker_memory = await seed_memory(engine, blocker, visibility="public")
    await client.post("/v1/users/mina/block", headers=blocker.headers)
    mine = await seed_memory(engine, mina, visibility="only_me")
    await seed_memory(engine, mina, status="processing")

    shown = set(await ids(client, mina, HOME))
    assert shown == {
        visible["close_friends"],
        visible["followers"],
        visible["public"],
        ada_followers,
        mine,
    }
    hidden = {visible["only_me"], ada_close, processing, failed, pri_memory, muted_memory}
    assert not shown & (hidden | {gone_memory, blocker_memory})

    # Muting hides from feeds only: the muted person's own page still shows their memory.
    assert muted_memory in await ids(client, mina, "/v1/users/muted/memories")
    await _approve_first_request(client, pri)
    assert pri_memory in await ids(client, mina, HOME)
    await set_status(engine, gone, "active")
    assert gone_memory in await ids(client, mina, HOME)
    await set_status(engine, gone, "deleting")
    assert gone_memory not in await ids(client, mina, HOME)


async def _approve_first_request(client: httpx.AsyncClient, owner: Member) -> None:
    listed = await client.get("/v1/me/follow-requests", headers=owner.headers)
    request_id = listed.json()["items"][0]["id"]
    response = await client.post(
        f"/v1/me/follow-requests/{request_id}/approve", headers=owner.headers
    )
    assert response.status_code == 204, response.text


async def test_a_block_either_way_hides_even_with_a_follow_left_behind(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo, ada = await sign_up("mina"), await sign_up("theo"), await sign_up("ada")
    theirs = {who.handle: await seed_memory(engine, who, caption="#sea") for who in (theo, ada)}
    await client.post("/v1/users/theo/block", headers=mina.headers)
    await client.post("/v1/users/mina/block", headers=ada.headers)
    # A block ends follows; one racing the block could survive it and must grant nothing.
    async with engine.begin() as conn:
        for who in (theo, ada):
            await conn.execute(
                text(
                    "INSERT INTO follows (follower_id, followee_id, id, state)"
                    " VALUES (:me, :them, :id, 'active')"
                ),
                {"me": uuid.UUID(mina.id), "them": uuid.UUID(who.id), "id": uuid.uuid4()},
            )
    for path in (HOME, EXPLORE, "/v1/hashtags/sea/memories"):
        assert await ids(client, mina, path) == [], path
    for viewer, author in ((theo, mina), (ada, mina)):
        mine = await seed_memory(engine, author, caption="#sea")
        for path in (EXPLORE, "/v1/hashtags/sea/memories"):
            assert mine not in await ids(client, viewer, path)
    assert set(await ids(client, await sign_up("bystander"), EXPLORE)) >= set(theirs.values())


async def test_explore_is_public_memories_of_public_accounts(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo, pri, muted, gone = [
        await sign_up(h) for h in ("mina", "theo", "pri", "muted", "gone")
    ]
    public = await seed_memory(engine, theo, visibility="public")
    for visibility in ("only_me", "close_friends", "followers"):
        await seed_memory(engine, theo, visibility=visibility)
    await seed_memory(engine, theo, status="processing")
    await follow(client, mina, "pri")
    await patch_me(client, pri, is_private=True)
    # Even to a follower, a private account's public memory is not for explore.
    await seed_memory(engine, pri, visibility="public")
    muted_public = await seed_memory(engine, muted, visibility="public")
    await client.post("/v1/users/muted/mute", headers=mina.headers)
    await seed_memory(engine, gone, visibility="public")
    await set_status(engine, gone, "suspended")
    mine = await seed_memory(engine, mina, visibility="public")

    assert await ids(client, mina, EXPLORE) == [mine, public]
    assert await ids(client, theo, EXPLORE) == [mine, muted_public, public]
