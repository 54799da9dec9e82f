"""In-app notifications: who is told what, batching of claps, read state and privacy."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.claps import adding
from keepsake.memories import tasks as memory_tasks
from keepsake.notifications.service import defer_delivery
from keepsake.worker import job_resources
from tests.conftest import Member
from tests.graph.test_graph import follow, statements
from tests.profiles.test_profiles import assert_problem, patch_me

SignUp = Callable[..., Any]
Json = dict[str, Any]
LIST = "/v1/notifications"
READ = "/v1/notifications/read"


async def inbox(client: httpx.AsyncClient, member: Member, **params: Any) -> list[Json]:
    response = await client.get(LIST, headers=member.headers, params=params)
    assert response.status_code == 200, response.text
    items: list[Json] = response.json()["items"]
    return items


async def insert_memory(
    engine: AsyncEngine, author: Member, *, status: str = "ready", visibility: str = "public"
) -> str:
    """A memory row without media: notifications only need it to exist."""
    memory_id = str(uuid.uuid4())
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO memories (id, author_id, status, visibility)"
                " VALUES (:id, :author, CAST(:status AS memory_status),"
                " CAST(:visibility AS memory_visibility))"
            ),
            {"id": memory_id, "author": author.id, "status": status, "visibility": visibility},
        )
    return memory_id


async def clap(
    client: httpx.AsyncClient, member: Member, memory_id: str, count: int
) -> httpx.Response:
    return await client.post(
        f"/v1/memories/{memory_id}/claps", json={"count": count}, headers=member.headers
    )


async def clap_directly(app: FastAPI, member: Member, memory_id: str, count: int) -> None:
    """The clap's statement and push in their own transaction, as the clap request runs
    them, past the route's own checks."""
    async with app.state.sessionmaker() as db, db.begin():
        added = await adding.add(
            db, viewer_id=uuid.UUID(member.id), memory_id=uuid.UUID(memory_id), count=count
        )
        if added is not None and added.new_batch is not None:
            await defer_delivery(db, added.new_batch)


async def deliver_jobs(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'push:deliver'")
        )
    return int(found or 0)


async def read(client: httpx.AsyncClient, member: Member, body: Json) -> httpx.Response:
    return await client.post(READ, json=body, headers=member.headers)


