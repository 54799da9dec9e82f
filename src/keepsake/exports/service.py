"""Data export rules: one export in the making at a time, reused while it is kept."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake import jobs
from keepsake.accounts.models import User
from keepsake.config import Settings
from keepsake.errors import Unavailable
from keepsake.exports import repository
from keepsake.exports.models import Export, ExportStatus
from keepsake.exports.schemas import ExportPublic
from keepsake.i18n.catalog import _
from keepsake.security import utcnow
from keepsake.storage import keys
from keepsake.storage.base import Storage

BUILD_TASK = "exports:build_export"
# How long a ready export is kept. Until then asking again returns it instead of
# building another, which also limits everyone to one new export a day.
EXPORT_TTL = timedelta(hours=24)
# A pending export past this with no job queued lost its job, and is built again.
BUILD_DEADLINE = timedelta(minutes=30)


class ExportBusy(Unavailable):
    code = "export_busy"


def build_lock(export_id: uuid.UUID) -> str:
    """One build of an export at a time, and at most one waiting."""
    return f"export:{export_id}"


async def defer_build(
    db: AsyncSession, export_id: uuid.UUID, *, delay: timedelta | None = None
) -> None:
    await jobs.defer(
        db,
        BUILD_TASK,
        queueing_lock=build_lock(export_id),
        lock=build_lock(export_id),
        scheduled_at=utcnow() + delay if delay else None,
        export_id=str(export_id),
    )


def give_up(export: Export, now: datetime) -> None:
    """Failed for good: never shown, so the next request starts afresh; swept like the rest."""
    export.status = ExportStatus.failed
    export.deadline = None
    export.expires_at = now + EXPORT_TTL


async def my_export(
    db: AsyncSession, *, settings: Settings, storage: Storage, user: User
) -> ExportPublic:
    """The user's kept export, or the one in the making, or a new one started now."""
    now = utcnow()
    # A second pass only when a concurrent request started the export first.
    for _attempt in range(2):
        export = await repository.current(db, user.id, now=now)
        if export is None:
            export = await repository.insert_pending(
                db, user_id=user.id, deadline=now + BUILD_DEADLINE
            )
            if export is not None:
                await defer_build(db, export.id)
        if export is not None:
            return await _view(settings, storage, export, now=now)
    raise ExportBusy(_("Your export is changing right now; ask again in a moment."))


async def _view(
    settings: Settings, storage: Storage, export: Export, *, now: datetime
) -> ExportPublic:
    if export.status == ExportStatus.pending:
        return ExportPublic(id=export.id, status="pending", created_at=export.created_at)
    assert export.expires_at is not None, "a ready export always has an expiry"
    # Asked to last no longer than the file. Signed URLs round their expiry up (at most
    # `MEDIA_EXPIRY_STEP`), so one may outlive the file by minutes, then find nothing.
    link_ttl = min(settings.media_url_ttl, export.expires_at - now)
    url = await storage.media_url(
        keys.export_archive(export.user_id, export.id), expires_in=link_ttl
    )
    return ExportPublic(
        id=export.id,
        status="ready",
        created_at=export.created_at,
        url=url,
        expires_at=now + link_ttl,
        available_until=export.expires_at,
        size_bytes=export.size_bytes,
    )
