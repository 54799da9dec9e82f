"""Feed rules: which memories a page holds is decided in SQL (see the repository); here the
rows become memory cards, and the page its opaque cursor.

Every list and read of stored memories goes through here — home, explore, hashtags, a
person's memories, one memory — so each costs one statement for its whole page. The feeds
proper answer with plain values for the router to serialize (see `memories.views.card`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from keepsake.config import Settings
from keepsake.feeds import repository
from keepsake.feeds.repository import CardRow
from keepsake.memories.hashtags import MAX_TAG_CHARS, normalize_tag
from keepsake.memories.media_gate import for_viewer
from keepsake.memories.schemas import MemoryPublic
from keepsake.memories.views import Card, FeedPage, card, media_keys, signed
from keepsake.music.models import MusicTrack
from keepsake.pagination import Page, PageRequest, split_page
from keepsake.readdb import ReadQuery, Reads
from keepsake.storage.base import Storage


# Named tuples: a page makes about a hundred of these, and tuples are built in C.
class _Author(NamedTuple):
    id: uuid.UUID
    handle: str
    display_name: str


class _Clip(NamedTuple):
    id: str
    duration_s: float | None
    width: int | None
    height: int | None
    video_key: str | None
    poster_key: str | None


class _Parts(NamedTuple):
    """A card row's nested parts, as `card` takes them."""

    author: _Author
    clips: list[_Clip]
    track: MusicTrack | None


def _clip(fields: list[Any]) -> _Clip:
    clip_id, duration_s, width, height, video_key, poster_key = fields
    # JSON writes a whole-number double as an integer: `2.0` would come back as `2`.
    duration = None if duration_s is None else float(duration_s)
    return _Clip(clip_id, duration, width, height, video_key, poster_key)


def _parts(row: CardRow) -> _Parts:
    track = None
    if row.track_id is not None:
        track = MusicTrack(
            id=row.track_id,
            title=row.track_title,
            artist=row.track_artist,
            duration_s=row.track_duration_s,
            storage_key=row.track_key,
        )
    return _Parts(
        author=_Author(row.author_id, row.author_handle, row.author_display_name),
        # Clips arrive as JSON arrays `[id, duration_s, width, height, video_key, poster_key]`.
        clips=[_clip(c) for c in row.clips or ()],
        track=track,
    )


async def _cards(
    settings: Settings, storage: Storage, viewer_id: uuid.UUID, rows: Sequence[CardRow]
) -> list[Card]:
    parts = [_parts(row) for row in rows]
    # One batch of signatures for the whole page.
    keys = [
        key for row, p in zip(rows, parts, strict=True) for key in media_keys(row, p.clips, p.track)
    ]
    urls = await signed(settings, storage, keys, viewer=for_viewer(viewer_id))
    return [
        card(
            row,
            author=p.author,
            clips=p.clips,
            tags=row.tags,
            track=p.track,
            viewer_id=viewer_id,
            my_claps=row.my_claps or 0,
            clap_total=row.clap_total or 0,
            urls=urls,
        )
        for row, p in zip(rows, parts, strict=True)
    ]


async def _page(
    settings: Settings, storage: Storage, viewer_id: uuid.UUID, rows: list[CardRow], limit: int
) -> FeedPage:
    cards, cursor = split_page(rows, limit)
    return {"items": await _cards(settings, storage, viewer_id, cards), "next_cursor": cursor}


async def home(
    db: Reads, *, settings: Settings, storage: Storage, viewer_id: uuid.UUID, page: PageRequest
) -> FeedPage:
    rows = await repository.home(db, viewer_id=viewer_id, limit=page.limit, after=page.after)
    return await _page(settings, storage, viewer_id, rows, page.limit)


async def explore(
    db: Reads, *, settings: Settings, storage: Storage, viewer_id: uuid.UUID, page: PageRequest
) -> FeedPage:
    rows = await repository.explore(db, viewer_id=viewer_id, limit=page.limit, after=page.after)
    return await _page(settings, storage, viewer_id, rows, page.limit)


async def hashtag(
    db: Reads,
    *,
    settings: Settings,
    storage: Storage,
    viewer_id: uuid.UUID,
    tag: str,
    page: PageRequest,
) -> FeedPage:
    """Tags are matched in the form captions store them: `#Café`, `café` and `CAFÉ` agree."""
    stored = normalize_tag(tag.removeprefix("#"))[:MAX_TAG_CHARS]
    rows = await repository.hashtag(
        db, viewer_id=viewer_id, tag=stored, limit=page.limit, after=page.after
    )
    return await _page(settings, storage, viewer_id, rows, page.limit)


async def person_page(
    db: Reads,
    *,
    settings: Settings,
    storage: Storage,
    viewer_id: uuid.UUID,
    author_id: uuid.UUID,
    page: PageRequest,
) -> FeedPage:
    """A person's memories as the viewer may see them; the caller has checked the person."""
    rows = await repository.person(
        db, viewer_id=viewer_id, author_id=author_id, limit=page.limit, after=page.after
    )
    return await _page(settings, storage, viewer_id, rows, page.limit)


async def person(
    db: Reads,
    *,
    settings: Settings,
    storage: Storage,
    viewer_id: uuid.UUID,
    author_id: uuid.UUID,
    page: PageRequest,
) -> Page[MemoryPublic]:
    """`person_page` as the model, for templates (the share pages)."""
    shown = await person_page(
        db, settings=settings, storage=storage, viewer_id=viewer_id, author_id=author_id, page=page
    )
    return Page[MemoryPublic].model_validate(shown)


async def chosen(
    db: Reads,
    *,
    settings: Settings,
    storage: Storage,
    viewer_id: uuid.UUID,
    query: ReadQuery,
    params: Mapping[str, Any],
    limit: int,
) -> FeedPage:
    """A page of memories another domain picks (a mission's entries), as cards; the
    query is a `repository.card_query` fetching `limit + 1` rows."""
    rows = await repository.cards(db, query, {"viewer_id": viewer_id, **params})
    return await _page(settings, storage, viewer_id, rows, limit)


async def memory(
    db: Reads, *, settings: Settings, storage: Storage, viewer_id: uuid.UUID, memory_id: uuid.UUID
) -> Card | None:
    """One memory as the viewer may see it, or None when they may not (or it is gone)."""
    row = await repository.one(db, viewer_id=viewer_id, memory_id=memory_id)
    if row is None:
        return None
    [shown] = await _cards(settings, storage, viewer_id, [row])
    return shown
