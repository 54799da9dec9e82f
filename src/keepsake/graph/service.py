"""Rules of the social graph."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.graph import repository


async def counts(db: AsyncSession, user_id: uuid.UUID) -> tuple[int, int]:
    """(followers, following); only ever shown to the owner."""
    return await repository.counts(db, user_id)
