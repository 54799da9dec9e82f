"""Who a local media URL was signed for, and whether they may still read its file.

A memory's files live under `memories/<memory id>/`. Their URLs are signed for one
viewer (`for_viewer`), or for a moderator judging a report (`for_moderator`), and the
local backend asks `MemoryMediaGate` on every read: a block, a removed follower, a memory
gone `only_me`, an account gone private, a moderator's hide or a deletion since the URL
was made refuse it at once. Avatars, music and exports are not a memory's: their URLs
are checked by signature and expiry only.
"""

from __future__ import annotations

import re
import uuid
from typing import cast

from sqlalchemy import Uuid, bindparam, exists, select

from keepsake.accounts.models import Role, User
from keepsake.kinds import AccountStatus
from keepsake.memories.models import Memory
from keepsake.privacy import memory_visible
from keepsake.readdb import ReadDb, ReadQuery

_MEMORY_KEY = re.compile(r"memories/([0-9a-f-]{36})/.+")
_MODERATOR = "m"

_VIEWER = bindparam("viewer_id", type_=Uuid())
_VISIBLE = ReadQuery.compile(
    select(
        exists()
        .where(Memory.id == bindparam("memory_id", type_=Uuid()), User.id == Memory.author_id)
        .where(
            memory_visible(
                # The policy takes the viewer as a value; the bound parameter compiles the same.
                cast(uuid.UUID, _VIEWER),
                author_id=Memory.author_id,
                visibility=Memory.visibility,
                status=Memory.status,
                hidden_at=Memory.hidden_at,
                author_status=User.status,
                author_is_private=User.is_private,
            )
        )
    ),
    "viewer_id",
    "memory_id",
)
# Moderators read a reported memory as it is, hidden or not, while they hold the role.
_MODERATES = ReadQuery.compile(
    select(
        exists().where(
            User.id == _VIEWER,
            User.role.in_((Role.moderator, Role.admin)),
            User.status == AccountStatus.active,
        )
    ),
    "viewer_id",
)


def for_viewer(viewer_id: uuid.UUID) -> str:
    """The token of media URLs signed for `viewer_id` (`privacy.ANONYMOUS` for share pages)."""
    return viewer_id.hex


def for_moderator(moderator_id: uuid.UUID) -> str:
    return _MODERATOR + moderator_id.hex


class MemoryMediaGate:
    def __init__(self, db: ReadDb) -> None:
        self._db = db

    async def allows(self, key: str, viewer: str) -> bool:
        found = _MEMORY_KEY.fullmatch(key)
        if found is None:
            return True
        try:
            memory_id = uuid.UUID(found[1])
            moderator = viewer.startswith(_MODERATOR)
            viewer_id = uuid.UUID(hex=viewer.removeprefix(_MODERATOR))
        except ValueError:
            # No viewer (or not one of ours): a memory's file is never anyone's.
            return False
        if moderator:
            [row] = await _MODERATES.all(self._db, viewer_id=viewer_id)
        else:
            [row] = await _VISIBLE.all(self._db, viewer_id=viewer_id, memory_id=memory_id)
        return bool(row[0])