async def test_a_follow_tells_the_followee(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await follow(client, theo, "mina")
    [item] = await inbox(client, mina)
    assert item["kind"] == "follow"
    assert item["actors"] == [
        {"id": theo.id, "handle": "theo", "display_name": "Theo", "avatar": None}
    ]
    assert item["actor_count"] == 1
    assert (item["memory"], item["count"], item["read"]) == (None, None, False)
    assert await inbox(client, theo) == []

    # Following again while it is unread does not repeat it; it only moves it up.
    await client.delete("/v1/users/mina/follow", headers=theo.headers)
    await follow(client, theo, "mina")
    [again] = await inbox(client, mina)
    assert again["id"] == item["id"]
    assert again["updated_at"] > item["updated_at"]


async def test_a_follow_request_and_its_approval(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await patch_me(client, mina, is_private=True)
    await follow(client, theo, "mina")
    [asked] = await inbox(client, mina)
    assert (asked["kind"], asked["actors"][0]["handle"]) == ("follow_request", "theo")

    requests = (await client.get("/v1/me/follow-requests", headers=mina.headers)).json()
    request_id = requests["items"][0]["id"]
    approved = await client.post(
        f"/v1/me/follow-requests/{request_id}/approve", headers=mina.headers
    )
    assert approved.status_code == 204
    [told] = await inbox(client, theo)
    assert (told["kind"], told["actors"][0]["handle"]) == ("follow_approved", "mina")


async def test_claps_gather_in_one_notification_while_unread(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    ada, theo, lena = await sign_up("ada"), await sign_up("theo"), await sign_up("lena")
    memory = await insert_memory(engine, mina)
    for member, count in ((ada, 3), (theo, 2), (lena, 5), (ada, 1)):
        assert (await clap(client, member, memory, count)).status_code == 200

    [batch] = await inbox(client, mina)
    assert batch["kind"] == "claps"
    assert batch["memory"] == {"id": memory}
    assert batch["count"] == 11
    # The distinct people, most recent first: Ada clapped again last.
    assert [a["handle"] for a in batch["actors"]] == ["ada", "lena", "theo"]
    assert batch["actor_count"] == 3
    assert await deliver_jobs(engine) == 1

    # Once read, the next clap starts a new batch (and a new push).
    assert (await read(client, mina, {"ids": [batch["id"]]})).status_code == 204
    await clap(client, theo, memory, 4)
    fresh, old = await inbox(client, mina)
    assert (fresh["count"], fresh["read"], [a["handle"] for a in fresh["actors"]]) == (
        4,
        False,
        ["theo"],
    )
    assert (old["id"], old["count"], old["read"]) == (batch["id"], 11, True)
    assert await deliver_jobs(engine) == 2


async def test_concurrent_claps_add_up_in_one_batch(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    clappers = [await sign_up(f"pal{i}") for i in range(12)]
    memory = await insert_memory(engine, mina)
    await asyncio.gather(*(clap_directly(app, pal, memory, 2) for pal in clappers))
    [batch] = await inbox(client, mina)
    assert (batch["count"], batch["actor_count"], len(batch["actors"])) == (24, 12, 3)
    assert await deliver_jobs(engine) == 1


async def test_switched_off_kinds_create_nothing(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    response = await patch_me(client, mina, notification_prefs={"follow": False, "claps": False})
    assert response.status_code == 200, response.text
    await follow(client, theo, "mina")
    memory = await insert_memory(engine, mina)
    assert (await clap(client, theo, memory, 3)).status_code == 200
    assert await inbox(client, mina) == []
    assert await deliver_jobs(engine) == 0

    # Other kinds still arrive.
    await follow(client, mina, "theo")
    assert [item["kind"] for item in await inbox(client, theo)] == ["follow"]


async def test_nobody_is_told_about_themselves(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    memory = await insert_memory(engine, mina)
    await clap_directly(app, mina, memory, 3)
    assert await inbox(client, mina) == []


@pytest.mark.parametrize("who_blocks", ["author", "clapper"])
async def test_no_notification_across_a_block(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, who_blocks: str
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    memory = await insert_memory(engine, mina)
    blocker, blocked = (mina, theo) if who_blocks == "author" else (theo, mina)
    response = await client.post(f"/v1/users/{blocked.handle}/block", headers=blocker.headers)
    assert response.status_code == 204
    # Past the API, which already refuses the clap: the rule holds in notifications too.
    await clap_directly(app, theo, memory, 2)
    assert await inbox(client, mina) == []


async def test_people_who_left_sight_drop_out_of_the_list(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    ada, lena = await sign_up("ada"), await sign_up("lena")
    await follow(client, theo, "mina")
    memory = await insert_memory(engine, mina)
    await clap(client, ada, memory, 2)
    await clap(client, lena, memory, 3)
    assert [item["kind"] for item in await inbox(client, mina)] == ["claps", "follow"]

    await client.post("/v1/users/theo/block", headers=mina.headers)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE users SET status = 'suspended' WHERE handle = 'lena'"))
    [claps] = await inbox(client, mina)
    assert [a["handle"] for a in claps["actors"]] == ["ada"]
    assert claps["actor_count"] == 1
    # The count is the author's own number about their memory: it stays whole.
    assert claps["count"] == 5

    await client.post("/v1/users/mina/block", headers=ada.headers)
    assert await inbox(client, mina) == []


async def test_read_marks_only_your_own(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina, theo, ada = await sign_up("mina"), await sign_up("theo"), await sign_up("ada")
    await follow(client, theo, "mina")
    await follow(client, ada, "mina")
    first, second = await inbox(client, mina)

    # Someone else's ids and unknown ids are ignored, not refused.
    assert (await read(client, theo, {"ids": [first["id"]]})).status_code == 204
    assert (await read(client, mina, {"ids": [str(uuid.uuid4())]})).status_code == 204
    assert [item["read"] for item in await inbox(client, mina)] == [False, False]

    assert (await read(client, mina, {"ids": [second["id"]]})).status_code == 204
    assert [item["read"] for item in await inbox(client, mina)] == [False, True]
    assert (await read(client, mina, {"all": True})).status_code == 204
    assert [item["read"] for item in await inbox(client, mina)] == [True, True]


@pytest.mark.parametrize(
    "body",
    [{}, {"ids": []}, {"all": False}, {"ids": ["nope"]}, {"all": True, "ids": [str(uuid.uuid4())]}],
)
async def test_read_needs_ids_or_all(
    client: httpx.AsyncClient, sign_up: SignUp, body: Json
) -> None:
    mina = await sign_up("mina")
    assert_problem(await read(client, mina, body), 422, "validation_error")


async def walk(client: httpx.AsyncClient, member: Member, limit: int) -> list[Json]:
    found: list[Json] = []
    cursor = None
    while True:
        params: Json = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await client.get(LIST, headers=member.headers, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        found += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return found


async def test_the_list_pages_by_latest_activity(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    memory = await insert_memory(engine, mina)
    pals = [await sign_up(f"pal{i}") for i in range(5)]
    await clap(client, pals[0], memory, 1)
    for pal in pals:
        await follow(client, pal, "mina")

    listed = await walk(client, mina, 2)
    assert [(i["kind"], i["actors"][0]["handle"]) for i in listed] == [
        *(("follow", f"pal{i}") for i in reversed(range(5))),
        ("claps", "pal0"),
    ]
    # A clap joining the batch brings it back to the top.
    await clap(client, pals[3], memory, 1)
    top = (await inbox(client, mina, limit=1))[0]
    assert (top["kind"], top["count"], top["actor_count"]) == ("claps", 2, 2)

    bad = await client.get(LIST, headers=mina.headers, params={"cursor": "nope"})
    assert_problem(bad, 422, "invalid_cursor")


async def test_the_list_costs_the_same_few_queries_at_any_size(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    memory = await insert_memory(engine, mina)

    async def cost() -> int:
        with statements(app) as seen:
            assert (await client.get(LIST, headers=mina.headers)).status_code == 200
        return len(seen)

    await follow(client, await sign_up("pal"), "mina")
    few = await cost()
    for i in range(8):
        pal = await sign_up(f"pal{i}")
        await follow(client, pal, "mina")
        await clap(client, pal, memory, 1)
    assert await cost() == few <= 3


async def test_a_finished_memory_tells_its_author(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    ready = await insert_memory(engine, mina, status="processing")
    failed = await insert_memory(engine, mina, status="processing")
    res = job_resources(app.state.settings, app.state.sessionmaker, app.state.storage)
    await memory_tasks._finish(res, uuid.UUID(ready))
    await memory_tasks._fail(res, uuid.UUID(failed), memory_tasks.PROCESSING_FAILED)
    items = await inbox(client, mina)
    assert [(i["kind"], i["memory"]["id"], i["actors"]) for i in items] == [
        ("memory_failed", failed, []),
        ("memory_ready", ready, []),
    ]


async def test_the_routes_are_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    tags = {tag["name"]: tag["description"] for tag in spec["tags"]}
    assert tags["notifications"]
    assert tags["devices"]
    listed = spec["paths"][LIST]["get"]
    marked = spec["paths"][READ]["post"]
    for operation in (listed, marked):
        assert operation["tags"] == ["notifications"]
        assert "\n" not in operation["summary"]
        assert {"401", "422"} <= set(operation["responses"])
    assert "204" in marked["responses"]
