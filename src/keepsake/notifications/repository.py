"""Queries of notifications: recording and batching, the list, read state, owed pushes."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Uuid,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from keepsake.accounts.models import User
from keepsake.i18n import Language
from keepsake.kinds import AccountStatus
from keepsake.notifications.models import (
    ACTORLESS_KINDS,
    Notification,
    NotificationActor,
    NotificationKind,
)
from keepsake.pagination import Cursor, keyset_before
from keepsake.privacy import not_blocked_with, visible_accounts


@dataclass(frozen=True)
class Actor:
    id: uuid.UUID
    handle: str
    display_name: str
    avatar_key: str | None


@dataclass(frozen=True)
class Actors:
    """The most recent people of a notification the viewer may still see, and how many."""

    shown: list[Actor]
    total: int


@dataclass(frozen=True)
class Recipient:
    id: uuid.UUID
    timezone: str
    quiet_start: time | None
    quiet_end: time | None
    prefs: dict[str, Any]
    locale: Language = "en"


async def accepting(
    db: AsyncSession,
    *,
    recipient: uuid.UUID,
    actor_id: uuid.UUID | None,
    kind: NotificationKind,
) -> uuid.UUID | None:
    """The recipient's id when they are active, want this kind, are not the actor, and
    no block stands between the two (the clap's statement in `claps.adding` checks the same)."""
    wanted = func.coalesce(User.notification_prefs[kind.value].as_boolean(), true())
    query = select(User.id).where(User.id == recipient, User.status == AccountStatus.active, wanted)
    if actor_id is not None:
        query = query.where(User.id != actor_id, not_blocked_with(actor_id, User.id))
    return await db.scalar(query)


async def record(
    db: AsyncSession,
    *,
    recipient_id: uuid.UUID,
    kind: NotificationKind,
    batch_key: str,
    memory_id: uuid.UUID | None,
    count: int | None,
    actor_id: uuid.UUID | None,
    mission_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, bool]:
    """Start a batch or join the unread one with the same key: (its id, whether it is new).

    One statement: the unread-batch index turns a concurrent second insert into an
    update of the first, and the actor is added (or moved to the front) in a CTE.
    """
    stmt = insert(Notification).values(
        id=uuid.uuid4(),
        recipient_id=recipient_id,
        kind=kind,
        batch_key=batch_key,
        memory_id=memory_id,
        mission_id=mission_id,
        count=count,
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[Notification.recipient_id, Notification.batch_key],
        index_where=Notification.read_at.is_(None),
        set_={"count": Notification.count + stmt.excluded.count, "updated_at": func.now()},
    ).returning(
        Notification.id,
        # A row the statement inserted has no xmax yet; one it updated has.
        literal_column("notifications.xmax = 0", Boolean).label("created"),
    )
    if actor_id is None:
        row = (await db.execute(upsert)).one()
        return row.id, row.created
    batch = upsert.cte("batch")
    add_actor = insert(NotificationActor).from_select(
        ["notification_id", "actor_id"], select(batch.c.id, literal(actor_id, Uuid()))
    )
    add_actor = add_actor.on_conflict_do_update(
        index_elements=[NotificationActor.notification_id, NotificationActor.actor_id],
        set_={"acted_at": func.now()},
    )
    query = select(batch.c.id, batch.c.created).add_cte(add_actor.cte("actor"))
    row = (await db.execute(query)).one()
    return row.id, row.created


def _any_visible_actor(viewer_id: uuid.UUID) -> ColumnElement[bool]:
    """SQL: someone behind the notification is still visible to the viewer."""
    actor, person = aliased(NotificationActor), aliased(User)
    return exists(
        select(actor.actor_id)
        .join(person, person.id == actor.actor_id)
        .where(
            actor.notification_id == Notification.id,
            visible_accounts(viewer_id, user_id=person.id, status=person.status),
        )
    )


async def page(
    db: AsyncSession, *, recipient_id: uuid.UUID, limit: int, after: Cursor | None
) -> Sequence[Notification]:
    """Latest activity first; a notification whose people all left the viewer's sight drops out."""
    query = (
        select(Notification)
        .where(
            Notification.recipient_id == recipient_id,
            or_(Notification.kind.in_(ACTORLESS_KINDS), _any_visible_actor(recipient_id)),
            keyset_before(Notification.updated_at, Notification.id, after),
        )
        .order_by(Notification.updated_at.desc(), Notification.id.desc())
        .limit(limit + 1)
    )
    return (await db.scalars(query)).all()


async def actors(
    db: AsyncSession, *, viewer_id: uuid.UUID, notification_ids: Collection[uuid.UUID], shown: int
) -> dict[uuid.UUID, Actors]:
    """For each notification, its `shown` most recent visible people and their number."""
    if not notification_ids:
        return {}
    recent = (NotificationActor.acted_at.desc(), NotificationActor.actor_id)
    ranked = (
        select(
            NotificationActor.notification_id,
            User.id,
            User.handle,
            User.display_name,
            User.avatar_key,
            func.row_number()
            .over(partition_by=NotificationActor.notification_id, order_by=recent)
            .label("rank"),
            func.count().over(partition_by=NotificationActor.notification_id).label("total"),
        )
        .join(User, User.id == NotificationActor.actor_id)
        .where(
            NotificationActor.notification_id.in_(notification_ids),
            visible_accounts(viewer_id, user_id=User.id, status=User.status),
        )
        .subquery()
    )
    rows = await db.execute(select(ranked).where(ranked.c.rank <= shown).order_by(ranked.c.rank))
    found: dict[uuid.UUID, Actors] = {}
    for row in rows:
        entry = found.setdefault(row.notification_id, Actors(shown=[], total=row.total))
        entry.shown.append(Actor(row.id, row.handle, row.display_name, row.avatar_key))
    return found


async def mark_read(
    db: AsyncSession, *, recipient_id: uuid.UUID, ids: Collection[uuid.UUID] | None
) -> None:
    """Mark the recipient's unread notifications read: those in `ids`, or all of them."""
    chosen = true() if ids is None else Notification.id.in_(ids)
    await db.execute(
        update(Notification)
        .where(Notification.recipient_id == recipient_id, Notification.read_at.is_(None), chosen)
        .values(read_at=func.now())
    )


async def recipient(db: AsyncSession, user_id: uuid.UUID) -> Recipient | None:
    """An active account's time zone, quiet hours and preferences."""
    row = (
        await db.execute(
            select(
                User.id,
                User.timezone,
                User.quiet_hours_start,
                User.quiet_hours_end,
                User.notification_prefs,
                User.locale,
            ).where(User.id == user_id, User.status == AccountStatus.active)
        )
    ).one_or_none()
    return None if row is None else Recipient(*row)


async def owed(
    db: AsyncSession,
    *,
    recipient_id: uuid.UUID | None = None,
    notification_id: uuid.UUID | None = None,
) -> Sequence[Notification]:
    """Unread notifications whose push is still owed, locked so one push carries each once."""
    query = (
        select(Notification)
        .where(Notification.read_at.is_(None), Notification.pushed_at.is_(None))
        .order_by(Notification.updated_at.desc(), Notification.id.desc())
        .with_for_update()
    )
    if recipient_id is not None:
        query = query.where(Notification.recipient_id == recipient_id)
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    return (await db.scalars(query)).all()


async def mark_pushed(db: AsyncSession, ids: Collection[uuid.UUID]) -> None:
    await db.execute(
        update(Notification).where(Notification.id.in_(ids)).values(pushed_at=func.now())
    )


async def stranded(
    db: AsyncSession, *, idle_since: datetime, newer_than: datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(id, recipient) of owed pushes idle since `idle_since`, yet newer than `newer_than`."""
    rows = await db.execute(
        select(Notification.id, Notification.recipient_id)
        .where(
            Notification.pushed_at.is_(None),
            Notification.read_at.is_(None),
            Notification.updated_at < idle_since,
            Notification.updated_at > newer_than,
        )
        .order_by(Notification.updated_at)
        .limit(limit)
    )
    return [(row.id, row.recipient_id) for row in rows]
