"""How a memory is shown: signed media URLs, and numbers only for their owner."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, TypedDict

from keepsake.config import Settings
from keepsake.kinds import MemoryStatus
from keepsake.music.models import MusicTrack
from keepsake.music.service import shown_track
from keepsake.storage.base import Storage

# What rendering reads, as protocols: a `Memory` or `Clip` row object fits, and so does a
# feed's row of plain columns, which costs far less to load than mapped objects. Such a row
# carries enum columns as the driver's text, which the string enums compare equal to.
# A memory card as plain values: `MemoryPublic`'s shape, ready for JSON.
Card = dict[str, Any]


class FeedPage(TypedDict):
    """A page of memory cards: `Page[MemoryPublic]`'s shape, ready for JSON."""

    items: list[Card]
    next_cursor: str | None


class MemoryFields(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def author_id(self) -> uuid.UUID: ...
    @property
    def status(self) -> str: ...
    @property
    def failure_code(self) -> str | None: ...
    @property
    def failure_detail(self) -> str | None: ...
    @property
    def caption(self) -> str: ...
    @property
    def visibility(self) -> str: ...
    @property
    def duration_s(self) -> float | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def hidden_at(self) -> datetime | None: ...
    @property
    def hidden_reason(self) -> str | None: ...


class ClipFields(Protocol):
    # Feeds pass the id as the text their JSON row carries: it is only written out again.
    @property
    def id(self) -> uuid.UUID | str: ...
    @property
    def duration_s(self) -> float | None: ...
    @property
    def width(self) -> int | None: ...
    @property
    def height(self) -> int | None: ...
    @property
    def video_key(self) -> str | None: ...
    @property
    def poster_key(self) -> str | None: ...


class AuthorFields(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def handle(self) -> str: ...
    @property
    def display_name(self) -> str: ...


def media_keys(
    memory: MemoryFields, clips: Sequence[ClipFields], track: MusicTrack | None
) -> list[str]:
    """What a card shows signed URLs of: its clips' renditions once ready and not hidden by
    a moderator (not even to its author: what was hidden may be unlawful to serve); its
    track."""
    keys = []
    if memory.status == MemoryStatus.ready and memory.hidden_at is None:
        keys = [key for clip in clips for key in (clip.video_key, clip.poster_key) if key]
    if track is not None:
        keys.append(track.storage_key)
    return keys


async def signed(
    settings: Settings, storage: Storage, keys: list[str], *, viewer: str
) -> dict[str, str]:
    """Signed URLs of `keys` for `viewer` (`media_gate`), made in one batch (for S3, one
    trip to a worker thread)."""
    urls = await storage.media_urls(keys, expires_in=settings.media_url_ttl, viewer=viewer)
    return dict(zip(keys, urls, strict=True))


def _clip(clip: ClipFields, ready: bool, urls: Mapping[str, str]) -> dict[str, Any]:
    return {
        "id": clip.id,
        "duration_s": clip.duration_s,
        "width": clip.width,
        "height": clip.height,
        "video_url": urls[clip.video_key] if ready and clip.video_key else None,
        "poster_url": urls[clip.poster_key] if ready and clip.poster_key else None,
    }


def card(
    memory: MemoryFields,
    *,
    author: AuthorFields,
    clips: Sequence[ClipFields],
    tags: Sequence[str],
    track: MusicTrack | None,
    viewer_id: uuid.UUID,
    my_claps: int,
    clap_total: int,
    urls: Mapping[str, str],
) -> dict[str, Any]:
    """The memory as `viewer_id` sees it: `MemoryPublic`'s shape, as plain values.

    `urls` holds the signed URLs of its `media_keys`. Feeds serialize cards straight to
    JSON: building and validating 20 models a page cost more CPU than the rest of the
    request. Routes answering with one memory validate it into the model.
    `tests/feeds/test_feeds.py` checks that a feed's cards are exactly what `MemoryPublic` makes
    of them.
    """
    shown: dict[str, Any] = {
        "id": memory.id,
        "author": {"id": author.id, "handle": author.handle, "display_name": author.display_name},
        "status": memory.status,
    }
    if memory.status == MemoryStatus.failed and memory.failure_code:
        shown["failure"] = {"code": memory.failure_code, "detail": memory.failure_detail or ""}
    ready = memory.status == MemoryStatus.ready and memory.hidden_at is None
    shown["clips"] = [_clip(clip, ready, urls) for clip in clips]
    shown["duration_s"] = memory.duration_s
    shown["music_track"] = (
        shown_track(track, urls[track.storage_key]).model_dump() if track else None
    )
    shown["caption"] = memory.caption
    shown["hashtags"] = list(tags)
    shown["visibility"] = memory.visibility
    shown["created_at"] = memory.created_at
    shown["my_claps"] = my_claps
    # Absent rather than null: another viewer's response carries no total at all.
    if viewer_id == memory.author_id:
        shown["clap_total"] = clap_total
    # Only the author is ever shown a hidden memory (`keepsake.privacy`).
    if memory.hidden_at is not None:
        shown["moderation"] = {"status": "hidden", "reason": memory.hidden_reason or ""}
    return shown
