"""Missions across their times (the clock moved, never slept) and the entry rules."""

from __future__ import annotations

import asyncio
import unicodedata
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.media_factory import write_video
from tests.fixtures.memory_helpers import create_memory, upload, wait_processed
from tests.missions.helpers import (
    Clock,
    balance,
    create_mission,
    make_admin,
    mission_body,
    post_ready,
)

SignUp = Callable[..., Any]
HOUR = timedelta(hours=1)


async def _status(client: httpx.AsyncClient, member: Any, mission_id: str) -> str:
    response = await client.get(f"/v1/missions/{mission_id}", headers=member.headers)
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


async def test_lifecycle_follows_the_clock(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, clock: Clock
) -> None:
    admin, reader = await sign_up(), await sign_up()
    await make_admin(engine, admin)
    start = clock.now + HOUR
    mission = await create_mission(client, admin, start)
    assert mission["hashtag"] == "첫눈"
    assert await _status(client, reader, mission["id"]) == "scheduled"
    clock.at(start)
    assert await _status(client, reader, mission["id"]) == "open"
    clock.at(start + timedelta(days=7))
    assert await _status(client, reader, mission["id"]) == "judging"
    early = await client.post(f"/v1/admin/missions/{mission['id']}/close", headers=admin.headers)
    assert early.status_code == 409
    assert early.json()["code"] == "mission_not_open"
    listed = await client.get("/v1/missions", params={"status": "judging"}, headers=reader.headers)
    assert [m["id"] for m in listed.json()["items"]] == [mission["id"]]
    chosen = await client.post(
        f"/v1/admin/missions/{mission['id']}/winners",
        json={"memory_ids": []},
        headers=admin.headers,
    )
    assert chosen.status_code == 422


