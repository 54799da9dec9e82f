"""Queries of devices."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.push.models import Device, Platform


async def register(
    db: AsyncSession, *, user_id: uuid.UUID, platform: Platform, token: str
) -> Device:
    """Add the token, or move it to this user: a token names one install, whoever signed in."""
    stmt = insert(Device).values(id=uuid.uuid4(), user_id=user_id, platform=platform, token=token)
    moved = Device.user_id != stmt.excluded.user_id
    upsert = stmt.on_conflict_do_update(
        index_elements=[Device.platform, Device.token],
        set_={
            "user_id": stmt.excluded.user_id,
            "registered_at": func.now(),
            # To its new owner the device is new.
            "created_at": case((moved, func.now()), else_=Device.created_at),
        },
    ).returning(Device)
    return (await db.scalars(upsert)).one()


async def keep_newest(db: AsyncSession, *, user_id: uuid.UUID, keep: int) -> None:
    """Forget the user's devices beyond the `keep` most recently registered."""
    newest = (
        select(Device.id)
        .where(Device.user_id == user_id)
        .order_by(Device.registered_at.desc(), Device.id.desc())
        .limit(keep)
    )
    await db.execute(delete(Device).where(Device.user_id == user_id, Device.id.not_in(newest)))


async def remove(db: AsyncSession, *, user_id: uuid.UUID, device_id: uuid.UUID) -> bool:
    result = await db.execute(
        delete(Device).where(Device.id == device_id, Device.user_id == user_id).returning(Device.id)
    )
    return result.first() is not None


async def of_user(db: AsyncSession, user_id: uuid.UUID) -> Sequence[Device]:
    return (await db.scalars(select(Device).where(Device.user_id == user_id))).all()


async def get(db: AsyncSession, device_id: uuid.UUID) -> Device | None:
    return await db.get(Device, device_id)


async def forget(db: AsyncSession, device_id: uuid.UUID) -> None:
    """Drop a device whose token the provider disowned."""
    await db.execute(delete(Device).where(Device.id == device_id))
