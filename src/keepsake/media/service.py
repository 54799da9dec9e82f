"""Upload rules: what may be uploaded, and using an upload once, by its owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake import jobs
from keepsake.accounts.models import User
from keepsake.config import Settings
from keepsake.errors import Conflict, Invalid, NotFound
from keepsake.i18n.catalog import _
from keepsake.media import repository
from keepsake.media.models import Upload, UploadPurpose
from keepsake.media.schemas import UploadCreate, UploadPublic
from keepsake.security import utcnow
from keepsake.storage import keys
from keepsake.storage.base import Storage

# Raised here and by the local upload route alike; routes list it from this module.
from keepsake.storage.base import UploadUsed as UploadUsed
from keepsake.storage_jobs import DELETE_MEDIA_TASK

CONTENT_TYPES = {
    UploadPurpose.clip: frozenset(
        {"video/mp4", "video/quicktime", "image/jpeg", "image/png", "image/heic", "image/heif"}
    ),
    UploadPurpose.avatar: frozenset(
        {"image/jpeg", "image/png", "image/heic", "image/heif", "image/webp"}
    ),
    # Operators add music tracks; the apps' players take AAC (in MP4 or ADTS) and MP3.
    UploadPurpose.music: frozenset({"audio/mpeg", "audio/mp4", "audio/aac", "audio/x-m4a"}),
}
# Until `Settings.max_music_bytes` exists: a 5-minute MP3 at 320 kbit/s is about 12 MB.


class UploadNotFound(NotFound):
    code = "upload_not_found"


class TooManyOpenUploads(Conflict):
    code = "too_many_open_uploads"


class UploadExpired(Conflict):
    code = "upload_expired"


class UploadIncomplete(Conflict):
    code = "upload_incomplete"


def _limit(settings: Settings, purpose: UploadPurpose) -> int:
    limits = {
        UploadPurpose.clip: settings.max_clip_bytes,
        UploadPurpose.avatar: settings.max_avatar_bytes,
        UploadPurpose.music: settings.max_music_bytes,
    }
    return limits[purpose]


def _new_upload(settings: Settings, owner: User, body: UploadCreate) -> Upload:
    content_type = body.content_type.lower()
    if content_type not in CONTENT_TYPES[body.purpose]:
        allowed = ", ".join(sorted(CONTENT_TYPES[body.purpose]))
        raise Invalid(
            _("A {purpose} upload must be one of: {allowed}."),
            code="unsupported_content_type",
            field="content_type",
            params={"purpose": body.purpose.value, "allowed": allowed},
        )
    limit = _limit(settings, body.purpose)
    if body.size_bytes > limit:
        raise Invalid(
            _("A {purpose} upload is at most {megabytes} MB."),
            code="upload_too_large",
            field="size_bytes",
            params={"purpose": body.purpose.value, "megabytes": limit // (1024 * 1024)},
        )
    upload_id = uuid.uuid4()
    return Upload(
        id=upload_id,
        owner_id=owner.id,
        purpose=body.purpose,
        content_type=content_type,
        size_bytes=body.size_bytes,
        storage_key=keys.upload(owner.id, upload_id),
        expires_at=utcnow() + settings.upload_ttl,
    )


async def create_upload(
    db: AsyncSession, *, settings: Settings, storage: Storage, owner: User, body: UploadCreate
) -> UploadPublic:
    upload = _new_upload(settings, owner, body)
    if await repository.open_count(db, owner.id) >= settings.max_open_uploads:
        raise TooManyOpenUploads(
            _("You have {limit} uploads not yet used; use them or let them expire first."),
            params={"limit": settings.max_open_uploads},
        )
    await repository.add(db, upload)
    target = await storage.presign_upload(
        upload.storage_key,
        content_type=upload.content_type,
        size_bytes=body.size_bytes,
        expires_in=settings.upload_ttl,
    )
    return UploadPublic(
        id=upload.id,
        upload_url=target.url,
        method=target.method,
        headers=target.headers,
        expires_at=target.expires_at,
    )


async def receive_upload(
    db: AsyncSession,
    *,
    settings: Settings,
    storage: Storage,
    owner: User,
    purpose: UploadPurpose,
    content_type: str,
    source: Path,
    size_bytes: int,
) -> Upload:
    """An upload whose bytes reached this server itself (the console's forms): the same
    rules, row and storage key as an app's upload, its bytes stored at once."""
    body = UploadCreate(purpose=purpose, content_type=content_type, size_bytes=size_bytes)
    upload = _new_upload(settings, owner, body)
    await storage.upload_file(upload.storage_key, source, upload.content_type)
    await repository.add(db, upload)
    return upload


async def use_uploads(
    db: AsyncSession,
    *,
    storage: Storage,
    owner: User,
    ids: Sequence[uuid.UUID],
    purpose: UploadPurpose,
) -> dict[uuid.UUID, Upload]:
    """Claim the owner's uploads for one use; each must be complete, unused and unexpired.

    Someone else's upload is reported exactly like a missing one. The bytes are copied to
    `keys.claimed`, which the returned uploads carry: on S3 a presigned PUT cannot be
    withdrawn, so the copy is what keeps a late PUT from replacing what was checked here.
    """
    found = {u.id: u for u in await repository.for_use(db, ids, owner.id)}
    now = utcnow()
    for upload_id in ids:
        upload = found.get(upload_id)
        if upload is None or upload.purpose != purpose:
            raise UploadNotFound(
                _("No {purpose} upload {id} of yours."),
                params={"purpose": purpose.value, "id": upload_id},
            )
        if upload.used_at is not None:
            raise UploadUsed(_("Upload {id} was already used."), params={"id": upload_id})
        if upload.expires_at <= now:
            raise UploadExpired(
                _("Upload {id} expired; upload the file again."), params={"id": upload_id}
            )
        stored = await storage.stat(upload.storage_key)
        if stored is None or stored.size != upload.size_bytes:
            raise UploadIncomplete(
                _("Upload {id} has not received its bytes yet."), params={"id": upload_id}
            )
    await repository.mark_used(db, ids)
    raw = []
    for upload_id in ids:
        upload = found[upload_id]
        raw.append(upload.storage_key)
        await storage.copy(upload.storage_key, keys.claimed(upload.storage_key))
        upload.storage_key = keys.claimed(upload.storage_key)
    # The raw objects go once this use commits; if it rolls back, the upload is unused and
    # whole again (its copy is overwritten by the next claim, or swept with it).
    await jobs.defer(db, DELETE_MEDIA_TASK, keys=raw, prefix=None)
    return found
