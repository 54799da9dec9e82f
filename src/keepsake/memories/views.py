"""How a memory is shown: signed media URLs, and numbers only for their owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from keepsake.config import Settings
from keepsake.memories.models import MemoryStatus, Visibility
from keepsake.memories.schemas import AuthorPublic, ClipPublic, Failure, MemoryPublic
from keepsake.music.models import MusicTrack
from keepsake.music.service import track_view
from keepsake.storage.base import Storage


# What rendering reads, as protocols: a `Memory` or `Clip` row object fits, and so does a
# feed's row of plain columns, which costs far less to load than mapped objects.
class MemoryFields(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def author_id(self) -> uuid.UUID: ...
    @property
    def status(self) -> MemoryStatus: ...
    @property
    def failure_code(self) -> str | None: ...
    @property
    def failure_detail(self) -> str | None: ...
    @property
    def caption(self) -> str: ...
    @property
    def visibility(self) -> Visibility: ...
    @property
    def duration_s(self) -> float | None: ...
    @property
    def created_at(self) -> datetime: ...


class ClipFields(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
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


async def _clip(settings: Settings, storage: Storage, clip: ClipFields, ready: bool) -> ClipPublic:
    ttl = settings.media_url_ttl
    return ClipPublic(
        id=clip.id,
        duration_s=clip.duration_s,
        width=clip.width,
        height=clip.height,
        video_url=await storage.media_url(clip.video_key, expires_in=ttl)
        if ready and clip.video_key
        else None,
        poster_url=await storage.media_url(clip.poster_key, expires_in=ttl)
        if ready and clip.poster_key
        else None,
    )


async def render(
    settings: Settings,
    storage: Storage,
    memory: MemoryFields,
    *,
    author: AuthorFields,
    clips: Sequence[ClipFields],
    tags: Sequence[str],
    track: MusicTrack | None,
    viewer_id: uuid.UUID,
    my_claps: int,
    clap_total: int,
) -> MemoryPublic:
    """The memory as `viewer_id` sees it: `clap_total` is dropped unless they are the author."""
    ready = memory.status == MemoryStatus.ready
    failure = (
        Failure(code=memory.failure_code, detail=memory.failure_detail or "")
        if memory.status == MemoryStatus.failed and memory.failure_code
        else None
    )
    is_author = viewer_id == memory.author_id
    return MemoryPublic(
        id=memory.id,
        author=AuthorPublic(id=author.id, handle=author.handle, display_name=author.display_name),
        status=memory.status,
        failure=failure,
        clips=[await _clip(settings, storage, clip, ready) for clip in clips],
        duration_s=memory.duration_s,
        music_track=await track_view(settings, storage, track) if track else None,
        caption=memory.caption,
        hashtags=list(tags),
        visibility=memory.visibility,
        created_at=memory.created_at,
        my_claps=my_claps,
        clap_total=clap_total if is_author else None,
    )
