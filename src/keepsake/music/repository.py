"""Queries of the music library."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.music.models import MusicTrack
from keepsake.pagination import Cursor, keyset_before


async def get(db: AsyncSession, track_id: uuid.UUID) -> MusicTrack | None:
    return await db.get(MusicTrack, track_id)


async def get_for_update(db: AsyncSession, track_id: uuid.UUID) -> MusicTrack | None:
    """The track, locked until the transaction ends, so a concurrent delete waits for it."""
    return await db.get(MusicTrack, track_id, with_for_update=True)


async def page(db: AsyncSession, *, limit: int, after: Cursor | None) -> list[MusicTrack]:
    query = (
        select(MusicTrack)
        .where(keyset_before(MusicTrack.created_at, MusicTrack.id, after))
        .order_by(MusicTrack.created_at.desc(), MusicTrack.id.desc())
        .limit(limit + 1)
    )
    return list((await db.scalars(query)).all())


async def add(db: AsyncSession, track: MusicTrack) -> None:
    db.add(track)
    await db.flush()


async def delete_track(db: AsyncSession, track_id: uuid.UUID) -> str | None:
    """Delete the track in one statement; its storage key, or None when there was none.

    Memories playing it keep working without music (`ON DELETE SET NULL`).
    """
    deleted = await db.execute(
        delete(MusicTrack).where(MusicTrack.id == track_id).returning(MusicTrack.storage_key)
    )
    return deleted.scalar_one_or_none()
