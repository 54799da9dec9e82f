"""The export's build job, and the sweep that restarts lost builds and removes old exports.

A build reads everything afresh and stores the ZIP under the export's own key, so a run
that dies is simply run again. Every run counts an attempt; a failure is retried with
backoff until `processing_max_attempts`, then the export fails and the next request
starts a new one.
"""

from __future__ import annotations

import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import procrastinate
import structlog
from procrastinate import JobContext

from keepsake import jobs
from keepsake.exports import archive, repository
from keepsake.exports.models import Export, ExportStatus
from keepsake.exports.service import (
    BUILD_DEADLINE,
    EXPORT_TTL,
    build_lock,
    defer_build,
    give_up,
)
from keepsake.security import utcnow
from keepsake.storage import keys

log = structlog.get_logger("keepsake.exports")
blueprint = procrastinate.Blueprint()
BATCH = 100


async def _start_attempt(res: jobs.Resources, export_id: uuid.UUID) -> Export | None:
    """Count the attempt and push the deadline; None when there is nothing to build."""
    async with res.sessionmaker() as db, db.begin():
        export = await repository.get(db, export_id, lock=True)
        if export is None or export.status != ExportStatus.pending:
            return None
        export.attempts += 1
        export.deadline = utcnow() + BUILD_DEADLINE
        return export


async def _build(res: jobs.Resources, export: Export) -> int | None:
    """Write and store the ZIP; its size in bytes, or None when the account is gone."""
    async with res.sessionmaker() as db, db.begin():
        contents = await archive.collect(
            db, settings=res.settings, storage=res.storage, user_id=export.user_id
        )
    if contents is None:
        return None
    with tempfile.TemporaryDirectory(prefix="keepsake-export-") as folder:
        path = Path(folder) / "export.zip"
        await archive.write(res.storage, contents, path)
        key = keys.export_archive(export.user_id, export.id)
        await res.storage.upload_file(key, path, "application/zip")
        return path.stat().st_size


async def _finish(res: jobs.Resources, export: Export, size: int) -> None:
    async with res.sessionmaker() as db, db.begin():
        current = await repository.get(db, export.id, lock=True)
        if current is None or current.status != ExportStatus.pending:
            # Purged with its account while we worked: the ZIP belongs to nobody.
            await res.storage.delete([keys.export_archive(export.user_id, export.id)])
            return
        current.status = ExportStatus.ready
        current.size_bytes = size
        current.deadline = None
        current.expires_at = utcnow() + EXPORT_TTL
    log.info("export.ready", export_id=str(export.id), size_bytes=size)


async def _retry_or_fail(res: jobs.Resources, export: Export) -> None:
    async with res.sessionmaker() as db, db.begin():
        if export.attempts < res.settings.processing_max_attempts:
            wait_s = res.settings.processing_retry_wait_s * 2 ** (export.attempts - 1)
            log.warning(
                "export.retry", export_id=str(export.id), attempt=export.attempts, delay_s=wait_s
            )
            await defer_build(db, export.id, delay=timedelta(seconds=wait_s))
            return
        log.exception("export.failed", export_id=str(export.id))
        current = await repository.get(db, export.id, lock=True)
        if current is not None and current.status == ExportStatus.pending:
            give_up(current, utcnow())


@blueprint.task(name="build_export", pass_context=True, retry=jobs.REQUEUE_ON_SHUTDOWN)
async def build_export(context: JobContext, export_id: str) -> None:
    res = jobs.resources(context)
    export = await _start_attempt(res, uuid.UUID(export_id))
    if export is None:
        return
    try:
        size = await _build(res, export)
    except Exception:
        # Storage or the database may be out for a while: try again later.
        await _retry_or_fail(res, export)
        return
    if size is not None:
        await _finish(res, export, size)


async def reconcile(res: jobs.Resources) -> None:
    """No export stays pending for ever, and none outlives its expiry."""
    now = utcnow()
    async with res.sessionmaker() as db, db.begin():
        for export in await repository.stuck(db, now=now, limit=BATCH):
            if await jobs.has_pending_job(db, build_lock(export.id)):
                continue
            if export.attempts >= res.settings.processing_max_attempts:
                give_up(export, now)
                log.warning("export.failed", export_id=str(export.id), code="build_timeout")
                continue
            export.deadline = now + BUILD_DEADLINE
            await defer_build(db, export.id)
            log.warning("export.requeued", export_id=str(export.id))
    async with res.sessionmaker() as db, db.begin():
        expired = await repository.expired(db, now=now, limit=BATCH)
        if not expired:
            return
        # Files first: should storage fail, the rows stay and the next sweep tries again.
        await res.storage.delete([keys.export_archive(e.user_id, e.id) for e in expired])
        await repository.delete(db, expired)
    log.info("exports.expired.removed", count=len(expired))
