"""What follows in the other domains, in the same transaction, when a memory leaves
`processing` or is deleted."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.memories.models import Memory
from keepsake.missions.entries import enter_memory, withdraw_memory
from keepsake.notifications import service as notifications
from keepsake.security import utcnow


async def finished(db: AsyncSession, memory: Memory, *, ready: bool) -> None:
    """The author is told either way; a ready memory enters its mission, with its points,
    so it is never ready without them."""
    await notifications.memory_finished(
        db, memory_id=memory.id, author_id=memory.author_id, ready=ready
    )
    if ready:
        await enter_memory(db, memory, now=utcnow())


async def deleting(db: AsyncSession, memory_id: uuid.UUID) -> None:
    """Its mission entry is withdrawn (with its points) while the mission is still open."""
    await withdraw_memory(db, memory_id, now=utcnow())
