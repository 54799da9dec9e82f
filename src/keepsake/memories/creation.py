"""Making a memory: the body checked against the limits, its uploads claimed as clips,
the rows written and processing queued, all in the request's one transaction."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts.models import User
from keepsake.config import Settings
from keepsake.errors import Invalid
from keepsake.i18n.catalog import _
from keepsake.kinds import MemoryStatus
from keepsake.media import service as uploads
from keepsake.media.models import Upload, UploadPurpose
from keepsake.memories import repository
from keepsake.memories.hashtags import parse_hashtags
from keepsake.memories.media_gate import for_viewer
from keepsake.memories.models import Clip, Memory
from keepsake.memories.schemas import MemoryCreate, MemoryPublic
from keepsake.memories.service import defer_processing
from keepsake.memories.views import card, media_keys, signed
from keepsake.music import service as music
from keepsake.music.models import MusicTrack
from keepsake.security import utcnow
from keepsake.storage.base import Storage

PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/heic", "image/heif"})
DEFAULT_STILL_SECONDS = 3.0


def _check_limits(settings: Settings, body: MemoryCreate) -> list[uuid.UUID]:
    """The upload ids of the clips, once the body is within the limits."""
    if len(body.clips) > settings.max_clips:
        raise Invalid(
            _("A memory has at most {limit} clips."),
            code="too_many_clips",
            field="clips",
            params={"limit": settings.max_clips},
        )
    ids = [clip.upload_id for clip in body.clips]
    if len(set(ids)) != len(ids):
        raise Invalid(
            _("Each upload can be one clip only."), code="duplicate_upload", field="clips"
        )
    if len(body.caption) > settings.max_caption_chars:
        raise Invalid(
            _("A caption is at most {limit} characters."),
            code="caption_too_long",
            field="caption",
            params={"limit": settings.max_caption_chars},
        )
    return ids


async def _track(db: AsyncSession, body: MemoryCreate) -> MusicTrack | None:
    track = None
    if body.music_track_id is not None:
        track = await music.track(db, body.music_track_id)
        if track is None:
            raise Invalid(
                _("No such music track."), code="music_track_not_found", field="music_track_id"
            )
    return track


def _new_memory(
    settings: Settings, author: User, body: MemoryCreate, claimed: dict[uuid.UUID, Upload]
) -> tuple[Memory, list[Clip]]:
    now = utcnow()
    memory = Memory(
        id=uuid.uuid4(),
        author_id=author.id,
        status=MemoryStatus.processing,
        caption=body.caption,
        visibility=body.visibility,
        music_track_id=body.music_track_id,
        created_at=now,
        processing_deadline=now + settings.processing_deadline,
    )
    clips = []
    for position, clip in enumerate(body.clips):
        upload = claimed[clip.upload_id]
        photo = upload.content_type in PHOTO_TYPES
        clips.append(
            Clip(
                id=uuid.uuid4(),
                memory_id=memory.id,
                position=position,
                upload_id=upload.id,
                source_key=upload.storage_key,
                source_content_type=upload.content_type,
                still_seconds=(clip.still_seconds or DEFAULT_STILL_SECONDS) if photo else None,
            )
        )
    return memory, clips


async def create_memory(
    db: AsyncSession, *, settings: Settings, storage: Storage, author: User, body: MemoryCreate
) -> MemoryPublic:
    ids = _check_limits(settings, body)
    track = await _track(db, body)
    claimed = await uploads.use_uploads(
        db, storage=storage, owner=author, ids=ids, purpose=UploadPurpose.clip
    )
    memory, clips = _new_memory(settings, author, body, claimed)
    tags = parse_hashtags(body.caption)
    await repository.insert(db, memory, clips, tags)
    await defer_processing(db, memory.id)
    keys = media_keys(memory, clips, track)
    urls = await signed(settings, storage, keys, viewer=for_viewer(author.id))
    created = card(
        memory,
        author=author,
        clips=clips,
        tags=tags,
        track=track,
        viewer_id=author.id,
        # A memory just created has no claps yet: no query needed to say so.
        my_claps=0,
        clap_total=0,
        urls=urls,
    )
    return MemoryPublic.model_validate(created)
