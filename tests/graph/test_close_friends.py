"""Close friends: the owner's private list, which nobody else (the friends included) can learn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Member
from tests.graph.test_graph import follow, handles, statements, walk
from tests.profiles.test_profiles import assert_problem, patch_me

SignUp = Callable[..., Any]
LIST = "/v1/me/close-friends"


async def add(client: httpx.AsyncClient, owner: Member, handle: str) -> httpx.Response:
    return await client.put(f"{LIST}/{handle}", headers=owner.headers)


async def remove(client: httpx.AsyncClient, owner: Member, handle: str) -> httpx.Response:
    return await client.delete(f"{LIST}/{handle}", headers=owner.headers)


async def close_friends(client: httpx.AsyncClient, owner: Member) -> list[str]:
    return await handles(client, owner, LIST)


async def rows(engine: AsyncEngine) -> set[tuple[str, str]]:
    """Every (owner, friend) pair by handle, straight from the table."""
    async with engine.connect() as conn:
        result = await conn.execute(
            text(
                "SELECT o.handle, f.handle FROM close_friends c "
                "JOIN users o ON o.id = c.owner_id JOIN users f ON f.id = c.friend_id"
            )
        )
        return {(owner, friend) for owner, friend in result}


async def test_add_list_and_remove(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await sign_up("ada")
    assert await close_friends(client, mina) == []
    for handle in ("THEO", "ada"):
        response = await add(client, mina, handle)
        assert response.status_code == 204
        assert response.content == b""
    assert await close_friends(client, mina) == ["ada", "theo"]
    # Adding again is a no-op: Theo keeps his place, nobody appears twice.
    assert (await add(client, mina, "theo")).status_code == 204
    assert await close_friends(client, mina) == ["ada", "theo"]

    # Items are the same profile view as everywhere else.
    listed = (await client.get(LIST, headers=mina.headers)).json()["items"]
    profile = (await client.get("/v1/users/theo", headers=mina.headers)).json()
    assert listed[1] == profile
    # Each list is its owner's own: Theo's is empty although he is on Mina's.
    assert await close_friends(client, theo) == []

    for _ in range(2):
        assert (await remove(client, mina, "Theo")).status_code == 204
    assert await close_friends(client, mina) == ["ada"]


async def test_add_yourself_or_nobody(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina = await sign_up("mina")
    body = assert_problem(await add(client, mina, "MINA"), 422, "cannot_add_self")
    assert body["errors"][0]["field"] == "handle"
    # Removing yourself is as idempotent as removing anyone who is not on the list.
    assert (await remove(client, mina, "mina")).status_code == 204
    assert_problem(await add(client, mina, "nobody"), 404, "user_not_found")
    assert_problem(await remove(client, mina, "nobody"), 404, "user_not_found")
    assert await close_friends(client, mina) == []


@pytest.mark.parametrize("blocker", ["mina", "theo"])
async def test_blocked_either_way_looks_like_nobody(
    client: httpx.AsyncClient, sign_up: SignUp, blocker: str
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    member = {"mina": mina, "theo": theo}[blocker]
    other = "theo" if blocker == "mina" else "mina"
    await client.post(f"/v1/users/{other}/block", headers=member.headers)
    nobody = await add(client, mina, "nobody")
    for response in (await add(client, mina, "theo"), await add(client, theo, "mina")):
        assert_problem(response, 404, "user_not_found")
        assert response.json() == nobody.json()
    assert await close_friends(client, mina) == []
    assert await close_friends(client, theo) == []


async def test_a_block_ends_close_friendship_both_ways(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    ada = await sign_up("ada")
    for owner, friend in ((mina, "theo"), (theo, "mina"), (mina, "ada"), (ada, "theo")):
        await add(client, owner, friend)
    await client.post("/v1/users/mina/block", headers=theo.headers)
    assert await rows(engine) == {("mina", "ada"), ("ada", "theo")}
    # Unblocking restores nothing, just as follows are not restored.
    await client.delete("/v1/users/mina/block", headers=theo.headers)
    assert await close_friends(client, mina) == ["ada"]
    assert await close_friends(client, theo) == []


async def test_the_friend_is_never_told(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await follow(client, theo, "mina")
    await follow(client, mina, "theo")
    paths = (
        "/v1/users/mina",
        "/v1/users/mina/followers",
        "/v1/users/mina/following",
        "/v1/users/theo/followers",
        "/v1/users/theo/following",
        "/v1/me",
        LIST,
    )

    async def theos_views() -> list[Any]:
        views = []
        for path in paths:
            response = await client.get(path, headers=theo.headers)
            assert response.status_code == 200, response.text
            views.append(response.json())
        return views

    before = await theos_views()
    await add(client, mina, "theo")
    after = await theos_views()
    # Every view Theo has is exactly what it was: no field moved, none appeared.
    assert after == before
    assert "close" not in str(after).lower()
    # Mina's own views of Theo carry no flag either: the list is the one place it shows.
    assert "close" not in (await client.get("/v1/users/theo", headers=mina.headers)).text


async def test_the_list_leaves_out_accounts_gone_from_view(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    await sign_up("theo")
    await sign_up("ada")
    await add(client, mina, "theo")
    await add(client, mina, "ada")
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE users SET status = 'suspended' WHERE handle = 'theo'"))
    assert await close_friends(client, mina) == ["ada"]
    assert_problem(await add(client, mina, "theo"), 404, "user_not_found")


async def test_a_private_account_can_be_a_close_friend(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await patch_me(client, theo, is_private=True)
    assert (await add(client, mina, "theo")).status_code == 204
    assert await close_friends(client, mina) == ["theo"]


@pytest.mark.parametrize("limit", [1, 2, 100])
async def test_the_list_pages_newest_first(
    client: httpx.AsyncClient, sign_up: SignUp, limit: int
) -> None:
    mina = await sign_up("mina")
    for i in range(5):
        await sign_up(f"pal{i}")
        await add(client, mina, f"pal{i}")
    listed = await walk(client, mina, LIST, limit)
    assert [p["handle"] for p in listed] == [f"pal{i}" for i in reversed(range(5))]


async def test_the_list_costs_the_same_few_queries_at_any_size(
    client: httpx.AsyncClient, app: FastAPI, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")

    async def cost() -> int:
        with statements(app) as seen:
            assert (await client.get(LIST, headers=mina.headers)).status_code == 200
        return len(seen)

    await sign_up("pal")
    await add(client, mina, "pal")
    few = await cost()
    for i in range(12):
        await sign_up(f"pal{i}")
        await add(client, mina, f"pal{i}")
    assert await cost() == few <= 2


async def test_the_routes_are_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    put = spec["paths"]["/v1/me/close-friends/{handle}"]["put"]
    listed = spec["paths"]["/v1/me/close-friends"]["get"]
    for operation in (put, spec["paths"]["/v1/me/close-friends/{handle}"]["delete"], listed):
        assert operation["tags"] == ["graph"]
        assert "\n" not in operation["summary"]
        assert "401" in operation["responses"]
    assert {"204", "404", "422"} <= set(put["responses"])
