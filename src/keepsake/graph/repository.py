"""Queries of the social graph.

Profiles and lists read a few public columns of `users` here, joined to the graph,
rather than through the accounts service: a profile view then costs one query for
the account and its relation to the viewer, and a list one query for the whole page.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    and_,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from keepsake.accounts.models import AccountStatus, User
from keepsake.graph.models import Block, Follow, FollowState, Mute
from keepsake.pagination import Cursor, keyset_before
from keepsake.privacy import Person, Relation, visible_accounts

ACTIVE = FollowState.active
REQUESTED = FollowState.requested


@dataclass(frozen=True)
class Edge:
    """One row of a graph list: the edge's keyset position and the person at its far end."""

    id: uuid.UUID
    created_at: datetime
    person: Person


def _person_columns(viewer_id: uuid.UUID) -> tuple[Any, ...]:
    """The person's public columns and, as correlated subqueries, their relation to the viewer.

    Every subquery is a primary-key (or `ix_blocks_blocked`) probe, so a page of people
    costs one query however long it is.
    """
    # Aliases, so the subqueries never correlate with graph tables the outer query joins.
    out, back = aliased(Follow), aliased(Follow)
    block_out, block_back, mute = aliased(Block), aliased(Block), aliased(Mute)
    following = (
        select(out.state)
        .where(out.follower_id == viewer_id, out.followee_id == User.id)
        .scalar_subquery()
    )
    follows_viewer = exists().where(
        back.follower_id == User.id, back.followee_id == viewer_id, back.state == ACTIVE
    )
    blocking = exists().where(block_out.blocker_id == viewer_id, block_out.blocked_id == User.id)
    blocked_by = exists().where(
        block_back.blocker_id == User.id, block_back.blocked_id == viewer_id
    )
    muting = exists().where(mute.muter_id == viewer_id, mute.muted_id == User.id)
    return (
        User.id,
        User.handle,
        User.display_name,
        User.bio,
        User.note,
        User.is_private,
        User.status,
        following,
        follows_viewer,
        blocking,
        blocked_by,
        muting,
    )


def _person(row: Sequence[Any]) -> Person:
    return Person(
        id=row[0],
        handle=row[1],
        display_name=row[2],
        bio=row[3],
        note=row[4],
        is_private=row[5],
        status=row[6],
        relation=Relation(
            following=row[7],
            follows_viewer=row[8],
            blocking=row[9],
            blocked_by=row[10],
            muting=row[11],
        ),
    )


async def person_by_handle(db: AsyncSession, viewer_id: uuid.UUID, handle: str) -> Person | None:
    """The account behind a handle (any case) and its relation to the viewer: one round trip."""
    row = (
        await db.execute(
            select(*_person_columns(viewer_id)).where(func.lower(User.handle) == handle.lower())
        )
    ).one_or_none()
    return None if row is None else _person(row)


def _edges(rows: Sequence[Sequence[Any]]) -> list[Edge]:
    return [Edge(id=row[0], created_at=row[1], person=_person(row[2:])) for row in rows]


async def follow_edges(
    db: AsyncSession,
    *,
    viewer_id: uuid.UUID,
    user_id: uuid.UUID,
    direction: Literal["followers", "following"],
    state: FollowState,
    limit: int,
    after: Cursor | None,
) -> list[Edge]:
    """Followers (`direction="followers"`) or followees of a user, newest first.

    Accounts the viewer may not see (suspended, deleting, blocked either way) drop out
    here, by the privacy module's SQL clause.
    """
    if direction == "followers":
        mine, theirs = Follow.followee_id, Follow.follower_id
    else:
        mine, theirs = Follow.follower_id, Follow.followee_id
    query = (
        select(Follow.id, Follow.created_at, *_person_columns(viewer_id))
        .join(User, User.id == theirs)
        .where(
            mine == user_id,
            Follow.state == state,
            visible_accounts(viewer_id, user_id=User.id, status=User.status),
            keyset_before(Follow.created_at, Follow.id, after),
        )
        .order_by(Follow.created_at.desc(), Follow.id.desc())
        .limit(limit + 1)
    )
    return _edges((await db.execute(query)).all())


async def own_edges(
    db: AsyncSession,
    *,
    owner_id: uuid.UUID,
    table: type[Block] | type[Mute],
    limit: int,
    after: Cursor | None,
) -> list[Edge]:
    """The owner's blocks or mutes, newest first; the other account's id breaks ties."""
    owner_col: InstrumentedAttribute[uuid.UUID]
    other_col: InstrumentedAttribute[uuid.UUID]
    if table is Block:
        owner_col, other_col = Block.blocker_id, Block.blocked_id
    else:
        owner_col, other_col = Mute.muter_id, Mute.muted_id
    query = (
        select(other_col, table.created_at, *_person_columns(owner_id))
        .join(User, User.id == other_col)
        .where(
            owner_col == owner_id,
            User.status == AccountStatus.active,
            keyset_before(table.created_at, other_col, after),
        )
        .order_by(table.created_at.desc(), other_col.desc())
        .limit(limit + 1)
    )
    return _edges((await db.execute(query)).all())


