"""Entries: made when a tagged memory becomes ready, withdrawn, disqualified, restored.

Everything here runs inside the transaction of the change that causes it (the memory's
status becoming `ready`, its deletion, a moderator's hide), so an entry and its points
are committed together or not at all: no crash can leave an entry without its points.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.memories.models import Memory
from keepsake.missions import repository
from keepsake.missions.models import EntryStatus, MissionEntry, MissionStatus
from keepsake.points import service as points
from keepsake.points.models import TransferKind

log = structlog.get_logger("keepsake.missions")


async def enter_memory(db: AsyncSession, memory: Memory, *, now: datetime) -> None:
    """The memory just became ready: it is its author's entry in every open mission whose
    tag it carries, unless they already have one. One statement when no mission matches."""
    for mission in await repository.running_for(db, memory, now=now):
        entry = await repository.claim_entry(db, mission, memory)
        if entry is None:
            continue
        if entry.taken_back:
            # A new memory after a withdrawal: the points taken then come back.
            await points.give_back(
                db, mission_id=mission.id, user_id=entry.user_id, amount=entry.taken_back
            )
            entry.points, entry.taken_back = entry.points + entry.taken_back, 0
        elif await points.award(
            db,
            kind=TransferKind.entry,
            mission_id=mission.id,
            user_id=entry.user_id,
            amount=mission.entry_points,
        ):
            entry.points += mission.entry_points
        log.info("mission.entered", mission_id=str(mission.id), memory_id=str(memory.id))


async def _take_back(
    db: AsyncSession, entry: MissionEntry, kind: TransferKind, status: EntryStatus
) -> None:
    taken = await points.take_back(
        db, kind=kind, mission_id=entry.mission_id, user_id=entry.user_id, amount=entry.points
    )
    entry.points -= taken
    entry.taken_back += taken
    entry.status = status


async def withdraw_memory(db: AsyncSession, memory_id: uuid.UUID, *, now: datetime) -> None:
    """The memory is being deleted: before its mission closes, the entry and its points
    go with it; after, the award stands (the entry keeps its points, without a memory)."""
    entry = await repository.entry_by_memory(db, memory_id)
    if entry is None or entry.status != EntryStatus.entered:
        return
    mission = await repository.get(db, entry.mission_id)
    if mission is None or mission.status_at(now) == MissionStatus.closed:
        return
    await _take_back(db, entry, TransferKind.withdrawn, EntryStatus.withdrawn)


async def disqualify_memory(db: AsyncSession, memory_id: uuid.UUID) -> None:
    """A moderator hid the memory: its entry's points (winner's too) are taken back by a
    reversing transfer, as far as the balance allows. A repeat changes nothing."""
    entry = await repository.entry_by_memory(db, memory_id)
    if entry is not None and entry.status == EntryStatus.entered:
        await _take_back(db, entry, TransferKind.disqualified, EntryStatus.disqualified)


async def requalify_memory(db: AsyncSession, memory_id: uuid.UUID) -> None:
    """The hide was reversed: what was taken back is given again. A repeat changes nothing."""
    entry = await repository.entry_by_memory(db, memory_id)
    if entry is None or entry.status != EntryStatus.disqualified:
        return
    await points.give_back(
        db, mission_id=entry.mission_id, user_id=entry.user_id, amount=entry.taken_back
    )
    entry.points, entry.taken_back = entry.points + entry.taken_back, 0
    entry.status = EntryStatus.entered
