"""Every query of safety.

Moderation owns two columns of other domains' rows — a memory's `hidden_*` and an
account's suspension (`status = 'suspended'`, `suspended_until`) — and locks those rows
while it changes them, so concurrent actions on one target take turns.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Row,
    Uuid,
    and_,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts.models import User
from keepsake.memories.models import Clip, Memory
from keepsake.moderation.models import (
    URGENT_REASONS,
    Clearance,
    Report,
    ReporterMute,
    ReportReason,
    ReportStatus,
    TargetKind,
)
from keepsake.pagination import Cursor, keyset_before

# A cleared account cannot be seen to change (profiles keep no edit time), so its
# clearance holds for this long instead of "until edited".
ACCOUNT_CLEARANCE = timedelta(days=14)


def _queued(reporter_id: uuid.UUID, kind: TargetKind, target_id: uuid.UUID) -> ColumnElement[bool]:
    """SQL: a new report enters the queue unless its reporter is muted or its target
    was cleared as benign and has not changed since."""
    muted = exists().where(ReporterMute.reporter_id == reporter_id)
    cleared = exists().where(
        Clearance.target_kind == kind,
        Clearance.target_id == target_id,
        Clearance.cleared_at
        >= select(Memory.updated_at).where(Memory.id == target_id).scalar_subquery()
        if kind == TargetKind.memory
        else Clearance.cleared_at > func.now() - ACCOUNT_CLEARANCE,
    )
    return ~muted & ~cleared


async def add_report(
    db: AsyncSession,
    *,
    reporter_id: uuid.UUID,
    kind: TargetKind,
    target_id: uuid.UUID,
    target_user_id: uuid.UUID,
    reason: ReportReason,
    detail: str,
) -> tuple[Report, bool]:
    """The new report, or the reporter's open one on the target: (report, created).

    One open report per reporter and target is a partial unique index, so concurrent
    repeats meet there and all but one insert nothing.
    """
    values = select(
        literal(uuid.uuid4()),
        literal(reporter_id),
        literal(kind, Report.target_kind.type),
        literal(target_id),
        literal(target_user_id),
        literal(reason, Report.reason.type),
        literal(detail),
        _queued(reporter_id, kind, target_id),
    )
    columns = ["id", "reporter_id", "target_kind", "target_id", "target_user_id"]
    stmt = (
        insert(Report)
        .from_select([*columns, "reason", "detail", "queued"], values)
        .on_conflict_do_nothing(
            index_elements=[Report.reporter_id, Report.target_kind, Report.target_id],
            index_where=Report.status == ReportStatus.open,
        )
        .returning(Report)
    )
    created = (await db.scalars(stmt)).one_or_none()
    if created is not None:
        return created, True
    existing = await db.scalar(
        select(Report).where(
            Report.reporter_id == reporter_id,
            Report.target_kind == kind,
            Report.target_id == target_id,
            Report.status == ReportStatus.open,
        )
    )
    if existing is None:
        raise LookupError("the conflicting open report vanished")
    return existing, False


async def reports_by(
    db: AsyncSession, reporter_id: uuid.UUID, *, limit: int, after: Cursor | None
) -> Sequence[Report]:
    query = (
        select(Report)
        .where(
            Report.reporter_id == reporter_id,
            keyset_before(Report.created_at, Report.id, after),
        )
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(limit + 1)
    )
    return (await db.scalars(query)).all()


async def report(db: AsyncSession, report_id: uuid.UUID) -> Report | None:
    return await db.get(Report, report_id)


async def reports_on(db: AsyncSession, kind: TargetKind, target_id: uuid.UUID) -> Sequence[Report]:
    query = (
        select(Report)
        .where(Report.target_kind == kind, Report.target_id == target_id)
        .order_by(Report.created_at.desc(), Report.id.desc())
    )
    return (await db.scalars(query)).all()


async def handles(db: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await db.execute(select(User.id, User.handle).where(User.id.in_(ids)))
    return {row.id: row.handle for row in rows}


QueueRow = Row[tuple[TargetKind, uuid.UUID, int, list[str], datetime, datetime, bool, uuid.UUID]]


async def queue(
    db: AsyncSession,
    *,
    status: ReportStatus,
    limit: int,
    after: tuple[bool, datetime, uuid.UUID] | None,
) -> Sequence[QueueRow]:
    """One row per target: urgent reasons first, then the oldest report first."""
    urgent = func.bool_or(Report.reason.in_(URGENT_REASONS))
    first_at = func.min(Report.created_at)
    # The oldest report's id names the row (`GET /v1/admin/reports/{id}`).
    first_id = func.array_agg(
        aggregate_order_by(Report.id, Report.created_at, Report.id), type_=ARRAY(Uuid())
    )[1]
    where = [Report.status == status]
    if status == ReportStatus.open:
        where.append(Report.queued.is_(True))
    query = (
        select(
            Report.target_kind,
            Report.target_id,
            func.count().label("reports_count"),
            func.array_agg(Report.reason.distinct()).label("reasons"),
            first_at.label("first_at"),
            func.max(Report.created_at).label("last_at"),
            urgent.label("urgent"),
            first_id.label("first_id"),
        )
        .where(*where)
        .group_by(Report.target_kind, Report.target_id)
        .order_by(urgent.desc(), first_at, Report.target_id)
        .limit(limit + 1)
    )
    if after is not None:
        was_urgent, at, target = after
        # Urgent rows sort first: "after" an urgent row is a later urgent one or any other.
        position = tuple_(first_at, Report.target_id) > tuple_(literal(at), literal(target))
        query = query.having(
            or_(urgent == false(), position) if was_urgent else and_(urgent == false(), position)
        )
    return (await db.execute(query)).all()


async def oldest_open(db: AsyncSession, kind: TargetKind, target_id: uuid.UUID) -> uuid.UUID | None:
    return await db.scalar(
        select(Report.id)
        .where(
            Report.target_kind == kind,
            Report.target_id == target_id,
            Report.status == ReportStatus.open,
        )
        .order_by(Report.created_at, Report.id)
        .limit(1)
    )


async def resolve(
    db: AsyncSession, kind: TargetKind, target_id: uuid.UUID, status: ReportStatus
) -> list[uuid.UUID]:
    """Close the target's open reports; the reporters of those actioned, to be told."""
    rows = await db.execute(
        update(Report)
        .where(
            Report.target_kind == kind,
            Report.target_id == target_id,
            Report.status == ReportStatus.open,
        )
        .values(status=status, resolved_at=func.now())
        .returning(Report.reporter_id)
    )
    return sorted({row.reporter_id for row in rows})