async def counts(db: AsyncSession, user_id: uuid.UUID) -> tuple[int, int, int]:
    """(followers, following, pending requests), counting the accounts the lists show."""

    def count(
        mine: InstrumentedAttribute[uuid.UUID],
        theirs: InstrumentedAttribute[uuid.UUID],
        state: FollowState,
    ) -> ScalarSelect[int]:
        return (
            select(func.count())
            .select_from(Follow)
            .join(User, User.id == theirs)
            .where(mine == user_id, Follow.state == state, User.status == AccountStatus.active)
            .scalar_subquery()
        )

    row = (
        await db.execute(
            select(
                count(Follow.followee_id, Follow.follower_id, ACTIVE),
                count(Follow.follower_id, Follow.followee_id, ACTIVE),
                count(Follow.followee_id, Follow.follower_id, REQUESTED),
            )
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def follow(
    db: AsyncSession, *, follower_id: uuid.UUID, followee_id: uuid.UUID, state: FollowState
) -> FollowState:
    """Create the follow, or upgrade a pending request; an active follow is left alone."""
    stmt = insert(Follow).values(
        id=uuid.uuid4(), follower_id=follower_id, followee_id=followee_id, state=state
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[Follow.follower_id, Follow.followee_id],
        set_={"state": stmt.excluded.state},
        where=Follow.state == REQUESTED,
    )
    written = await db.scalar(upsert.returning(Follow.state))
    return ACTIVE if written is None else written


async def unfollow(db: AsyncSession, *, follower_id: uuid.UUID, followee_id: uuid.UUID) -> None:
    """Remove a follow or a pending request."""
    await db.execute(
        delete(Follow).where(Follow.follower_id == follower_id, Follow.followee_id == followee_id)
    )


def _pending(followee_id: uuid.UUID, request_id: uuid.UUID) -> ColumnElement[bool]:
    """A pending request addressed to the followee; anyone else's ids match nothing."""
    return and_(
        Follow.id == request_id, Follow.followee_id == followee_id, Follow.state == REQUESTED
    )


async def approve(db: AsyncSession, *, followee_id: uuid.UUID, request_id: uuid.UUID) -> bool:
    # The follow dates from its approval, so a new follower shows at the top of the list.
    result = await db.execute(
        update(Follow)
        .where(_pending(followee_id, request_id))
        .values(state=ACTIVE, created_at=func.now())
        .returning(Follow.id)
    )
    return result.first() is not None


async def approve_all(db: AsyncSession, *, followee_id: uuid.UUID) -> None:
    await db.execute(
        update(Follow)
        .where(Follow.followee_id == followee_id, Follow.state == REQUESTED)
        .values(state=ACTIVE, created_at=func.now())
    )


async def deny(db: AsyncSession, *, followee_id: uuid.UUID, request_id: uuid.UUID) -> bool:
    result = await db.execute(
        delete(Follow).where(_pending(followee_id, request_id)).returning(Follow.id)
    )
    return result.first() is not None


async def block(db: AsyncSession, *, blocker_id: uuid.UUID, blocked_id: uuid.UUID) -> None:
    """Block and drop every follow and request between the two, in one statement."""
    either_way = or_(
        and_(Follow.follower_id == blocker_id, Follow.followee_id == blocked_id),
        and_(Follow.follower_id == blocked_id, Follow.followee_id == blocker_id),
    )
    unfollow_both = delete(Follow).where(either_way).returning(Follow.id).cte("unfollow_both")
    stmt = (
        insert(Block)
        .values(blocker_id=blocker_id, blocked_id=blocked_id)
        .on_conflict_do_nothing()
        .add_cte(unfollow_both)
    )
    await db.execute(stmt)


async def unblock(db: AsyncSession, *, blocker_id: uuid.UUID, blocked_id: uuid.UUID) -> None:
    await db.execute(
        delete(Block).where(Block.blocker_id == blocker_id, Block.blocked_id == blocked_id)
    )


async def mute(db: AsyncSession, *, muter_id: uuid.UUID, muted_id: uuid.UUID) -> None:
    await db.execute(
        insert(Mute).values(muter_id=muter_id, muted_id=muted_id).on_conflict_do_nothing()
    )


async def unmute(db: AsyncSession, *, muter_id: uuid.UUID, muted_id: uuid.UUID) -> None:
    await db.execute(delete(Mute).where(Mute.muter_id == muter_id, Mute.muted_id == muted_id))
