"""Hashtag search: prefixes, Hangul included, most recent first, only public memories' tags."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def _tags(client: httpx.AsyncClient, headers: dict[str, str], q: str) -> list[str]:
    response = await client.get("/v1/search/hashtags", params={"q": q}, headers=headers)
    assert response.status_code == 200, response.text
    return [item["tag"] for item in response.json()["items"]]


async def test_prefixes_recent_first_public_only(
    client: httpx.AsyncClient, sign_up: Callable[..., Any], engine: AsyncEngine
) -> None:
    member = await sign_up("mina")
    now = datetime.now(UTC)
    used = [
        ("첫눈", "public", 3),
        ("첫사랑", "public", 1),
        ("첫날밤", "only_me", 0),
        ("snow", "public", 2),
    ]
    async with engine.begin() as conn:
        for tag, visibility, days_ago in used:
            memory = (
                await conn.execute(
                    text(
                        "INSERT INTO memories (id, author_id, status, caption, visibility,"
                        " created_at, updated_at) VALUES (gen_random_uuid(), :author, 'ready',"
                        " :caption, :visibility, now(), now()) RETURNING id"
                    ),
                    {"author": member.id, "caption": f"#{tag}", "visibility": visibility},
                )
            ).scalar_one()
            await conn.execute(
                text("INSERT INTO memory_hashtags VALUES (:memory, :tag, :at)"),
                {"memory": memory, "tag": tag, "at": now - timedelta(days=days_ago)},
            )
    assert await _tags(client, member.headers, "첫") == ["첫사랑", "첫눈"]
    assert await _tags(client, member.headers, "#첫눈") == ["첫눈"]
    assert await _tags(client, member.headers, "SN") == ["snow"]
    assert await _tags(client, member.headers, "%") == []
