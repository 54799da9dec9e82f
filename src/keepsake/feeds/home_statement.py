"""The home page's statement: fanned-out timeline rows, re-checked, and wide authors read
at request time."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, SQLColumnExpression, exists, select, true, union
from sqlalchemy.orm import aliased

from keepsake.accounts.models import User
from keepsake.feeds.clauses import LIMIT, READY, VIEWER, VISIBLE, AnySelect, newest_first, not_muted
from keepsake.feeds.models import HomeEntry, HomeWideAuthor
from keepsake.graph.models import Follow, FollowState
from keepsake.memories.models import Memory


def _followed(author_id: SQLColumnExpression[uuid.UUID]) -> ColumnElement[bool]:
    """The viewer follows the author now (an approved follow) and has not muted them."""
    follow = aliased(Follow)
    active = exists().where(
        follow.follower_id == VIEWER,
        follow.followee_id == author_id,
        follow.state == FollowState.active,
    )
    return active & not_muted(author_id)


def home_page() -> AnySelect:
    """The ids of a home page: the viewer's own and their active followees' memories,
    from `home_timeline`.

    The timeline's primary key is read newest first and stops after `limit` rows that
    pass, so the work is about one page's worth of rows, however many people the viewer
    follows and however much they ever posted. Its rows are candidates only: each is
    checked against the whole policy here, and against the follow and mute as they
    stand now, so a timeline that lags a change never shows what the viewer may not see.
    Authors too widely followed to fan out to (`home_wide_authors`) are merged in at
    read time: each one the viewer follows adds one index scan of `limit` rows.
    """
    entry = aliased(HomeEntry)
    fanned = newest_first(
        select(entry.memory_id.label("id"), entry.created_at.label("created_at"))
        .join(Memory, Memory.id == entry.memory_id)
        .join(User, User.id == Memory.author_id)
        .where(
            entry.owner_id == VIEWER,
            READY,
            VISIBLE,
            (Memory.author_id == VIEWER) | _followed(Memory.author_id),
        ),
        entry.created_at,
        entry.memory_id,
    )
    wide = aliased(HomeWideAuthor)
    recent = newest_first(
        select(Memory.id, Memory.created_at)
        .join(User, User.id == Memory.author_id)
        .where(Memory.author_id == wide.author_id, READY, VISIBLE),
        Memory.created_at,
        Memory.id,
    ).lateral("recent")
    read_now = (
        select(recent.c.id, recent.c.created_at)
        .select_from(wide)
        .join(recent, true())
        .where(wide.author_id != VIEWER, _followed(wide.author_id))
    )
    # UNION, not UNION ALL: a wide author's memories from before they became wide
    # are in the timeline too.
    both = union(fanned, read_now).subquery("both")
    return select(both.c.id).order_by(both.c.created_at.desc(), both.c.id.desc()).limit(LIMIT)
