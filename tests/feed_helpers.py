"""Memories written straight into the database, and reading feeds as the apps do.

Feeds only read memories, so most feed tests seed them as `ready` rows (with clips whose
media keys are set) instead of running the media pipeline for each.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.memories.hashtags import parse_hashtags
from tests.conftest import Member

HOME, EXPLORE = "/v1/feed/home", "/v1/feed/explore"
_clock = itertools.count()
START = datetime(2026, 11, 1, tzinfo=UTC)


def tick() -> datetime:
    """A fresh instant, later than every earlier one in the test run."""
    return START + timedelta(minutes=next(_clock))


async def seed_memory(
    engine: AsyncEngine,
    author: Member,
    *,
    visibility: str = "public",
    caption: str = "",
    status: str = "ready",
    at: datetime | None = None,
    clips: int = 1,
) -> str:
    """A memory written straight into the database, with clips whose media keys are set."""
    memory_id = uuid.uuid4()
    created_at = at or tick()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO memories (id, author_id, status, visibility, caption, duration_s,"
                " created_at) VALUES (:id, :author, CAST(:status AS memory_status),"
                " CAST(:visibility AS memory_visibility), :caption, :duration, :at)"
            ),
            {
                "id": memory_id,
                "author": uuid.UUID(author.id),
                "status": status,
                "visibility": visibility,
                "caption": caption,
                "duration": 2.0 * clips,
                "at": created_at,
            },
        )
        for position in range(clips):
            folder = f"memories/{memory_id}/{position}"
            await conn.execute(
                text(
                    "INSERT INTO clips (id, memory_id, position, upload_id, source_key,"
                    " source_content_type, duration_s, width, height, video_key, poster_key)"
                    " VALUES (:id, :memory, :position, :upload, :source, 'video/mp4', 2.0,"
                    " 720, 1280, :video, :poster)"
                ),
                {
                    "id": uuid.uuid4(),
                    "memory": memory_id,
                    "position": position,
                    "upload": uuid.uuid4(),
                    "source": f"uploads/{author.id}/{uuid.uuid4()}",
                    "video": f"{folder}/video.mp4",
                    "poster": f"{folder}/poster.jpg",
                },
            )
        for tag in parse_hashtags(caption):
            await conn.execute(
                text("INSERT INTO memory_hashtags VALUES (:memory, :tag, :at)"),
                {"memory": memory_id, "tag": tag, "at": created_at},
            )
    return str(memory_id)


async def page(
    client: httpx.AsyncClient, viewer: Member, path: str, **params: Any
) -> tuple[list[str], str | None]:
    response = await client.get(path, params=params, headers=viewer.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return [m["id"] for m in body["items"]], body["next_cursor"]


async def ids(client: httpx.AsyncClient, viewer: Member, path: str) -> list[str]:
    return (await page(client, viewer, path, limit=100))[0]


async def walk(client: httpx.AsyncClient, viewer: Member, path: str, limit: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        items, cursor = await page(client, viewer, path, **params)
        assert len(items) <= limit
        seen += items
        if cursor is None:
            return seen


async def set_status(engine: AsyncEngine, member: Member, status: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE users SET status = CAST(:status AS account_status) WHERE id = :id"),
            {"status": status, "id": uuid.UUID(member.id)},
        )
