"""Memory rules: creating, reading, editing and deleting, all through the privacy policy."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake import jobs
from keepsake.accounts.models import APPEAL_WINDOW_DAYS, User
from keepsake.config import Settings
from keepsake.errors import Conflict, Forbidden, NotFound
from keepsake.graph import service as graph
from keepsake.hooks import Hook
from keepsake.i18n.catalog import _
from keepsake.kinds import MemoryStatus
from keepsake.memories import repository
from keepsake.memories.hashtags import parse_hashtags
from keepsake.memories.models import Clip, Memory
from keepsake.memories.schemas import MemoryPublic, MemoryUpdate
from keepsake.memories.views import Card, FeedPage
from keepsake.pagination import PageRequest
from keepsake.privacy import Person, can_see_memory
from keepsake.readdb import Reads, SessionReads
from keepsake.security import utcnow
from keepsake.storage import keys
from keepsake.storage.base import Storage
from keepsake.storage_jobs import DELETE_MEDIA_TASK

PROCESS_TASK = "memories:process_memory"
APPEAL_WINDOW = timedelta(days=APPEAL_WINDOW_DAYS)


class FeedCards(Protocol):
    """How the feeds show memories (`keepsake.feeds.service`, above this domain): one
    statement each, visibility decided in SQL."""

    async def memory(
        self,
        db: Reads,
        *,
        settings: Settings,
        storage: Storage,
        viewer_id: uuid.UUID,
        memory_id: uuid.UUID,
    ) -> Card | None: ...

    async def person_page(
        self,
        db: Reads,
        *,
        settings: Settings,
        storage: Storage,
        viewer_id: uuid.UUID,
        author_id: uuid.UUID,
        page: PageRequest,
    ) -> FeedPage: ...


class Deleting(Protocol):
    """What goes of a memory in the other domains, in its deletion's transaction."""

    async def __call__(self, db: AsyncSession, memory_id: uuid.UUID) -> None: ...


feed_cards: Hook[FeedCards] = Hook("memories.feed_cards")
deleting: Hook[Deleting] = Hook("memories.deleting")


class MemoryNotFound(NotFound):
    code = "memory_not_found"


class UnderModeration(Conflict):
    code = "memory_under_moderation"


class NotAuthor(Forbidden):
    code = "not_author"


def processing_lock(memory_id: uuid.UUID) -> str:
    """One processing job per memory at a time, and at most one waiting."""
    return f"memory:{memory_id}"


async def defer_processing(
    db: AsyncSession, memory_id: uuid.UUID, *, delay: timedelta | None = None
) -> None:
    await jobs.defer(
        db,
        PROCESS_TASK,
        queueing_lock=processing_lock(memory_id),
        lock=processing_lock(memory_id),
        scheduled_at=utcnow() + delay if delay else None,
        memory_id=str(memory_id),
    )


async def _visible(db: AsyncSession, viewer: User, memory_id: uuid.UUID) -> tuple[Memory, Person]:
    """The memory and its author, or 404 when the viewer may not see it (or it is gone)."""
    memory = await repository.get(db, memory_id)
    if memory is None:
        raise MemoryNotFound(_("No such memory."))
    author = await graph.person_by_id(db, viewer_id=viewer.id, user_id=memory.author_id)
    ready = memory.status == MemoryStatus.ready
    if author is None or not can_see_memory(
        viewer.id,
        author,
        visibility=memory.visibility,
        ready=ready,
        hidden=memory.hidden_at is not None,
    ):
        raise MemoryNotFound(_("No such memory."))
    return memory, author


async def get_memory(
    db: Reads, *, settings: Settings, storage: Storage, viewer_id: uuid.UUID, memory_id: uuid.UUID
) -> Card:
    """One statement: the feeds' card query decides visibility in SQL and loads the rest."""
    card = await feed_cards.target.memory(
        db, settings=settings, storage=storage, viewer_id=viewer_id, memory_id=memory_id
    )
    if card is None:
        raise MemoryNotFound(_("No such memory."))
    return card


