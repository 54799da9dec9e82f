"""Queries of strikes and appeals, and the sweeps over them (lifting suspensions,
holding the purge)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import literal, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts.models import Strike, StrikeAction
from keepsake.moderation.models import Appeal, AppealStatus
from keepsake.pagination import Cursor, keyset_before


async def add_strike(db: AsyncSession, strike: Strike) -> None:
    db.add(strike)
    await db.flush()


async def open_strike(
    db: AsyncSession, *, user_id: uuid.UUID, action: StrikeAction, memory_id: uuid.UUID | None
) -> Strike | None:
    """The strike a restore or an unsuspension ends, if it is still running."""
    query = select(Strike).where(
        Strike.user_id == user_id, Strike.action == action, Strike.ended_at.is_(None)
    )
    if memory_id is not None:
        query = query.where(Strike.memory_id == memory_id)
    return await db.scalar(query.order_by(Strike.created_at.desc()).limit(1).with_for_update())


async def strikes_of(
    db: AsyncSession, user_id: uuid.UUID, *, limit: int, after: Cursor | None
) -> Sequence[tuple[Strike, Appeal | None]]:
    query = (
        select(Strike, Appeal)
        .outerjoin(Appeal, Appeal.strike_id == Strike.id)
        .where(Strike.user_id == user_id, keyset_before(Strike.created_at, Strike.id, after))
        .order_by(Strike.created_at.desc(), Strike.id.desc())
        .limit(limit + 1)
    )
    return [(row[0], row[1]) for row in await db.execute(query)]


async def strike(db: AsyncSession, strike_id: uuid.UUID, *, lock: bool = False) -> Strike | None:
    query = select(Strike).where(Strike.id == strike_id)
    return await db.scalar(query.with_for_update() if lock else query)


async def add_appeal(db: AsyncSession, appeal: Appeal) -> bool:
    """False when the strike already has its one appeal (a concurrent repeat included)."""
    stmt = insert(Appeal).values(
        id=appeal.id, strike_id=appeal.strike_id, text=appeal.text, created_at=appeal.created_at
    )
    result = await db.execute(stmt.on_conflict_do_nothing().returning(Appeal.id))
    return result.scalar_one_or_none() is not None


async def appeal(db: AsyncSession, appeal_id: uuid.UUID, *, lock: bool = False) -> Appeal | None:
    query = select(Appeal).where(Appeal.id == appeal_id)
    return await db.scalar(query.with_for_update() if lock else query)


async def appeal_of(db: AsyncSession, strike_id: uuid.UUID) -> Appeal | None:
    return await db.scalar(select(Appeal).where(Appeal.strike_id == strike_id))


async def appeals(
    db: AsyncSession, *, status: AppealStatus, limit: int, after: Cursor | None
) -> Sequence[tuple[Appeal, Strike]]:
    """Oldest first: whoever waited longest is answered first."""
    query = select(Appeal, Strike).join(Strike, Strike.id == Appeal.strike_id)
    query = query.where(Appeal.status == status)
    if after is not None:
        query = query.where(
            tuple_(Appeal.created_at, Appeal.id) > tuple_(literal(after.created_at), after.id)
        )
    query = query.order_by(Appeal.created_at, Appeal.id).limit(limit + 1)
    return [(row[0], row[1]) for row in await db.execute(query)]


async def due_lifts(db: AsyncSession, *, now: datetime, limit: int) -> Sequence[Strike]:
    """Suspensions whose `until` has come, locked for one sweeper."""
    query = (
        select(Strike)
        .where(
            Strike.action == StrikeAction.suspend,
            Strike.ended_at.is_(None),
            Strike.until.is_not(None),
            Strike.until <= now,
        )
        .order_by(Strike.until)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await db.scalars(query)).all()


async def all_strikes(
    db: AsyncSession, user_id: uuid.UUID
) -> Sequence[tuple[Strike, Appeal | None]]:
    query = (
        select(Strike, Appeal)
        .outerjoin(Appeal, Appeal.strike_id == Strike.id)
        .where(Strike.user_id == user_id)
        .order_by(Strike.created_at)
    )
    return [(row[0], row[1]) for row in await db.execute(query)]
