"""Making missions, entries and admins for mission tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.memories import repository as memories
from keepsake.missions.entries import enter_memory
from tests.conftest import Member
from tests.fixtures.feed_helpers import seed_memory


@dataclass
class Clock:
    now: datetime

    def at(self, when: datetime) -> None:
        self.now = when


async def make_admin(engine: AsyncEngine, member: Member) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE users SET role = 'admin' WHERE id = :id"), {"id": uuid.UUID(member.id)}
        )


def mission_body(start: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "title": "First snow",
        "description": "The first snow where you are.",
        "hashtag": "#첫눈",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(days=7)).isoformat(),
        "winners_count": 2,
        "entry_points": 10,
        "winner_points": 100,
        **fields,
    }


async def create_mission(
    client: httpx.AsyncClient, admin: Member, start: datetime, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/admin/missions", json=mission_body(start, **fields), headers=admin.headers
    )
    assert response.status_code == 201, response.text
    mission: dict[str, Any] = response.json()
    return mission


async def post_ready(
    app: FastAPI,
    engine: AsyncEngine,
    author: Member,
    caption: str,
    *,
    made: datetime,
    ready: datetime,
    visibility: str = "public",
) -> str:
    """A memory made at `made` that becomes ready at `ready`, as the processing job ends."""
    memory_id = await seed_memory(
        engine, author, caption=caption, at=made, status="processing", visibility=visibility
    )
    async with app.state.sessionmaker() as db, db.begin():
        memory = await memories.get(db, uuid.UUID(memory_id), lock=True)
        assert memory is not None
        await db.execute(
            text("UPDATE memories SET status = 'ready' WHERE id = :id"), {"id": memory.id}
        )
        await enter_memory(db, memory, now=ready)
    return memory_id


async def balance(client: httpx.AsyncClient, member: Member) -> int:
    response = await client.get("/v1/me/points", headers=member.headers)
    assert response.status_code == 200, response.text
    held: int = response.json()["balance"]
    return held


async def ledger_rows(engine: AsyncEngine) -> tuple[int, int]:
    """(transfers, entries) in the whole ledger."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM points_transfers),"
                    " (SELECT count(*) FROM points_entries)"
                )
            )
        ).one()
    return int(row[0]), int(row[1])
