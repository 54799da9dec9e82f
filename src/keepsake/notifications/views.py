"""The notifications list as its recipient reads it, and its read state."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts import avatars
from keepsake.config import Settings
from keepsake.notifications import repository
from keepsake.notifications.models import Notification
from keepsake.notifications.repository import Actors
from keepsake.notifications.schemas import ActorPublic, MemoryRef, MissionRef, NotificationPublic
from keepsake.pagination import Cursor, Page, PageRequest
from keepsake.storage.base import Storage

# The list shows a few faces; `actor_count` tells how many there are in all.
SHOWN_ACTORS = 3


async def _view(
    settings: Settings, storage: Storage, item: Notification, people: Actors | None
) -> NotificationPublic:
    shown = people.shown if people else []
    return NotificationPublic(
        id=item.id,
        kind=item.kind,
        actors=[
            ActorPublic(
                id=actor.id,
                handle=actor.handle,
                display_name=actor.display_name,
                avatar=await avatars.view(settings, storage, actor.avatar_key),
            )
            for actor in shown
        ],
        actor_count=people.total if people else 0,
        memory=MemoryRef(id=item.memory_id) if item.memory_id else None,
        mission=MissionRef(id=item.mission_id) if item.mission_id else None,
        count=item.count,
        created_at=item.created_at,
        updated_at=item.updated_at,
        read=item.read_at is not None,
    )


async def list_for(
    db: AsyncSession,
    *,
    settings: Settings,
    storage: Storage,
    recipient_id: uuid.UUID,
    page: PageRequest,
) -> Page[NotificationPublic]:
    """The recipient's notifications, latest activity first, in two queries.

    The keyset is (updated_at, id): a batch that gathers a clap moves to the top, so a
    reader paging down meets it again only on a fresh first page, never twice in a walk.
    """
    rows = await repository.page(db, recipient_id=recipient_id, limit=page.limit, after=page.after)
    items = list(rows[: page.limit])
    people = await repository.actors(
        db, viewer_id=recipient_id, notification_ids=[n.id for n in items], shown=SHOWN_ACTORS
    )
    cursor = None
    if len(rows) > page.limit:
        cursor = Cursor(items[-1].updated_at, items[-1].id).encode()
    views = [await _view(settings, storage, item, people.get(item.id)) for item in items]
    return Page(items=views, next_cursor=cursor)


async def mark_read(
    db: AsyncSession, *, recipient_id: uuid.UUID, ids: list[uuid.UUID] | None
) -> None:
    """Only the caller's own; unknown ids are ignored, so a repeat or a race is harmless."""
    await repository.mark_read(db, recipient_id=recipient_id, ids=ids)
