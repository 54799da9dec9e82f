"""Every query of missions and their entries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    ScalarSelect,
    SQLColumnExpression,
    String,
    Uuid,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts.models import User
from keepsake.feeds.clauses import VISIBLE, newest_first
from keepsake.feeds.repository import card_query
from keepsake.memories.models import Memory, MemoryHashtag
from keepsake.missions.models import EntryStatus, Mission, MissionEntry, MissionStatus
from keepsake.pagination import TOP, Cursor, keyset_before
from keepsake.readdb import ReadDb, ReadQuery

# Closed missions stay in the default list this long.
RECENTLY_CLOSED = timedelta(days=30)


async def save(db: AsyncSession, mission: Mission) -> bool:
    """Write the mission; False when a concurrent one took its tag for an overlapping
    period first (the exclusion constraint `ex_missions_hashtag_period`)."""
    db.add(mission)
    try:
        await db.flush()
    except IntegrityError as error:
        if "ex_missions_hashtag_period" in str(error.orig):
            return False
        raise
    return True


async def get(db: AsyncSession, mission_id: uuid.UUID, *, lock: bool = False) -> Mission | None:
    query = select(Mission).where(Mission.id == mission_id)
    if lock:
        query = query.with_for_update()
    return await db.scalar(query)


async def tag_taken(
    db: AsyncSession, *, hashtag: str, starts_at: datetime, ends_at: datetime, other_than: uuid.UUID
) -> bool:
    """Another mission with this tag runs at some moment of the period."""
    query = select(Mission.id).where(
        Mission.hashtag == hashtag,
        Mission.starts_at < ends_at,
        Mission.ends_at > starts_at,
        Mission.id != other_than,
    )
    return (await db.scalar(query.limit(1))) is not None


def _status_is(status: MissionStatus, now: datetime) -> ColumnElement[bool]:
    """SQL twin of `Mission.status_at`."""
    running = Mission.closed_at.is_(None)
    match status:
        case MissionStatus.scheduled:
            return and_(running, Mission.starts_at > now)
        case MissionStatus.open:
            return and_(running, Mission.starts_at <= now, Mission.ends_at > now)
        case MissionStatus.judging:
            return and_(running, Mission.ends_at <= now)
        case MissionStatus.closed:
            return and_(Mission.closed_at.is_not(None), Mission.closed_at > now - RECENTLY_CLOSED)


async def listed(
    db: AsyncSession,
    *,
    status: MissionStatus | None,
    now: datetime,
    limit: int,
    after: Cursor | None,
) -> Sequence[Mission]:
    """Missions by start, latest first: one status, or every one but long-closed ones."""
    shown = (
        _status_is(status, now)
        if status
        else or_(Mission.closed_at.is_(None), _status_is(MissionStatus.closed, now))
    )
    query = (
        select(Mission)
        .where(shown, keyset_before(Mission.starts_at, Mission.id, after))
        .order_by(Mission.starts_at.desc(), Mission.id.desc())
        .limit(limit + 1)
    )
    return (await db.scalars(query)).all()


async def entry_of(
    db: AsyncSession, *, mission_id: uuid.UUID, user_id: uuid.UUID
) -> MissionEntry | None:
    return await db.scalar(
        select(MissionEntry).where(
            MissionEntry.mission_id == mission_id, MissionEntry.user_id == user_id
        )
    )


async def entries_of(
    db: AsyncSession, mission_ids: Sequence[uuid.UUID], user_id: uuid.UUID
) -> dict[uuid.UUID, MissionEntry]:
    rows = await db.scalars(
        select(MissionEntry).where(
            MissionEntry.mission_id.in_(mission_ids), MissionEntry.user_id == user_id
        )
    )
    return {entry.mission_id: entry for entry in rows}


async def running_for(db: AsyncSession, memory: Memory, *, now: datetime) -> Sequence[Mission]:
    """Open missions whose tag the memory carries and that opened before it was made."""
    query = (
        select(Mission)
        .join(MemoryHashtag, MemoryHashtag.tag == Mission.hashtag)
        .where(
            MemoryHashtag.memory_id == memory.id,
            Mission.closed_at.is_(None),
            Mission.starts_at <= now,
            Mission.ends_at > now,
            Mission.starts_at <= memory.created_at,
        )
        # Shared: an early close or the winners' choice waits for entries being made,
        # and an entry made after them sees the mission as they left it.
        .with_for_update(read=True, of=Mission)
    )
    return (await db.scalars(query)).all()


async def claim_entry(db: AsyncSession, mission: Mission, memory: Memory) -> MissionEntry | None:
    """Make the memory its author's entry, unless they have one: the first counts. A
    withdrawn entry takes the new memory (its points come back); None otherwise."""
    stmt = insert(MissionEntry).values(
        id=uuid.uuid4(),
        mission_id=mission.id,
        user_id=memory.author_id,
        memory_id=memory.id,
        memory_created_at=memory.created_at,
        status=EntryStatus.entered,
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[MissionEntry.mission_id, MissionEntry.user_id],
        set_={
            "memory_id": stmt.excluded.memory_id,
            "memory_created_at": stmt.excluded.memory_created_at,
            "status": EntryStatus.entered,
        },
        where=MissionEntry.status == EntryStatus.withdrawn,
    ).returning(MissionEntry)
    return (await db.scalars(upsert)).first()


async def entry_by_memory(db: AsyncSession, memory_id: uuid.UUID) -> MissionEntry | None:
    """The entry a memory is, locked with its mission's row for the change to come."""
    return await db.scalar(
        select(MissionEntry).where(MissionEntry.memory_id == memory_id).with_for_update()
    )


