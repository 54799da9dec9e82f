"""Operator rules of the music library: adding, renaming and removing tracks.

Kept apart from `service.py` because memories read the library through that module,
while removing files here goes through the memories' storage-deletion job.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake import jobs
from keepsake.accounts.models import User
from keepsake.config import Settings
from keepsake.errors import NotFound
from keepsake.i18n.catalog import _
from keepsake.media import service as uploads
from keepsake.media.models import UploadPurpose
from keepsake.music import repository
from keepsake.music.audio import probe_audio
from keepsake.music.models import MusicTrack
from keepsake.music.schemas import MusicTrackCreate, MusicTrackPublic, MusicTrackUpdate
from keepsake.music.service import track_view
from keepsake.storage import keys
from keepsake.storage.base import Storage
from keepsake.storage_jobs import DELETE_MEDIA_TASK


class MusicTrackNotFound(NotFound):
    code = "music_track_not_found"


async def add_track(
    db: AsyncSession,
    *,
    settings: Settings,
    storage: Storage,
    admin: User,
    body: MusicTrackCreate,
) -> MusicTrackPublic:
    """Turn the admin's music upload into a library track.

    The file is probed before anything is stored; if the request then fails, at worst
    an unreferenced file stays under `music/` while the upload stays usable.
    """
    claimed = await uploads.use_uploads(
        db, storage=storage, owner=admin, ids=[body.upload_id], purpose=UploadPurpose.music
    )
    upload = claimed[body.upload_id]
    track_id = uuid.uuid4()
    key = keys.music_track(track_id)
    with tempfile.TemporaryDirectory(prefix="keepsake-music-") as folder:
        source = Path(folder) / "audio"
        await storage.download(upload.storage_key, source)
        info = await anyio.to_thread.run_sync(probe_audio, source)
        await storage.upload_file(key, source, info.content_type)
    track = MusicTrack(
        id=track_id,
        title=body.title,
        artist=body.artist,
        duration_s=info.duration_s,
        storage_key=key,
    )
    await repository.add(db, track)
    # In the same transaction: the upload's bytes go only once the track exists.
    await jobs.defer(db, DELETE_MEDIA_TASK, keys=[upload.storage_key], prefix=None)
    return await track_view(settings, storage, track)


async def update_track(
    db: AsyncSession,
    *,
    settings: Settings,
    storage: Storage,
    track_id: uuid.UUID,
    body: MusicTrackUpdate,
) -> MusicTrackPublic:
    track = await repository.get_for_update(db, track_id)
    if track is None:
        raise MusicTrackNotFound(_("No such music track."))
    if body.title is not None:
        track.title = body.title
    if body.artist is not None:
        track.artist = body.artist
    return await track_view(settings, storage, track)


async def delete_track(db: AsyncSession, *, track_id: uuid.UUID) -> None:
    """Remove the track; memories that played it keep working, without music."""
    key = await repository.delete_track(db, track_id)
    if key is None:
        raise MusicTrackNotFound(_("No such music track."))
    # A job in the same transaction: the file goes exactly when the row does.
    await jobs.defer(db, DELETE_MEDIA_TASK, keys=[key], prefix=None)
