"""Queries of uploads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.media.models import Upload


async def add(db: AsyncSession, upload: Upload) -> None:
    db.add(upload)
    await db.flush()


async def for_use(db: AsyncSession, ids: Sequence[uuid.UUID], owner_id: uuid.UUID) -> list[Upload]:
    """The owner's uploads among `ids`, locked so that two requests cannot use one twice."""
    query = (
        select(Upload)
        .where(Upload.id.in_(ids), Upload.owner_id == owner_id)
        .order_by(Upload.id)
        .with_for_update()
    )
    return list((await db.scalars(query)).all())


async def open_count(db: AsyncSession, owner_id: uuid.UUID) -> int:
    """The owner's unused, unexpired uploads, counted under a lock on the owner's uploads so
    that two concurrent requests cannot both pass a cap."""
    await db.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"uploads:{owner_id}", 0)))
    )
    query = select(func.count()).where(
        Upload.owner_id == owner_id, Upload.used_at.is_(None), Upload.expires_at > func.now()
    )
    return await db.scalar(query) or 0


async def mark_used(db: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    await db.execute(update(Upload).where(Upload.id.in_(ids)).values(used_at=func.now()))


async def expired_unused(db: AsyncSession, *, limit: int) -> list[Upload]:
    query = (
        select(Upload)
        .where(Upload.used_at.is_(None), Upload.expires_at < func.now())
        .order_by(Upload.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await db.scalars(query)).all())


async def delete(db: AsyncSession, uploads: Sequence[Upload]) -> None:
    for upload in uploads:
        await db.delete(upload)