async def clear(db: AsyncSession, kind: TargetKind, target_id: uuid.UUID) -> None:
    stmt = insert(Clearance).values(target_kind=kind, target_id=target_id, cleared_at=func.now())
    await db.execute(
        stmt.on_conflict_do_update(
            index_elements=[Clearance.target_kind, Clearance.target_id],
            set_={"cleared_at": func.now()},
        )
    )


async def mute_reporter(db: AsyncSession, *, reporter_id: uuid.UUID, by: uuid.UUID | None) -> None:
    stmt = insert(ReporterMute).values(reporter_id=reporter_id, muted_by=by)
    await db.execute(stmt.on_conflict_do_nothing())
    await db.execute(
        update(Report)
        .where(Report.reporter_id == reporter_id, Report.status == ReportStatus.open)
        .values(queued=False)
    )


async def memory(db: AsyncSession, memory_id: uuid.UUID) -> Memory | None:
    return await db.get(Memory, memory_id)


async def memory_for_update(db: AsyncSession, memory_id: uuid.UUID) -> Memory | None:
    return await db.scalar(select(Memory).where(Memory.id == memory_id).with_for_update())


async def clips(db: AsyncSession, memory_id: uuid.UUID) -> Sequence[Clip]:
    query = select(Clip).where(Clip.memory_id == memory_id).order_by(Clip.position)
    return (await db.scalars(query)).all()


async def user(db: AsyncSession, user_id: uuid.UUID, *, lock: bool = False) -> User | None:
    query = select(User).where(User.id == user_id)
    return await db.scalar(query.with_for_update() if lock else query)


async def user_by_handle(db: AsyncSession, handle: str, *, lock: bool = False) -> User | None:
    query = select(User).where(func.lower(User.handle) == handle.lower())
    return await db.scalar(query.with_for_update() if lock else query)


async def reports_made(db: AsyncSession, reporter_id: uuid.UUID) -> Sequence[Report]:
    query = select(Report).where(Report.reporter_id == reporter_id).order_by(Report.created_at)
    return (await db.scalars(query)).all()