async def entrants(db: AsyncSession, mission_id: uuid.UUID) -> Sequence[MissionEntry]:
    return (
        await db.scalars(
            select(MissionEntry).where(
                MissionEntry.mission_id == mission_id, MissionEntry.status == EntryStatus.entered
            )
        )
    ).all()


async def mark_winners(db: AsyncSession, entry_ids: Sequence[uuid.UUID]) -> None:
    await db.execute(update(MissionEntry).where(MissionEntry.id.in_(entry_ids)).values(winner=True))


async def winner_memories(db: AsyncSession, mission_id: uuid.UUID) -> set[uuid.UUID]:
    rows = await db.scalars(
        select(MissionEntry.memory_id).where(
            MissionEntry.mission_id == mission_id, MissionEntry.winner
        )
    )
    return {memory_id for memory_id in rows if memory_id is not None}


def _open_tags() -> ReadQuery:
    # `starts_with`, not a range: the tag's column has the database's collation. Missions
    # are a few a month, so the statement reads the table rather than an index.
    now = bindparam("now", type_=DateTime(timezone=True))
    return ReadQuery.compile(
        select(Mission.id, Mission.hashtag, Mission.title, Mission.ends_at)
        .where(
            func.starts_with(Mission.hashtag, bindparam("prefix", type_=String())),
            Mission.closed_at.is_(None),
            Mission.starts_at <= now,
            Mission.ends_at > now,
        )
        .order_by(Mission.starts_at.desc(), Mission.id)
        .limit(bindparam("limit", type_=Integer())),
        "prefix",
        "now",
        "limit",
    )


_OPEN_TAGS = _open_tags()


async def open_tags(
    db: ReadDb, prefix: str, *, now: datetime, limit: int
) -> Sequence[tuple[uuid.UUID, str, str, datetime]]:
    """(id, hashtag, title, ends_at) of the missions open at `now` whose tag starts with
    `prefix`, the latest opened first: one statement, outside any transaction."""
    rows = await _OPEN_TAGS.all(db, prefix=prefix, now=now, limit=limit)
    return [(row[0], row[1], row[2], row[3]) for row in rows]


def _entries() -> ReadQuery:
    """A page of a mission's entries the viewer may see, newest memory first, as cards."""
    page = (
        select(MissionEntry.memory_id.label("id"))
        .join(Memory, Memory.id == MissionEntry.memory_id)
        .join(User, User.id == Memory.author_id)
        .where(
            MissionEntry.mission_id == bindparam("mission_id", type_=Uuid()),
            # Written out, so a prepared statement still matches the partial index.
            MissionEntry.status == literal_column("'entered'"),
            VISIBLE,
        )
    )
    return card_query(
        newest_first(page, MissionEntry.memory_created_at, MissionEntry.memory_id),
        "mission_id",
        "limit",
        "before_at",
        "before_id",
    )


# Built once: only the parameters change between requests.
ENTRIES = _entries()


def entries_params(mission_id: uuid.UUID, limit: int, after: Cursor | None) -> dict[str, object]:
    before = after or TOP
    return {
        "mission_id": mission_id,
        "limit": limit + 1,
        "before_at": before.created_at,
        "before_id": before.id,
    }


async def entries_by_user(
    db: AsyncSession, user_id: uuid.UUID
) -> Sequence[tuple[MissionEntry, Mission]]:
    """Every entry of the person with its mission: their data export."""
    rows = await db.execute(
        select(MissionEntry, Mission)
        .join(Mission, Mission.id == MissionEntry.mission_id)
        .where(MissionEntry.user_id == user_id)
        .order_by(MissionEntry.created_at)
    )
    return [(row[0], row[1]) for row in rows]


def title_of(mission_id: SQLColumnExpression[uuid.UUID | None]) -> ScalarSelect[str]:
    """The mission's title beside a row that names it (None for none): the points
    statement's label, correlated so the statement stays one query."""
    return select(Mission.title).where(Mission.id == mission_id).scalar_subquery()
