"""Every query of memories, clips and hashtags."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.kinds import MemoryStatus
from keepsake.memories.models import Clip, Memory, MemoryHashtag


async def insert(
    db: AsyncSession, memory: Memory, clips: Sequence[Clip], tags: Sequence[str]
) -> None:
    db.add(memory)
    await db.flush()
    db.add_all(clips)
    db.add_all(
        MemoryHashtag(memory_id=memory.id, tag=t, created_at=memory.created_at) for t in tags
    )
    await db.flush()


async def get(db: AsyncSession, memory_id: uuid.UUID, *, lock: bool = False) -> Memory | None:
    query = select(Memory).where(Memory.id == memory_id)
    if lock:
        query = query.with_for_update()
    return await db.scalar(query)


async def clips_of(
    db: AsyncSession, memory_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[Clip]]:
    rows = await db.scalars(
        select(Clip).where(Clip.memory_id.in_(memory_ids)).order_by(Clip.memory_id, Clip.position)
    )
    found: dict[uuid.UUID, list[Clip]] = {memory_id: [] for memory_id in memory_ids}
    for clip in rows:
        found[clip.memory_id].append(clip)
    return found


async def tags_of(
    db: AsyncSession, memory_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    rows = await db.execute(
        select(MemoryHashtag.memory_id, MemoryHashtag.tag).where(
            MemoryHashtag.memory_id.in_(memory_ids)
        )
    )
    found: dict[uuid.UUID, list[str]] = {memory_id: [] for memory_id in memory_ids}
    for memory_id, tag in rows:
        found[memory_id].append(tag)
    return found


async def replace_tags(db: AsyncSession, memory: Memory, tags: Sequence[str]) -> None:
    await db.execute(delete(MemoryHashtag).where(MemoryHashtag.memory_id == memory.id))
    db.add_all(
        MemoryHashtag(memory_id=memory.id, tag=t, created_at=memory.created_at) for t in tags
    )
    await db.flush()


async def all_by_author(db: AsyncSession, author_id: uuid.UUID) -> list[Memory]:
    """Every memory of the author, whatever its status or visibility, oldest first."""
    query = select(Memory).where(Memory.author_id == author_id)
    return list((await db.scalars(query.order_by(Memory.created_at, Memory.id))).all())


async def delete_memory(db: AsyncSession, memory: Memory) -> None:
    await db.delete(memory)
    await db.flush()


async def save_clip(db: AsyncSession, clip_id: uuid.UUID, **values: object) -> None:
    await db.execute(update(Clip).where(Clip.id == clip_id).values(**values))


async def stuck(db: AsyncSession, *, now: datetime, limit: int) -> list[Memory]:
    """Memories still processing past their deadline, locked for one reconciler at a time."""
    query = (
        select(Memory)
        .where(Memory.status == MemoryStatus.processing, Memory.processing_deadline < now)
        .order_by(Memory.processing_deadline)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await db.scalars(query)).all())
