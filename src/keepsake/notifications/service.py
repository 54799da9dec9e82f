"""Rules of notifications: who is told what, batching, and what each push may say.

`notify` runs inside the transaction of the action it reports (a follow, a clap, a
finished memory), so the notification and its push job exist exactly when the action
was committed. A kind the recipient switched off creates nothing at all, neither a
notification nor a push: the preference reads "tell me about claps", and a calm app
honours "no" everywhere, not only on the lock screen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake import jobs
from keepsake.notifications import repository
from keepsake.notifications.models import (
    ACTORLESS_KINDS,
    MEMORY_KINDS,
    MISSION_KINDS,
    Notification,
    NotificationKind,
)
from keepsake.notifications.repository import Recipient
from keepsake.security import utcnow

Kind = NotificationKind
DELIVER_TASK = "push:deliver"
# A push that could not go out for this long is news no longer (quiet windows are under a
# day, so a digest is never stale); the list still has it.
PUSH_STALE_AFTER = timedelta(days=2)


def delivery_lock(notification_id: uuid.UUID) -> str:
    """At most one waiting push job per notification."""
    return f"push:{notification_id}"


async def defer_delivery(
    db: AsyncSession, notification_id: uuid.UUID, *, at: datetime | None = None
) -> None:
    await jobs.defer(
        db,
        DELIVER_TASK,
        queueing_lock=delivery_lock(notification_id),
        scheduled_at=at,
        notification_id=str(notification_id),
    )


def _batch_key(
    kind: Kind,
    actor_id: uuid.UUID | None,
    memory_id: uuid.UUID | None,
    mission_id: uuid.UUID | None,
) -> str:
    # Claps gather per memory; a follow (or request, or approval) per person, so following,
    # unfollowing and following again while it is unread does not repeat it; a mission's
    # news once per mission.
    subject = memory_id if kind == Kind.claps or kind in MEMORY_KINDS else actor_id
    if kind in MISSION_KINDS:
        subject = mission_id
    return f"{kind.value}:{subject}"


async def _record(
    db: AsyncSession,
    kind: Kind,
    *,
    recipient_id: uuid.UUID,
    actor_id: uuid.UUID | None,
    memory_id: uuid.UUID | None,
    mission_id: uuid.UUID | None = None,
    count: int | None = None,
    batch: str | None = None,
) -> None:
    notification_id, created = await repository.record(
        db,
        recipient_id=recipient_id,
        kind=kind,
        batch_key=batch or _batch_key(kind, actor_id, memory_id, mission_id),
        memory_id=memory_id,
        mission_id=mission_id,
        count=count,
        actor_id=actor_id,
    )
    # A batch pushes once: whatever joins it later rides on the push already on its way.
    if created:
        await defer_delivery(db, notification_id)


async def notify(
    db: AsyncSession,
    kind: Kind,
    *,
    recipient_id: uuid.UUID,
    actor_id: uuid.UUID | None = None,
    memory_id: uuid.UUID | None = None,
    mission_id: uuid.UUID | None = None,
) -> None:
    """Tell the recipient, unless it is themselves, they opted out, or a block stands between."""
    found = await repository.accepting(db, recipient=recipient_id, actor_id=actor_id, kind=kind)
    if found is not None:
        await _record(
            db,
            kind,
            recipient_id=found,
            actor_id=actor_id,
            memory_id=memory_id,
            mission_id=mission_id,
        )


async def memory_finished(
    db: AsyncSession, *, memory_id: uuid.UUID, author_id: uuid.UUID, ready: bool
) -> None:
    """Tell the author their memory left `processing`, ready or failed."""
    kind = Kind.memory_ready if ready else Kind.memory_failed
    await notify(db, kind, recipient_id=author_id, memory_id=memory_id)


async def notify_moderation(
    db: AsyncSession, *, recipient_id: uuid.UUID, subject: uuid.UUID
) -> None:
    """Tell a person about an action on them or a decision on their appeal (`subject`).

    Not subject to preferences: a person must learn what was done and that they may
    appeal. Each action is its own notification.
    """
    await _record(
        db,
        Kind.moderation,
        recipient_id=recipient_id,
        actor_id=None,
        memory_id=None,
        count=None,
        batch=f"moderation:{subject}",
    )


async def notify_reports_resolved(db: AsyncSession, *, reporter_ids: list[uuid.UUID]) -> None:
    """One notification per reporter, joining their unread one: "we acted on your reports"."""
    for reporter_id in reporter_ids:
        await _record(
            db,
            Kind.reports_resolved,
            recipient_id=reporter_id,
            actor_id=None,
            memory_id=None,
            count=1,
            batch="reports_resolved",
        )


@dataclass(frozen=True)
class Owed:
    """A notification whose push is due, with what the push may say about it."""

    id: uuid.UUID
    kind: Kind
    memory_id: uuid.UUID | None
    count: int | None
    created_at: datetime
    names: tuple[str, ...]
    people: int


async def _owed(db: AsyncSession, recipient: Recipient, rows: list[Notification]) -> list[Owed]:
    """What may still be pushed; the rest (kinds since switched off, people since blocked
    or gone, news gone stale) is marked handled so nothing asks again."""
    people = await repository.actors(
        db, viewer_id=recipient.id, notification_ids=[n.id for n in rows], shown=2
    )
    stale = utcnow() - PUSH_STALE_AFTER
    due: list[Owed] = []
    for row in rows:
        found = people.get(row.id)
        wanted = recipient.prefs.get(row.kind.value, True) is not False
        if wanted and row.updated_at > stale and (found or row.kind in ACTORLESS_KINDS):
            names = tuple(actor.display_name for actor in found.shown) if found else ()
            total = found.total if found else 0
            due.append(
                Owed(row.id, row.kind, row.memory_id, row.count, row.created_at, names, total)
            )
    dropped = {row.id for row in rows} - {item.id for item in due}
    if dropped:
        await repository.mark_pushed(db, dropped)
    return due


async def owed_one(db: AsyncSession, notification_id: uuid.UUID) -> tuple[Recipient, Owed] | None:
    """The notification and its recipient when its push is still due; locks it."""
    rows = list(await repository.owed(db, notification_id=notification_id))
    if not rows:
        return None
    recipient = await repository.recipient(db, rows[0].recipient_id)
    if recipient is None:
        await repository.mark_pushed(db, [rows[0].id])
        return None
    due = await _owed(db, recipient, rows)
    return (recipient, due[0]) if due else None


async def owed_all(db: AsyncSession, user_id: uuid.UUID) -> tuple[Recipient | None, list[Owed]]:
    """Everything the user is still owed a push about (for a digest); locks it."""
    recipient = await repository.recipient(db, user_id)
    if recipient is None:
        return None, []
    rows = list(await repository.owed(db, recipient_id=user_id))
    return recipient, await _owed(db, recipient, rows)


async def mark_pushed(db: AsyncSession, ids: list[uuid.UUID]) -> None:
    await repository.mark_pushed(db, ids)


async def stranded(
    db: AsyncSession, *, idle_for: timedelta, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(id, recipient) of pushes owed for longer than `idle_for` (yet not stale)."""
    now = utcnow()
    return await repository.stranded(
        db, idle_since=now - idle_for, newer_than=now - PUSH_STALE_AFTER, limit=limit
    )