async def _own(db: AsyncSession, viewer: User, memory_id: uuid.UUID) -> Memory:
    memory, _card = await _visible(db, viewer, memory_id)
    if memory.author_id != viewer.id:
        raise NotAuthor(_("Only the author can change or delete a memory."))
    locked = await repository.get(db, memory_id, lock=True)
    if locked is None:
        raise MemoryNotFound(_("No such memory."))
    return locked


async def update_memory(
    db: AsyncSession,
    *,
    settings: Settings,
    storage: Storage,
    viewer: User,
    memory_id: uuid.UUID,
    body: MemoryUpdate,
) -> MemoryPublic:
    memory = await _own(db, viewer, memory_id)
    if body.caption is not None:
        memory.caption = body.caption
        await repository.replace_tags(db, memory, parse_hashtags(body.caption))
    if body.visibility is not None:
        memory.visibility = body.visibility
    # The card is read back through SQL, so the changes must be in the transaction first.
    await db.flush()
    card = await get_memory(
        SessionReads(db),
        settings=settings,
        storage=storage,
        viewer_id=viewer.id,
        memory_id=memory.id,
    )
    return MemoryPublic.model_validate(card)


async def delete_memory(db: AsyncSession, *, viewer: User, memory_id: uuid.UUID) -> None:
    memory = await _own(db, viewer, memory_id)
    if memory.hidden_at is not None and utcnow() < memory.hidden_at + APPEAL_WINDOW:
        raise UnderModeration(_("A hidden memory is kept while its appeal window is open."))
    clips = (await repository.clips_of(db, [memory.id]))[memory.id]
    files = [k for c in clips for k in (c.source_key, c.video_key, c.poster_key) if k]
    await deleting.target(db, memory.id)
    await repository.delete_memory(db, memory)
    # Storage is cleaned by a job in the same transaction: the media goes exactly when
    # the rows do, and a storage outage cannot fail the request.
    await jobs.defer(db, DELETE_MEDIA_TASK, keys=files, prefix=keys.memory_folder(memory.id))


async def list_for_person(
    reads: Reads,
    *,
    settings: Settings,
    storage: Storage,
    viewer_id: uuid.UUID,
    handle: str,
    page: PageRequest,
) -> FeedPage:
    """Two statements on the read pool, outside any transaction: the person (404 when
    invisible), then the page as the feeds load it."""
    author = await graph.person(reads, viewer_id=viewer_id, handle=handle)
    return await feed_cards.target.person_page(
        reads,
        settings=settings,
        storage=storage,
        viewer_id=viewer_id,
        author_id=author.id,
        page=page,
    )


@dataclass(frozen=True)
class Authored:
    """One of an author's own memories, with its clips in order and its hashtags."""

    memory: Memory
    clips: list[Clip]
    tags: list[str]


async def authored(db: AsyncSession, author_id: uuid.UUID) -> list[Authored]:
    """Everything the author made, any status or visibility: their data export."""
    memories = await repository.all_by_author(db, author_id)
    ids = [m.id for m in memories]
    clips, tags = await repository.clips_of(db, ids), await repository.tags_of(db, ids)
    return [Authored(m, clips[m.id], tags[m.id]) for m in memories]


async def authored_ids(db: AsyncSession, author_id: uuid.UUID) -> list[uuid.UUID]:
    """Ids of every memory of the author: whose media goes when the account does."""
    return [m.id for m in await repository.all_by_author(db, author_id)]


async def visible_author(
    db: AsyncSession, *, viewer_id: uuid.UUID, memory_id: uuid.UUID
) -> uuid.UUID | None:
    """The author of a memory the viewer may see; None when they may not (or it is gone)."""
    memory = await repository.get(db, memory_id)
    if memory is None:
        return None
    author = await graph.person_by_id(db, viewer_id=viewer_id, user_id=memory.author_id)
    if author is None or not can_see_memory(
        viewer_id,
        author,
        visibility=memory.visibility,
        ready=memory.status == MemoryStatus.ready,
        hidden=memory.hidden_at is not None,
    ):
        return None
    return author.id
