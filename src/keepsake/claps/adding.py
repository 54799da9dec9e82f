"""A clap and the author's notification batch in one statement.

The clap upsert (`repository.ADD`) is the first CTE; the author is read from the memory
only when it returned a row, and only when they are active, want clap news and no block
stands between the two (what `notifications.repository.accepting` checks); the unread
batch for the memory is started or joined, and the clapper added to its people. A clap
thus pays one round trip, and a second (the push job) only when it starts a batch.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import (
    Boolean,
    SmallInteger,
    String,
    Uuid,
    bindparam,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts.models import AccountStatus, User
from keepsake.claps.repository import ADD, VIEWER
from keepsake.memories.models import Memory
from keepsake.notifications.models import Notification, NotificationActor, NotificationKind
from keepsake.privacy import not_blocked_with

_KIND = NotificationKind.claps
_added = ADD.cte("clap")
_recipient = (
    select(User.id)
    .join(Memory, Memory.author_id == User.id)
    .where(
        Memory.id == bindparam("memory_id", type_=Uuid()),
        select(_added).exists(),
        User.status == AccountStatus.active,
        func.coalesce(User.notification_prefs[_KIND.value].as_boolean(), true()),
        not_blocked_with(cast(uuid.UUID, VIEWER), User.id),
    )
    .cte("recipient")
)
_start = insert(Notification).from_select(
    ["id", "recipient_id", "kind", "batch_key", "memory_id", "count"],
    select(
        bindparam("notification_id", type_=Uuid()),
        _recipient.c.id,
        bindparam("kind", _KIND, type_=Notification.__table__.c.kind.type),
        bindparam("batch_key", type_=String()),
        bindparam("memory_id", type_=Uuid()),
        bindparam("count", type_=SmallInteger()),
    ),
)
_batch = (
    _start.on_conflict_do_update(
        index_elements=[Notification.recipient_id, Notification.batch_key],
        index_where=Notification.read_at.is_(None),
        set_={"count": Notification.count + _start.excluded.count, "updated_at": func.now()},
    )
    .returning(
        Notification.id,
        # A row the statement inserted has no xmax yet; one it updated has.
        literal_column("notifications.xmax = 0", Boolean).label("created"),
    )
    .cte("batch")
)
_actor = insert(NotificationActor).from_select(
    ["notification_id", "actor_id"], select(_batch.c.id, VIEWER)
)
_CLAP_AND_BATCH = (
    select(_added.c.count, _batch.c.id, _batch.c.created)
    .select_from(_added)
    .outerjoin(_batch, true())
    .add_cte(
        _actor.on_conflict_do_update(
            index_elements=[NotificationActor.notification_id, NotificationActor.actor_id],
            set_={"acted_at": func.now()},
        ).cte("actor")
    )
)


@dataclass(frozen=True)
class Added:
    """The viewer's new total, and the batch when the statement started one."""

    my_claps: int
    new_batch: uuid.UUID | None


async def add(
    db: AsyncSession, *, viewer_id: uuid.UUID, memory_id: uuid.UUID, count: int
) -> Added | None:
    """Add claps (capped at the limit) and tell the author; None when nothing was added."""
    params = {
        "viewer_id": viewer_id,
        "memory_id": memory_id,
        "count": count,
        "notification_id": uuid.uuid4(),
        "batch_key": f"{_KIND.value}:{memory_id}",
    }
    row = (await db.execute(_CLAP_AND_BATCH, params)).one_or_none()
    if row is None:
        return None
    my_claps, batch, created = row
    return Added(my_claps, batch if created else None)
