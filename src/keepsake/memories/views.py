"""How a memory is shown: signed media URLs, and numbers only for their owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from keepsake.accounts.models import User
from keepsake.config import Settings
from keepsake.memories.models import Clip, Memory, MemoryStatus
from keepsake.memories.schemas import AuthorPublic, ClipPublic, Failure, MemoryPublic
from keepsake.music.models import MusicTrack
from keepsake.music.service import track_view
from keepsake.privacy import Person
from keepsake.storage.base import Storage


async def _clip(settings: Settings, storage: Storage, clip: Clip, ready: bool) -> ClipPublic:
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
    memory: Memory,
    *,
    author: Person | User,
    clips: Sequence[Clip],
    tags: Sequence[str],
    track: MusicTrack | None,
    viewer_id: uuid.UUID,
) -> MemoryPublic:
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
        # Claps arrive with their own domain; until then nobody has clapped.
        my_claps=0,
        clap_total=0 if is_author else None,
    )
