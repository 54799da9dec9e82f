"""Hashtag search: open missions' tags first, then prefixes (Hangul included) most recent
first, only public memories' tags."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Member
from tests.missions.helpers import create_mission, make_admin


async def _items(
    client: httpx.AsyncClient, headers: dict[str, str], q: str, **params: Any
) -> list[dict[str, Any]]:
    response = await client.get("/v1/search/hashtags", params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _tags(client: httpx.AsyncClient, headers: dict[str, str], q: str) -> list[str]:
    return [item["tag"] for item in await _items(client, headers, q)]


async def _use(engine: AsyncEngine, author: Member, used: list[tuple[str, str, int]]) -> None:
    """A memory of `author` per (tag, visibility, days ago the tag was used)."""
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        for tag, visibility, days_ago in used:
            memory = (
                await conn.execute(
                    text(
                        "INSERT INTO memories (id, author_id, status, caption, visibility,"
                        " created_at, updated_at) VALUES (gen_random_uuid(), :author, 'ready',"
                        " :caption, :visibility, now(), now()) RETURNING id"
                    ),
                    {"author": author.id, "caption": f"#{tag}", "visibility": visibility},
                )
            ).scalar_one()
            await conn.execute(
                text("INSERT INTO memory_hashtags VALUES (:memory, :tag, :at)"),
                {"memory": memory, "tag": tag, "at": now - timedelta(days=days_ago)},
            )


async def test_prefixes_recent_first_public_only(
    client: httpx.AsyncClient, sign_up: Callable[..., Any], engine: AsyncEngine
) -> None:
    member = await sign_up("mina")
    await _use(
        engine,
        member,
        [
            ("첫눈", "public", 3),
            ("첫사랑", "public", 1),
            ("첫날밤", "only_me", 0),
            ("snow", "public", 2),
        ],
    )
    assert await _tags(client, member.headers, "첫") == ["첫사랑", "첫눈"]
    assert await _tags(client, member.headers, "#첫눈") == ["첫눈"]
    assert await _tags(client, member.headers, "SN") == ["snow"]
    assert await _tags(client, member.headers, "%") == []
    assert all(item["mission"] is None for item in await _items(client, member.headers, "첫"))


async def test_open_missions_tags_come_first_with_their_mission(
    client: httpx.AsyncClient, sign_up: Callable[..., Any], engine: AsyncEngine
) -> None:
    admin = await sign_up("operator")
    await make_admin(engine, admin)
    member = await sign_up("mina")
    await _use(
        engine,
        member,
        [("첫사랑", "public", 1), ("첫차", "public", 2), ("첫눈", "public", 30)],
    )
    now = datetime.now(UTC).replace(microsecond=0)
    snow = await create_mission(client, admin, now - timedelta(hours=1), hashtag="#첫눈")
    steps = await create_mission(client, admin, now - timedelta(hours=2), hashtag="첫걸음")
    # Not open: scheduled, past its end (judging), and closed early.
    await create_mission(client, admin, now + timedelta(days=1), hashtag="첫차")
    await create_mission(client, admin, now - timedelta(days=10), hashtag="첫사랑")
    early = await create_mission(client, admin, now - timedelta(hours=3), hashtag="첫인상")
    closed = await client.post(f"/v1/admin/missions/{early['id']}/close", headers=admin.headers)
    assert closed.status_code == 200, closed.text

    def named(mission: dict[str, Any]) -> dict[str, Any]:
        return {
            "tag": mission["hashtag"],
            "mission": {k: mission[k] for k in ("id", "title", "ends_at")},
        }

    # The latest opened first; a mission's tag once, with its mission, even never used.
    expected = [
        named(snow),
        named(steps),
        {"tag": "첫사랑", "mission": None},
        {"tag": "첫차", "mission": None},
    ]
    assert await _items(client, member.headers, "첫") == expected
    assert await _items(client, member.headers, unicodedata.normalize("NFD", "#첫")) == expected
    assert await _items(client, member.headers, "첫", limit=1) == expected[:1]
    assert await _items(client, member.headers, "첫", limit=3) == expected[:3]
    assert await _items(client, member.headers, "첫눈") == [named(snow)]
    assert await _items(client, member.headers, "첫인") == []
