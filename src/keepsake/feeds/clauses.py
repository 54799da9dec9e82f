"""The pieces every feed statement is built from: the bound viewer, cursor and limit, the
privacy policy's SQL twin bound to the viewer, and the newest-first keyset page."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    DateTime,
    Integer,
    Select,
    SQLColumnExpression,
    Uuid,
    bindparam,
    exists,
    literal_column,
    tuple_,
)
from sqlalchemy.orm import aliased

from keepsake.accounts.models import User
from keepsake.graph.models import Mute
from keepsake.memories.models import Memory
from keepsake.privacy import memory_visible

# Statements of any columns; rows are read by column name.
AnySelect = Select[*tuple[Any, ...]]

VIEWER: BindParameter[uuid.UUID] = bindparam("viewer_id", type_=Uuid())
LIMIT = bindparam("limit", type_=Integer())
BEFORE = tuple_(
    bindparam("before_at", type_=DateTime(timezone=True)), bindparam("before_id", type_=Uuid())
)

# The policy takes the viewer as a value; the bound parameter compiles to the same SQL.
VISIBLE = memory_visible(
    cast(uuid.UUID, VIEWER),
    author_id=Memory.author_id,
    visibility=Memory.visibility,
    status=Memory.status,
    hidden_at=Memory.hidden_at,
    author_status=User.status,
    author_is_private=User.is_private,
)
# Written out rather than bound, so the planner can match the partial index
# `ix_memories_public_ready_created` even with a generic plan of a prepared statement.
PUBLIC_READY = (Memory.visibility == literal_column("'public'")) & (
    Memory.status == literal_column("'ready'")
)
READY = Memory.status == literal_column("'ready'")


def not_muted(author_id: SQLColumnExpression[uuid.UUID]) -> ColumnElement[bool]:
    """Muted people stay out of home, explore and hashtags (not out of their own page)."""
    mute = aliased(Mute)
    return ~exists().where(mute.muter_id == VIEWER, mute.muted_id == author_id)


def newest_first(
    query: AnySelect,
    created_at: SQLColumnExpression[datetime],
    # Nullable too (a mission entry's `memory_id`): the caller's joins keep the nulls out.
    item_id: SQLColumnExpression[uuid.UUID | None],
) -> AnySelect:
    return (
        query.where(tuple_(created_at, item_id) < BEFORE)
        .order_by(created_at.desc(), item_id.desc())
        .limit(LIMIT)
    )
