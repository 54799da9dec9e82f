"""Queries of profiles: the note history (the profile itself is the `users` row)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.pagination import Cursor, keyset_before
from keepsake.profiles.models import NoteHistory


def add_note(db: AsyncSession, *, user_id: uuid.UUID, note: str) -> None:
    """Queued with the profile change, so both are written in the request's one flush."""
    db.add(NoteHistory(id=uuid.uuid4(), user_id=user_id, note=note))


async def notes(
    db: AsyncSession, user_id: uuid.UUID, *, limit: int, after: Cursor | None
) -> list[NoteHistory]:
    query = (
        select(NoteHistory)
        .where(
            NoteHistory.user_id == user_id,
            keyset_before(NoteHistory.created_at, NoteHistory.id, after),
        )
        .order_by(NoteHistory.created_at.desc(), NoteHistory.id.desc())
        .limit(limit + 1)
    )
    return list((await db.scalars(query)).all())
