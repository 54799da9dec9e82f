"""Feeds: home, explore and hashtags — order, cursors, the end, what a card carries, and
the cost of a page in statements (privacy rules: `tests/feeds/test_privacy.py`).

Most memories here are written straight into the database as `ready` (feeds only read
them); one test makes its memory through the real upload and media pipeline.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.accounts.auth_cache import AuthCache
from keepsake.memories.schemas import MemoryPublic
from keepsake.pagination import Page
from tests.fixtures.feed_helpers import EXPLORE, HOME, ids, page, seed_memory, tick, walk
from tests.fixtures.media_factory import write_video
from tests.fixtures.memory_helpers import create_memory, local_path, upload, wait_processed
from tests.graph.test_close_friends import add as add_close_friend
from tests.graph.test_graph import follow, statements
from tests.profiles.test_profiles import assert_problem

SignUp = Callable[..., Any]
Json = dict[str, Any]


async def test_home_is_followed_people_and_you_newest_first_and_it_ends(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo, ada, stranger = [await sign_up(h) for h in ("mina", "theo", "ada", "stranger")]
    for handle in ("theo", "ada"):
        await follow(client, mina, handle)
    made = [
        await seed_memory(engine, author, visibility="followers")
        for author in (theo, mina, ada, theo, stranger, ada)
    ]
    expected = [m for m in reversed(made) if m != made[4]]
    assert await walk(client, mina, HOME, limit=2) == expected
    items, cursor = await page(client, mina, HOME)
    assert (items, cursor) == (expected, None)
    # Someone who follows nobody and made nothing has an empty feed that ends at once.
    assert await page(client, await sign_up("newcomer"), HOME) == ([], None)


async def test_cursors_never_repeat_or_skip_while_memories_arrive(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await follow(client, mina, "theo")
    older = [await seed_memory(engine, theo) for _ in range(3)]
    # Three share one timestamp, so their ids must order them across page boundaries.
    same_instant = tick()
    tied = [await seed_memory(engine, theo, at=same_instant) for _ in range(3)]
    newer = [await seed_memory(engine, theo) for _ in range(3)]
    snapshot = list(reversed(newer)) + sorted(tied, reverse=True) + list(reversed(older))

    seen: list[str] = []
    arrived: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        items, cursor = await page(client, mina, HOME, **params)
        seen += items
        # New memories land above the cursor: this walk never shows them, and nothing
        # below it moves.
        arrived.append(await seed_memory(engine, theo))
        if cursor is None:
            break
    assert seen == snapshot
    assert await walk(client, mina, HOME, limit=4) == list(reversed(arrived)) + snapshot


async def test_hashtags_match_like_captions_and_page(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    tagged = [
        await seed_memory(engine, theo, caption=caption)
        for caption in ("Morning #Café", "#café again", "#CAFÉ and #walk", "cafe, no tag")
    ][:3]
    await seed_memory(engine, theo, caption="#café for friends", visibility="followers")
    newest_first = list(reversed(tagged))
    for tag in ("café", "Café", "%23caf%C3%A9", "CAFE\u0301"):
        assert await ids(client, mina, f"/v1/hashtags/{tag}/memories") == newest_first, tag
    assert await walk(client, mina, "/v1/hashtags/café/memories", limit=2) == newest_first
    assert await ids(client, mina, "/v1/hashtags/walk/memories") == [tagged[2]]
    assert await ids(client, mina, "/v1/hashtags/nothing/memories") == []
    await client.post("/v1/users/theo/mute", headers=mina.headers)
    assert await ids(client, mina, "/v1/hashtags/café/memories") == []
    too_long = "x" * 102
    response = await client.get(f"/v1/hashtags/{too_long}/memories", headers=mina.headers)
    assert_problem(response, 422, "validation_error")


def unsigned(memory: Json) -> Json:
    clips = [{**c, "video_url": c["video_url"].split("?")[0]} for c in memory["clips"]]
    return {**memory, "clips": [{**c, "poster_url": c["poster_url"].split("?")[0]} for c in clips]}


async def test_cards_carry_what_a_memory_read_does(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await follow(client, mina, "theo")
    made = await seed_memory(engine, theo, caption="Two clips #sea", clips=2)
    card = (await client.get(HOME, headers=mina.headers)).json()["items"][0]
    read = (await client.get(f"/v1/memories/{made}", headers=mina.headers)).json()
    # Signed URLs carry their expiry, which may tick between the two requests.
    assert unsigned(card) == unsigned(read)
    assert card["author"] == {"id": theo.id, "handle": "theo", "display_name": "Theo"}
    assert card["hashtags"] == ["sea"]
    assert [c["video_url"].split("?")[0].rsplit("/", 3)[-2] for c in card["clips"]] == ["0", "1"]
    assert card["my_claps"] == 0
    assert "clap_total" not in card


VISIBLE_TO_MINA = ("public", "followers", "close_friends")


@pytest.mark.parametrize(
    "path", [HOME, EXPLORE, "/v1/hashtags/sea/memories", "/v1/users/theo/memories"]
)
async def test_a_page_costs_the_same_statements_at_any_length(
    client: httpx.AsyncClient, app: FastAPI, engine: AsyncEngine, sign_up: SignUp, path: str
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await follow(client, mina, "theo")
    await add_close_friend(client, theo, "mina")
    # Explore and hashtags show public memories only; the others mix every audience.
    audiences = ("public",) if path in (EXPLORE, "/v1/hashtags/sea/memories") else VISIBLE_TO_MINA
    for n in range(24):
        visibility = audiences[n % len(audiences)]
        await seed_memory(engine, theo, caption="#sea", visibility=visibility, clips=1 + n % 3)
    clapped = await seed_memory(engine, theo, caption="#sea")
    await client.post(f"/v1/memories/{clapped}/claps", json={"count": 2}, headers=mina.headers)

    async def cost(limit: int) -> int:
        with statements(app) as seen:
            response = await client.get(path, params={"limit": limit}, headers=mina.headers)
        assert response.status_code == 200
        assert len(response.json()["items"]) == limit
        return len(seen)

    cache: AuthCache = app.state.auth_cache
    async with asyncio.timeout(5):
        await cache.wait_until(lambda c: c.active)
    # The clap above checked the session, which is cached since (see
    # `tests/accounts/test_auth_cache.py`): a feed page is its one statement; a person's
    # page reads the person first.
    expected = 2 if path.startswith("/v1/users/") else 1
    assert await cost(1) == await cost(20) == expected


async def test_a_memory_read_is_one_statement_after_sign_in(
    client: httpx.AsyncClient, app: FastAPI, engine: AsyncEngine, sign_up: SignUp
) -> None:
    mina = await sign_up("mina")
    made = await seed_memory(engine, mina, clips=3)
    cache: AuthCache = app.state.auth_cache
    async with asyncio.timeout(5):
        await cache.wait_until(lambda c: c.active)
    for expected in (2, 1):
        # The session the first time, then only the memory: the session is cached.
        with statements(app) as seen:
            response = await client.get(f"/v1/memories/{made}", headers=mina.headers)
        assert response.status_code == 200
        assert len(seen) == expected


async def test_bad_cursors_and_limits(client: httpx.AsyncClient, sign_up: SignUp) -> None:
    mina = await sign_up("mina")
    for path in (HOME, EXPLORE, "/v1/hashtags/sea/memories"):
        bad = await client.get(path, params={"cursor": "nope"}, headers=mina.headers)
        assert_problem(bad, 422, "invalid_cursor")
        too_many = await client.get(path, params={"limit": 101}, headers=mina.headers)
        assert_problem(too_many, 422, "validation_error")
        assert_problem(await client.get(path), 401, "not_authenticated")


@pytest.mark.usefixtures("worker")
async def test_a_processed_memory_reaches_every_feed_and_takes_claps(
    client: httpx.AsyncClient, sign_up: SignUp, tmp_path: Path
) -> None:
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await follow(client, mina, "theo")
    clip = write_video(tmp_path / "clip.mp4", seconds=0.5)
    upload_id = await upload(client, theo, clip, "video/mp4")
    made = await create_memory(
        client, theo, [upload_id], visibility="public", caption="Low tide #sea"
    )
    assert await ids(client, mina, HOME) == []
    claps = f"/v1/memories/{made['id']}/claps"
    early = await client.post(claps, json={"count": 2}, headers=mina.headers)
    assert_problem(early, 404, "memory_not_found")
    ready = await wait_processed(client, theo, made["id"])
    assert ready["status"] == "ready"
    clapped = await client.post(claps, json={"count": 2}, headers=mina.headers)
    assert clapped.json() == {"my_claps": 2}
    for path in (HOME, EXPLORE, "/v1/hashtags/sea/memories", "/v1/users/theo/memories"):
        response = await client.get(path, headers=mina.headers)
        [card] = response.json()["items"]
        assert (card["id"], card["my_claps"]) == (made["id"], 2)
        video = await client.get(local_path(card["clips"][0]["video_url"]))
        assert video.status_code == 200
    own = (await client.get(f"/v1/memories/{made['id']}", headers=theo.headers)).json()
    assert (own["clap_total"], own["my_claps"]) == (2, 0)


async def test_the_routes_are_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert any(t["name"] == "feeds" and t["description"] for t in spec["tags"])
    for path in ("/v1/feed/home", "/v1/feed/explore", "/v1/hashtags/{tag}/memories"):
        operation = spec["paths"][path]["get"]
        assert operation["tags"] == ["feeds"]
        assert operation["summary"]
        assert "\n" not in operation["summary"]
        assert {"200", "401", "422"} <= set(operation["responses"])
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert "MemoryPublic" in schema["$ref"]


@pytest.mark.parametrize("path", [HOME, EXPLORE, "/v1/hashtags/sea/memories"])
async def test_feed_pages_are_exactly_what_the_documented_model_makes_of_them(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, path: str
) -> None:
    # Feeds write their JSON without the model (for speed); the model is the API docs.
    mina, theo = await sign_up("mina"), await sign_up("theo")
    await follow(client, mina, "theo")
    scored = await seed_memory(engine, theo, caption="With music #sea", clips=2)
    async with engine.begin() as conn:
        track = await conn.scalar(
            text(
                "INSERT INTO music_tracks (id, title, artist, duration_s, storage_key)"
                " VALUES (gen_random_uuid(), 'Slow Morning', 'The Quiet Band', 182.5,"
                " 'music/slow.m4a') RETURNING id"
            )
        )
        await conn.execute(
            text("UPDATE memories SET music_track_id = :track WHERE id = :id"),
            {"track": track, "id": uuid.UUID(scored)},
        )
    own = await seed_memory(engine, mina, caption="Mine #sea")
    await client.post(f"/v1/memories/{own}/claps", json={"count": 3}, headers=theo.headers)
    await client.post(f"/v1/memories/{scored}/claps", json={"count": 2}, headers=mina.headers)

    response = await client.get(path, headers=mina.headers)
    body = response.json()
    assert {item["id"] for item in body["items"]} == {own, scored}
    # Byte for byte: `2.0` and `2` are equal once parsed, not to an app that casts.
    page = Page[MemoryPublic].model_validate_json(response.content)
    assert page.model_dump_json() == response.text
    cards = {item["id"]: item for item in body["items"]}
    assert cards[own]["clap_total"] == 3
    assert "clap_total" not in cards[scored]
    assert cards[scored]["my_claps"] == 2
    assert cards[scored]["music_track"]["title"] == "Slow Morning"
    assert cards[scored]["created_at"].endswith("Z")
    # A memory read is written the same way.
    for memory_id in (own, scored):
        read = await client.get(f"/v1/memories/{memory_id}", headers=mina.headers)
        assert MemoryPublic.model_validate_json(read.content).model_dump_json() == read.text
        assert read.json() == cards[memory_id]
