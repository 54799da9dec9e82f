"""Sweeps of uploads: bytes nobody used before their URL expired are removed."""

from __future__ import annotations

import structlog

from keepsake import jobs
from keepsake.media import repository
from keepsake.storage import keys as storage_keys

log = structlog.get_logger("keepsake.media")
BATCH = 200


async def sweep_expired_uploads(res: jobs.Resources) -> None:
    async with res.sessionmaker() as db, db.begin():
        expired = await repository.expired_unused(db, limit=BATCH)
        if not expired:
            return
        # A claim that rolled back may have left a copy beside the upload.
        keys = [upload.storage_key for upload in expired]
        await res.storage.delete(keys + [storage_keys.claimed(key) for key in keys])
        await repository.delete(db, expired)
    log.info("uploads.expired.removed", count=len(expired))
