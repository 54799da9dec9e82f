"""Clap rules: only for a ready memory the viewer may see, never their own, at most 50."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts import avatars
from keepsake.accounts.models import User
from keepsake.claps import adding, repository
from keepsake.claps.models import MAX_CLAPS
from keepsake.claps.schemas import ClapCreate, ClapperPublic, ClapPublic, ClapResult
from keepsake.config import Settings
from keepsake.errors import Conflict, Forbidden
from keepsake.i18n.catalog import _
from keepsake.memories.service import MemoryNotFound, NotAuthor
from keepsake.notifications.service import defer_delivery
from keepsake.pagination import Cursor, Page, PageRequest
from keepsake.storage.base import Storage


class CannotClapOwn(Forbidden):
    code = "cannot_clap_own"


class ClapLimitReached(Conflict):
    code = "clap_limit_reached"


async def clap(
    db: AsyncSession, *, viewer_id: uuid.UUID, memory_id: uuid.UUID, body: ClapCreate
) -> ClapResult:
    """Add claps, capped at the limit; the refusals are told apart only when one happens."""
    added = await adding.add(db, viewer_id=viewer_id, memory_id=memory_id, count=body.count)
    if added is not None:
        if added.new_batch is not None:
            await defer_delivery(db, added.new_batch)
        return ClapResult(my_claps=added.my_claps)
    found = await repository.access(db, viewer_id=viewer_id, memory_id=memory_id)
    if found is not None and found.author_id == viewer_id:
        raise CannotClapOwn(_("You cannot clap for your own memory."))
    if found is not None and found.my_claps >= MAX_CLAPS:
        raise ClapLimitReached(
            _("You already clapped {limit} times for this memory."), params={"limit": MAX_CLAPS}
        )
    # Invisible, gone, or not ready: all look like a memory that never existed.
    raise MemoryNotFound(_("No such memory."))


async def clappers(
    db: AsyncSession,
    *,
    settings: Settings,
    storage: Storage,
    viewer: User,
    memory_id: uuid.UUID,
    page: PageRequest,
) -> Page[ClapPublic]:
    """Who clapped for the viewer's memory and how often, most recent first."""
    found = await repository.access(db, viewer_id=viewer.id, memory_id=memory_id)
    if found is None:
        raise MemoryNotFound(_("No such memory."))
    if found.author_id != viewer.id:
        raise NotAuthor(_("Only the author sees who clapped."))
    rows = await repository.clappers(
        db, author_id=viewer.id, memory_id=memory_id, limit=page.limit, after=page.after
    )
    shown = rows[: page.limit]
    cursor = None
    if len(rows) > page.limit:
        cursor = Cursor(shown[-1].updated_at, shown[-1].user_id).encode()
    items = [
        ClapPublic(
            user=ClapperPublic(
                id=row.user_id,
                handle=row.handle,
                display_name=row.display_name,
                avatar=await avatars.view(settings, storage, row.avatar_key),
            ),
            count=row.count,
            updated_at=row.updated_at,
        )
        for row in shown
    ]
    return Page(items=items, next_cursor=cursor)