async def test_close_early_then_winners_close_it(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, clock: Clock
) -> None:
    admin, mina, joon = await sign_up(), await sign_up(), await sign_up()
    await make_admin(engine, admin)
    start = clock.now
    mission = await create_mission(client, admin, start)
    path = f"/v1/admin/missions/{mission['id']}"
    late = await client.patch(path, json={"winners_count": 5}, headers=admin.headers)
    assert late.status_code == 409
    assert late.json()["code"] == "mission_started"
    renamed = await client.patch(path, json={"title": "첫눈 오는 날"}, headers=admin.headers)
    assert renamed.json()["title"] == "첫눈 오는 날"
    won = await post_ready(
        app, engine, mina, "#첫눈 at last", made=start + HOUR, ready=start + HOUR
    )
    await post_ready(app, engine, joon, "also #첫눈", made=start + HOUR, ready=start + 2 * HOUR)
    early = await client.post(
        f"/v1/admin/missions/{mission['id']}/winners",
        json={"memory_ids": [won]},
        headers=admin.headers,
    )
    assert early.status_code == 409
    assert early.json()["code"] == "mission_not_judging"
    clock.at(start + 3 * HOUR)
    closed = await client.post(f"{path}/close", headers=admin.headers)
    assert closed.json()["status"] == "judging"
    not_entry = await client.post(
        f"{path}/winners", json={"memory_ids": [str(uuid.uuid4())]}, headers=admin.headers
    )
    assert not_entry.status_code == 422
    assert not_entry.json()["code"] == "not_an_entry"
    chosen = await client.post(f"{path}/winners", json={"memory_ids": [won]}, headers=admin.headers)
    assert chosen.status_code == 200
    assert chosen.json()["status"] == "closed"
    again = await client.post(f"{path}/winners", json={"memory_ids": [won]}, headers=admin.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "winners_already_chosen"
    assert await balance(client, mina) == 110
    assert await balance(client, joon) == 10
    entries = await client.get(f"/v1/missions/{mission['id']}/entries", headers=joon.headers)
    flags = {e["memory"]["id"]: e["winner"] for e in entries.json()["items"]}
    assert flags == {won: True, next(k for k in flags if k != won): False}
    notes = await client.get("/v1/notifications", headers=mina.headers)
    kinds = sorted(n["kind"] for n in notes.json()["items"])
    assert kinds == ["mission_closed", "mission_won"]
    assert {n["mission"]["id"] for n in notes.json()["items"]} == {mission["id"]}
    joon_notes = await client.get("/v1/notifications", headers=joon.headers)
    assert [n["kind"] for n in joon_notes.json()["items"]] == ["mission_closed"]


async def test_entry_rules(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, clock: Clock
) -> None:
    admin, mina, joon, hana, bora = [await sign_up() for _ in range(5)]
    await make_admin(engine, admin)
    start = clock.now - HOUR
    end = start + timedelta(days=7)
    mission = await create_mission(client, admin, start)
    # Made before the mission opened, ready after: not an entry.
    await post_ready(app, engine, mina, "#첫눈", made=start - HOUR, ready=start + HOUR)
    # Ready after it ended: not an entry.
    await post_ready(app, engine, bora, "#첫눈", made=end - HOUR, ready=end)
    # Decomposed Hangul, another case of the same tag: an entry.
    decomposed = unicodedata.normalize("NFD", "first #첫눈 here")
    first = await post_ready(app, engine, joon, decomposed, made=start, ready=start + HOUR)
    second = await post_ready(app, engine, joon, "#첫눈 again", made=start, ready=start + HOUR)
    untagged = await post_ready(app, engine, hana, "snow", made=start, ready=start + HOUR)
    edited = await client.patch(
        f"/v1/memories/{untagged}", json={"caption": "#첫눈 after all"}, headers=hana.headers
    )
    assert edited.status_code == 200
    for member, held in ((mina, 0), (bora, 0), (joon, 10), (hana, 0)):
        assert await balance(client, member) == held
    mine = (await client.get(f"/v1/missions/{mission['id']}", headers=joon.headers)).json()
    assert mine["my_entry"]["memory_id"] == first
    assert mine["my_entry"]["status"] == "entered"
    # Editing the entry's caption does not withdraw it.
    await client.patch(f"/v1/memories/{first}", json={"caption": "no tag"}, headers=joon.headers)
    assert await balance(client, joon) == 10
    # Deleting it while the mission is open withdraws it, by a reversing transfer.
    deleted = await client.delete(f"/v1/memories/{first}", headers=joon.headers)
    assert deleted.status_code == 204
    assert await balance(client, joon) == 0
    kinds = [
        i["kind"] for i in (await client.get("/v1/me/points", headers=joon.headers)).json()["items"]
    ]
    assert kinds == ["withdrawn", "entry"]
    # A new tagged memory is the entry again, and the points come back, once.
    await memories_second_is_not_entered(client, joon, mission["id"], second)
    again = await post_ready(app, engine, joon, "#첫눈 once more", made=start, ready=start + HOUR)
    mine = (await client.get(f"/v1/missions/{mission['id']}", headers=joon.headers)).json()
    assert mine["my_entry"]["memory_id"] == again
    assert await balance(client, joon) == 10


async def memories_second_is_not_entered(
    client: httpx.AsyncClient, member: Any, mission_id: str, memory_id: str
) -> None:
    mine = (await client.get(f"/v1/missions/{mission_id}", headers=member.headers)).json()
    assert mine["my_entry"]["memory_id"] != memory_id


async def test_award_stands_after_close(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, clock: Clock
) -> None:
    admin, mina = await sign_up(), await sign_up()
    await make_admin(engine, admin)
    start = clock.now - 3 * HOUR
    mission = await create_mission(
        client, admin, start, hashtag="#snow", ends_at=(start + 2 * HOUR).isoformat()
    )
    won = await post_ready(app, engine, mina, "#Snow", made=start, ready=start + HOUR)
    chosen = await client.post(
        f"/v1/admin/missions/{mission['id']}/winners",
        json={"memory_ids": [won]},
        headers=admin.headers,
    )
    assert chosen.status_code == 200
    assert (await client.delete(f"/v1/memories/{won}", headers=mina.headers)).status_code == 204
    assert await balance(client, mina) == 110
    mine = (await client.get(f"/v1/missions/{mission['id']}", headers=mina.headers)).json()
    assert mine["my_entry"] == {
        "memory_id": None,
        "status": "entered",
        "winner": True,
        "entered_at": mine["my_entry"]["entered_at"],
    }


async def test_hashtag_unique_while_missions_overlap(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, clock: Clock
) -> None:
    admin = await sign_up()
    await make_admin(engine, admin)
    await create_mission(client, admin, clock.now)
    overlap = await client.post(
        "/v1/admin/missions",
        json=mission_body(clock.now + timedelta(days=3), hashtag="첫눈"),
        headers=admin.headers,
    )
    assert overlap.status_code == 409
    assert overlap.json()["code"] == "hashtag_in_use"
    later = await create_mission(client, admin, clock.now + timedelta(days=7))
    assert later["hashtag"] == "첫눈"
    bad = await client.post(
        "/v1/admin/missions",
        json=mission_body(clock.now, hashtag="two words"),
        headers=admin.headers,
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_hashtag"
    loose = await client.post(
        "/v1/admin/missions",
        json=mission_body(clock.now, hashtag="x", winners_count="3"),
        headers=admin.headers,
    )
    assert loose.status_code == 422
    member = await sign_up()
    refused = await client.post(
        "/v1/admin/missions", json=mission_body(clock.now), headers=member.headers
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden_role"


@pytest.mark.usefixtures("worker")
async def test_a_processed_memory_enters_through_the_real_pipeline(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    sign_up: SignUp,
    clock: Clock,
    tmp_path: Path,
) -> None:
    admin, mina = await sign_up(), await sign_up()
    await make_admin(engine, admin)
    mission = await create_mission(client, admin, clock.now - HOUR)
    clip = await upload(client, mina, write_video(tmp_path / "snow.mp4"), "video/mp4")
    made = await create_memory(client, mina, [clip], caption="밤새 #첫눈")
    assert (await wait_processed(client, mina, made["id"]))["status"] == "ready"
    mine = (await client.get(f"/v1/missions/{mission['id']}", headers=mina.headers)).json()
    assert mine["my_entry"]["memory_id"] == made["id"]
    assert await balance(client, mina) == 10


async def test_concurrent_missions_with_one_tag_make_one(
    client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, clock: Clock
) -> None:
    admin = await sign_up()
    await make_admin(engine, admin)
    calls = [
        client.post(
            "/v1/admin/missions",
            json=mission_body(clock.now + timedelta(hours=n)),
            headers=admin.headers,
        )
        for n in range(10)
    ]
    codes = sorted(r.status_code for r in await asyncio.gather(*calls))
    assert codes == [201] + [409] * 9


async def test_entries_newest_first_by_pages_as_memories_are_seen(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, sign_up: SignUp, clock: Clock
) -> None:
    admin, reader, *authors = [await sign_up() for _ in range(6)]
    await make_admin(engine, admin)
    start = clock.now - HOUR
    mission = await create_mission(client, admin, start)
    made = [
        await post_ready(app, engine, who, "#첫눈", made=start + n * HOUR, ready=start + n * HOUR)
        for n, who in enumerate(authors[:2])
    ]
    hidden = await post_ready(
        app, engine, authors[2], "#첫눈", made=clock.now, ready=clock.now, visibility="only_me"
    )
    made.append(await post_ready(app, engine, authors[3], "#첫눈", made=start, ready=start + HOUR))
    path = f"/v1/missions/{mission['id']}/entries"
    first = (await client.get(path, params={"limit": 2}, headers=reader.headers)).json()
    rest = await client.get(
        path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=reader.headers
    )
    seen = [e["memory"]["id"] for e in first["items"] + rest.json()["items"]]
    assert seen == [made[1], made[0], made[2]] or seen == [made[1], made[2], made[0]]
    assert hidden not in seen
    assert rest.json()["next_cursor"] is None
    own = await client.get(path, headers=authors[2].headers)
    assert hidden in [e["memory"]["id"] for e in own.json()["items"]]
