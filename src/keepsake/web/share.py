"""What share pages show: a public memory of a public, active account, or its profile.

Everything is read as `privacy.ANONYMOUS`, a signed-out stranger, through the same
service functions and the same policy as the API, so whatever that policy hides
(followers-only, close friends, private or suspended accounts, deleted or hidden
memories) is missing here too, and looks exactly like a memory that never existed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts import avatars
from keepsake.accounts.people import AvatarPublic
from keepsake.config import Settings
from keepsake.errors import AppError
from keepsake.feeds import service as feeds
from keepsake.graph import service as graph
from keepsake.i18n.catalog import _
from keepsake.memories import service as memories
from keepsake.memories.schemas import MemoryPublic
from keepsake.pagination import Cursor, PageRequest
from keepsake.privacy import ANONYMOUS, Person, can_see_lists, can_see_profile
from keepsake.readdb import ReadDb, SessionReads
from keepsake.storage.base import Storage

GRID_SIZE = 24
MAX_HANDLE = 30


class NotShared(AppError):
    """Anything a share page may not show: answered with the one 404 page."""

    status = 404
    code = "memory_not_found"
    title = _("Not found")


@dataclass(frozen=True)
class Author:
    person: Person
    avatar: AvatarPublic | None


@dataclass(frozen=True)
class MemoryPage:
    memory: dict[str, Any]
    author: Author

    def media(self) -> list[str]:
        """Every media URL the page embeds, for its Content-Security-Policy."""
        urls = [u for c in self.memory["clips"] for u in (c["video_url"], c["poster_url"]) if u]
        if self.memory["music_track"]:
            urls.append(self.memory["music_track"]["url"])
        if self.author.avatar:
            urls.append(self.author.avatar.small)
        return urls


@dataclass(frozen=True)
class ProfilePage:
    author: Author
    memories: list[MemoryPublic]
    next_cursor: str | None

    def media(self) -> list[str]:
        urls = [c.poster_url for m in self.memories for c in m.clips[:1] if c.poster_url]
        if self.author.avatar:
            urls.append(self.author.avatar.medium)
        return urls


def memory_id_of(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotShared(_("No such memory.")) from None


async def _author(settings: Settings, storage: Storage, person: Person) -> Author:
    return Author(person, await avatars.view(settings, storage, person.avatar_key))


async def memory_page(
    reads: ReadDb, *, settings: Settings, storage: Storage, memory_id: str
) -> MemoryPage:
    """Two statements, neither in a transaction: the memory's card, then its author."""
    try:
        card = await memories.get_memory(
            reads,
            settings=settings,
            storage=storage,
            viewer_id=ANONYMOUS,
            memory_id=memory_id_of(memory_id),
        )
    except memories.MemoryNotFound:
        raise NotShared(_("No such memory.")) from None
    person = await graph.person_by_id(reads, viewer_id=ANONYMOUS, user_id=card["author"]["id"])
    if person is None or not can_see_profile(ANONYMOUS, person):
        raise NotShared(_("No such memory."))
    return MemoryPage(card, await _author(settings, storage, person))


async def profile_page(
    db: AsyncSession, *, settings: Settings, storage: Storage, handle: str, cursor: str | None
) -> ProfilePage:
    """A public account's profile and newest public memories; private accounts are 404."""
    if len(handle) > MAX_HANDLE:
        raise NotShared(_("No such user."))
    try:
        person = await graph.person(db, viewer_id=ANONYMOUS, handle=handle)
        after = Cursor.decode(cursor) if cursor else None
    except AppError:
        raise NotShared(_("No such user.")) from None
    # What a stranger may see of an account beyond its name: nothing when it is private.
    if not can_see_lists(ANONYMOUS, person):
        raise NotShared(_("No such user."))
    page = await feeds.person(
        SessionReads(db),
        settings=settings,
        storage=storage,
        viewer_id=ANONYMOUS,
        author_id=person.id,
        page=PageRequest(limit=GRID_SIZE, after=after),
    )
    author = await _author(settings, storage, person)
    return ProfilePage(author, page.items, page.next_cursor)
