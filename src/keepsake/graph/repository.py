"""Queries of the social graph: follows, follow requests, blocks, mutes, close friends.

Lists select the far end's columns through `people_repository`, so a page of people
costs one query however long it is.
"""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    and_,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from keepsake.accounts.models import AccountStatus, User
from keepsake.graph.models import Block, CloseFriend, Follow, FollowState, Mute
from keepsake.graph.people_repository import PERSON_COLUMNS, Edge, edges
from keepsake.pagination import Cursor, keyset_before
from keepsake.privacy import visible_accounts

ACTIVE = FollowState.active
REQUESTED = FollowState.requested


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
        select(Follow.id, Follow.created_at, *PERSON_COLUMNS)
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
    return edges((await db.execute(query, {"viewer_id": viewer_id})).all())


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
        select(other_col, table.created_at, *PERSON_COLUMNS)
        .join(User, User.id == other_col)
        .where(
            owner_col == owner_id,
            User.status == AccountStatus.active,
            keyset_before(table.created_at, other_col, after),
        )
        .order_by(table.created_at.desc(), other_col.desc())
        .limit(limit + 1)
    )
    return edges((await db.execute(query, {"viewer_id": owner_id})).all())


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


async def approve(
    db: AsyncSession, *, followee_id: uuid.UUID, request_id: uuid.UUID
) -> uuid.UUID | None:
    """The follower whose pending request this was; None when there is no such request."""
    # The follow dates from its approval, so a new follower shows at the top of the list.
    return await db.scalar(
        update(Follow)
        .where(_pending(followee_id, request_id))
        .values(state=ACTIVE, created_at=func.now())
        .returning(Follow.follower_id)
    )


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


def _either_way(
    one: InstrumentedAttribute[uuid.UUID],
    other: InstrumentedAttribute[uuid.UUID],
    a: uuid.UUID,
    b: uuid.UUID,
) -> ColumnElement[bool]:
    """The edge from `a` to `b` or from `b` to `a`: two primary-key probes."""
    return or_(and_(one == a, other == b), and_(one == b, other == a))


async def block(db: AsyncSession, *, blocker_id: uuid.UUID, blocked_id: uuid.UUID) -> None:
    """Block, and drop every follow, request and close-friends entry between the two.

    One statement: PostgreSQL runs data-modifying CTEs even when nothing reads them.
    """
    unfollow = (
        delete(Follow)
        .where(_either_way(Follow.follower_id, Follow.followee_id, blocker_id, blocked_id))
        .returning(Follow.id)
        .cte("unfollow_both")
    )
    unfriend = (
        delete(CloseFriend)
        .where(_either_way(CloseFriend.owner_id, CloseFriend.friend_id, blocker_id, blocked_id))
        .returning(CloseFriend.owner_id)
        .cte("unfriend_both")
    )
    stmt = (
        insert(Block)
        .values(blocker_id=blocker_id, blocked_id=blocked_id)
        .on_conflict_do_nothing()
        .add_cte(unfollow, unfriend)
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


async def add_close_friend(db: AsyncSession, *, owner_id: uuid.UUID, friend_id: uuid.UUID) -> None:
    """Idempotent: adding someone again keeps their original place on the list."""
    await db.execute(
        insert(CloseFriend).values(owner_id=owner_id, friend_id=friend_id).on_conflict_do_nothing()
    )


async def remove_close_friend(
    db: AsyncSession, *, owner_id: uuid.UUID, friend_id: uuid.UUID
) -> None:
    await db.execute(
        delete(CloseFriend).where(
            CloseFriend.owner_id == owner_id, CloseFriend.friend_id == friend_id
        )
    )


async def close_friend_edges(
    db: AsyncSession, *, owner_id: uuid.UUID, limit: int, after: Cursor | None
) -> list[Edge]:
    """The owner's close friends, newest first, on `ix_close_friends_owner_created`.

    A block deletes the entries both ways, but one racing an add could leave a row
    behind; the privacy clause keeps such a row out of the list (and every visibility
    check tests blocks itself, so it never grants anything either).
    """
    query = (
        select(CloseFriend.friend_id, CloseFriend.created_at, *PERSON_COLUMNS)
        .join(User, User.id == CloseFriend.friend_id)
        .where(
            CloseFriend.owner_id == owner_id,
            visible_accounts(owner_id, user_id=User.id, status=User.status),
            keyset_before(CloseFriend.created_at, CloseFriend.friend_id, after),
        )
        .order_by(CloseFriend.created_at.desc(), CloseFriend.friend_id.desc())
        .limit(limit + 1)
    )
    return edges((await db.execute(query, {"viewer_id": owner_id})).all())
