"""Music library rules: what the apps may play under a memory."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.config import Settings
from keepsake.music import repository
from keepsake.music.models import MusicTrack
from keepsake.music.schemas import MusicTrackPublic
from keepsake.pagination import Page, PageRequest, split_page
from keepsake.storage.base import Storage


async def track(db: AsyncSession, track_id: uuid.UUID) -> MusicTrack | None:
    return await repository.get(db, track_id)


async def track_view(settings: Settings, storage: Storage, track: MusicTrack) -> MusicTrackPublic:
    return MusicTrackPublic(
        id=track.id,
        title=track.title,
        artist=track.artist,
        duration_s=track.duration_s,
        url=await storage.media_url(track.storage_key, expires_in=settings.media_url_ttl),
    )


async def library(
    db: AsyncSession, *, settings: Settings, storage: Storage, page: PageRequest
) -> Page[MusicTrackPublic]:
    rows, cursor = split_page(
        await repository.page(db, limit=page.limit, after=page.after), page.limit
    )
    return Page(items=[await track_view(settings, storage, t) for t in rows], next_cursor=cursor)
