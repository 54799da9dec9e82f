"""Queries of the append-only audit log: writing an entry, the log's pages, a case's history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.moderation.models import AuditEntry
from keepsake.pagination import Cursor, keyset_before


async def audit(db: AsyncSession, entry: AuditEntry) -> None:
    db.add(entry)
    await db.flush()


async def audit_page(
    db: AsyncSession,
    *,
    target_id: uuid.UUID | None,
    actor_id: uuid.UUID | None,
    limit: int,
    after: Cursor | None,
) -> Sequence[AuditEntry]:
    query = select(AuditEntry).where(keyset_before(AuditEntry.created_at, AuditEntry.id, after))
    if target_id is not None:
        query = query.where(
            or_(AuditEntry.target_id == target_id, AuditEntry.target_user_id == target_id)
        )
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    query = query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit + 1)
    return (await db.scalars(query)).all()


async def history(
    db: AsyncSession, *, target_id: uuid.UUID, user_id: uuid.UUID
) -> Sequence[AuditEntry]:
    query = (
        select(AuditEntry)
        .where(or_(AuditEntry.target_id == target_id, AuditEntry.target_user_id == user_id))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(100)
    )
    return (await db.scalars(query)).all()
