"""Claps: the per-viewer limit under concurrency, idempotency, every refusal, what the
author sees, and that no other viewer ever gets a number from any memory endpoint."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Member
from tests.fixtures.feed_helpers import EXPLORE, HOME, seed_memory, set_status
from tests.graph.test_graph import follow
from tests.profiles.test_profiles import assert_problem

SignUp = Callable[..., Any]
Json = dict[str, Any]


async def clap(
    client: httpx.AsyncClient, viewer: Member, memory_id: str, count: int, key: str | None = None
) -> httpx.Response:
    headers = viewer.headers | ({"Idempotency-Key": key} if key else {})
    return await client.post(
        f"/v1/memories/{memory_id}/claps", json={"count": count}, headers=headers
    )


async def stored(engine: AsyncEngine, memory_id: str) -> dict[str, int]:
    """Each clapper's row, straight from the table."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT user_id, count FROM claps WHERE memory_id = :m"),
            {"m": uuid.UUID(memory_id)},
        )
        return {str(user): count for user, count in rows}


async def test_claps_add_up_and_stop_at_fifty(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    made = await seed_memory(engine, mina)
    for count, total in ((3, 3), (40, 43), (10, 50)):
        response = await clap(client, theo, made, count)
        assert response.status_code == 200, response.text
        assert response.json() == {"my_claps": total}
    assert_problem(await clap(client, theo, made, 1), 409, "clap_limit_reached")
    assert await stored(engine, made) == {theo.id: 50}
    read = (await client.get(f"/v1/memories/{made}", headers=theo.headers)).json()
    assert read["my_claps"] == 50
    assert "clap_total" not in read


async def test_twenty_concurrent_claps_never_pass_fifty(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    made = await seed_memory(engine, mina)
    responses = await asyncio.gather(*(clap(client, theo, made, 3) for _ in range(20)))
    assert await stored(engine, made) == {theo.id: 50}
    accepted = sorted(r.json()["my_claps"] for r in responses if r.status_code == 200)
    # Each request saw the one before it: 16 full steps of 3, one clamped to 50, then no room.
    assert accepted == [*range(3, 49, 3), 50]
    refused = [r for r in responses if r.status_code != 200]
    assert len(refused) == 3
    for response in refused:
        assert_problem(response, 409, "clap_limit_reached")


async def test_an_idempotency_key_counts_once(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    first, second = await seed_memory(engine, mina), await seed_memory(engine, mina)
    replies = [await clap(client, theo, first, 5, key="tap-1") for _ in range(3)]
    assert [r.json() for r in replies] == [{"my_claps": 5}] * 3
    together = await asyncio.gather(*(clap(client, theo, first, 5, key="tap-2") for _ in range(5)))
    assert [r.json() for r in together] == [{"my_claps": 10}] * 5
    # The key is the viewer's for one memory: the same key elsewhere is a new request.
    assert (await clap(client, theo, second, 5, key="tap-1")).json() == {"my_claps": 5}
    assert await stored(engine, first) == {theo.id: 10}
    reused = await clap(client, theo, first, 6, key="tap-1")
    assert_problem(reused, 422, "idempotency_key_reused")
    # A refused request keeps no key: once allowed, the retry counts.
    await clap(client, theo, first, 40)
    assert_problem(await clap(client, theo, first, 1, key="late"), 409, "clap_limit_reached")
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM claps"))
    assert (await clap(client, theo, first, 1, key="late")).json() == {"my_claps": 1}


async def test_refusals_look_like_the_memory_does_not_exist(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo, stranger = await sign_up("mina"), await sign_up("theo"), await sign_up("stranger")
    await follow(client, theo, "mina")
    followers_only = await seed_memory(engine, mina, visibility="followers")
    processing = await seed_memory(engine, mina, status="processing")
    failed = await seed_memory(engine, mina, status="failed")
    nobody = str(uuid.uuid4())

    own = await clap(client, mina, followers_only, 1)
    assert_problem(own, 403, "cannot_clap_own")
    assert_problem(await clap(client, mina, processing, 1), 403, "cannot_clap_own")
    missing = assert_problem(await clap(client, theo, nobody, 1), 404, "memory_not_found")
    for viewer, memory_id in (
        (stranger, followers_only),
        (theo, processing),
        (theo, failed),
    ):
        body = assert_problem(await clap(client, viewer, memory_id, 1), 404, "memory_not_found")
        assert body == missing
    await client.post("/v1/users/theo/block", headers=mina.headers)
    assert_problem(await clap(client, theo, followers_only, 1), 404, "memory_not_found")
    for count in (0, 51, -1):
        assert_problem(await clap(client, stranger, nobody, count), 422, "validation_error")
    response = await client.post(
        f"/v1/memories/{nobody}/claps", json={"count": 1, "extra": True}, headers=theo.headers
    )
    assert_problem(response, 422, "validation_error")
    assert_problem(
        await client.post(f"/v1/memories/{nobody}/claps", json={"count": 1}),
        401,
        "not_authenticated",
    )
    assert await stored(engine, followers_only) == {}


async def test_the_author_sees_the_total_and_who_clapped(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo, ada, kai = (
        await sign_up("mina"),
        await sign_up("theo"),
        await sign_up("ada"),
        await sign_up("kai"),
    )
    made = await seed_memory(engine, mina)
    await clap(client, theo, made, 4)
    await clap(client, ada, made, 7)
    await clap(client, kai, made, 2)
    await clap(client, theo, made, 1)

    read = (await client.get(f"/v1/memories/{made}", headers=mina.headers)).json()
    assert (read["clap_total"], read["my_claps"]) == (14, 0)
    listed = await client.get(f"/v1/memories/{made}/claps", headers=mina.headers)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    # Most recent first: Theo clapped again last.
    assert [(i["user"]["handle"], i["count"]) for i in items] == [
        ("theo", 5),
        ("kai", 2),
        ("ada", 7),
    ]
    assert set(items[0]["user"]) == {"id", "handle", "display_name", "avatar"}
    assert listed.json()["next_cursor"] is None

    walked: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = await client.get(f"/v1/memories/{made}/claps", params=params, headers=mina.headers)
        walked += [i["user"]["handle"] for i in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert walked == ["theo", "kai", "ada"]

    # Someone the author blocked, or who left, drops out of the list.
    await client.post("/v1/users/kai/block", headers=mina.headers)
    await set_status(engine, ada, "deleting")
    listed = await client.get(f"/v1/memories/{made}/claps", headers=mina.headers)
    assert [i["user"]["handle"] for i in listed.json()["items"]] == ["theo"]
    # ...and the total agrees with the list, in the memory and in the author's feed cards.
    read = (await client.get(f"/v1/memories/{made}", headers=mina.headers)).json()
    assert read["clap_total"] == 5
    mine = await client.get("/v1/users/mina/memories", headers=mina.headers)
    assert [m["clap_total"] for m in mine.json()["items"]] == [5]
    # Lifting the block counts Kai's claps again: nothing was deleted.
    await client.delete("/v1/users/kai/block", headers=mina.headers)
    read = (await client.get(f"/v1/memories/{made}", headers=mina.headers)).json()
    assert read["clap_total"] == 7


async def test_only_the_author_reads_the_clap_list(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo, stranger = await sign_up("mina"), await sign_up("theo"), await sign_up("stranger")
    await follow(client, theo, "mina")
    made = await seed_memory(engine, mina, visibility="followers")
    path = f"/v1/memories/{made}/claps"
    assert_problem(await client.get(path, headers=theo.headers), 403, "not_author")
    assert_problem(await client.get(path, headers=stranger.headers), 404, "memory_not_found")
    unknown = f"/v1/memories/{uuid.uuid4()}/claps"
    assert_problem(await client.get(unknown, headers=mina.headers), 404, "memory_not_found")
    bad = await client.get(path, params={"cursor": "x"}, headers=mina.headers)
    assert_problem(bad, 422, "invalid_cursor")


FORBIDDEN_KEYS = ("clap_total", "follower", "following")


def numbers_named(value: Any, path: str = "$") -> list[str]:
    """Every key anywhere in a JSON document that names a total or a follower count."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            lowered = key.lower()
            if any(word in lowered for word in FORBIDDEN_KEYS) or "count" in lowered:
                found.append(f"{path}.{key}")
            found += numbers_named(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += numbers_named(item, f"{path}[{index}]")
    return found


async def test_no_other_viewer_ever_gets_a_number(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await follow(client, theo, "mina")
    await follow(client, mina, "theo")
    made = await seed_memory(engine, mina, caption="Dusk #sea")
    theirs = await seed_memory(engine, theo, caption="Dawn #sea")
    await clap(client, theo, made, 9)
    await clap(client, mina, theirs, 2)

    async def views(viewer: Member) -> list[Json]:
        paths = (
            f"/v1/memories/{made}",
            f"/v1/memories/{theirs}",
            "/v1/users/mina/memories",
            "/v1/users/theo/memories",
            HOME,
            EXPLORE,
            "/v1/hashtags/sea/memories",
        )
        found = []
        for path in paths:
            response = await client.get(path, headers=viewer.headers)
            assert response.status_code == 200, (path, response.text)
            found.append(response.json())
        return found

    for viewer, own in ((theo, theirs), (mina, made)):
        memories: list[Json] = []
        for body in await views(viewer):
            memories += body.get("items", [body])
            # Only `my_claps` and, on the viewer's own memories, `clap_total`.
            for key in numbers_named(body):
                assert key.endswith(".clap_total"), key
        assert {m["id"] for m in memories} == {made, theirs}
        for memory in memories:
            assert ("clap_total" in memory) == (memory["id"] == own)
        assert {m["my_claps"] for m in memories if m["id"] != own} == {9 if viewer == theo else 2}
    answer = await clap(client, theo, made, 1)
    assert answer.json() == {"my_claps": 10}
    author_view = (await client.get(f"/v1/memories/{made}", headers=mina.headers)).json()
    assert author_view["clap_total"] == 10


async def test_the_routes_are_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert any(t["name"] == "claps" and t["description"] for t in spec["tags"])
    post = spec["paths"]["/v1/memories/{id}/claps"]["post"]
    listed = spec["paths"]["/v1/memories/{id}/claps"]["get"]
    for operation in (post, listed):
        assert operation["tags"] == ["claps"]
        assert "\n" not in operation["summary"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(post["responses"])
    assert "clap_limit_reached" in post["responses"]["409"]["description"]
    assert "cannot_clap_own" in post["responses"]["403"]["description"]
    assert {"200", "401", "403", "404", "422"} <= set(listed["responses"])
    assert "not_author" in listed["responses"]["403"]["description"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/ClapCreate")
    assert spec["components"]["schemas"]["ClapCreate"]["examples"] == [{"count": 3}]
