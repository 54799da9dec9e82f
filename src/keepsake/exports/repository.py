"""Every query of exports."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.exports.models import Export, ExportStatus


async def current(db: AsyncSession, user_id: uuid.UUID, *, now: datetime) -> Export | None:
    """The user's export in the making, or else their newest ready one still kept."""
    query = (
        select(Export)
        .where(
            Export.user_id == user_id,
            or_(
                Export.status == ExportStatus.pending,
                (Export.status == ExportStatus.ready) & (Export.expires_at > now),
            ),
        )
        .order_by(Export.created_at.desc())
        .limit(1)
    )
    return await db.scalar(query)


async def insert_pending(
    db: AsyncSession, *, user_id: uuid.UUID, deadline: datetime
) -> Export | None:
    """A new pending export; None when another request's is already there.

    The partial unique index decides between racing requests: the loser waits for the
    winner's commit and inserts nothing.
    """
    query = (
        insert(Export)
        .values(id=uuid.uuid4(), user_id=user_id, status=ExportStatus.pending, deadline=deadline)
        .on_conflict_do_nothing(
            index_elements=[Export.user_id], index_where=text("status = 'pending'")
        )
        .returning(Export)
    )
    return await db.scalar(query)


async def get(db: AsyncSession, export_id: uuid.UUID, *, lock: bool = False) -> Export | None:
    query = select(Export).where(Export.id == export_id)
    if lock:
        query = query.with_for_update()
    return await db.scalar(query)


async def stuck(db: AsyncSession, *, now: datetime, limit: int) -> list[Export]:
    """Pending exports past their deadline, locked for one reconciler at a time."""
    query = (
        select(Export)
        .where(Export.status == ExportStatus.pending, Export.deadline < now)
        .order_by(Export.deadline)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await db.scalars(query)).all())


async def expired(db: AsyncSession, *, now: datetime, limit: int) -> list[Export]:
    query = (
        select(Export)
        .where(Export.expires_at < now)
        .order_by(Export.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await db.scalars(query)).all())


async def delete(db: AsyncSession, exports: Sequence[Export]) -> None:
    for export in exports:
        await db.delete(export)
    await db.flush()
