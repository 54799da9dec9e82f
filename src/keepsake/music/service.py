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


def shown_track(track: MusicTrack, url: str) -> MusicTrackPublic:
    """The track as the apps see it; `url` is its file's signed URL."""
    return MusicTrackPublic(
        id=track.id, title=track.title, artist=track.artist, duration_s=track.duration_s, url=url
    )


async def track_view(settings: Settings, storage: Storage, track: MusicTrack) -> MusicTrackPublic:
    url = await storage.media_url(track.storage_key, expires_in=settings.media_url_ttl)
    return shown_track(track, url)


async def library(
    db: AsyncSession, *, settings: Settings, storage: Storage, page: PageRequest
) -> Page[MusicTrackPublic]:
    rows, cursor = split_page(
        await repository.page(db, limit=page.limit, after=page.after), page.limit
    )
    urls = await storage.media_urls(
        [t.storage_key for t in rows], expires_in=settings.media_url_ttl
    )
    items = [shown_track(t, url) for t, url in zip(rows, urls, strict=True)]
    return Page(items=items, next_cursor=cursor)
