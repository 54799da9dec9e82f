"""The local backend's check, on every PUT, that its upload has not been used yet."""

from __future__ import annotations

from sqlalchemy import String, bindparam, exists, select

from keepsake.media.models import Upload
from keepsake.readdb import ReadDb, ReadQuery

# `storage_key` is unique: one index probe. A used upload's row names its moved key, so
# its URL's key matches no row, as a deleted account's does.
_OPEN = ReadQuery.compile(
    select(
        exists().where(
            Upload.storage_key == bindparam("key", type_=String()), Upload.used_at.is_(None)
        )
    ),
    "key",
)


class UnusedUploadGate:
    def __init__(self, db: ReadDb) -> None:
        self._db = db

    async def open(self, key: str) -> bool:
        [row] = await _OPEN.all(self._db, key=key)
        return bool(row[0])
