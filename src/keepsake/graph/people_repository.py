"""Queries that load accounts as `Person`s: public columns plus the relation to the viewer.

Profiles, lists, memories and feeds read a few public columns of `users` here, joined
to the graph, rather than through the accounts service: a profile view then costs one
query for the account and its relation to the viewer, a list one query for the whole
page, and a feed one query for all the authors on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    Uuid,
    bindparam,
    column,
    exists,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from keepsake.accounts.models import AccountStatus, User
from keepsake.graph.models import Block, CloseFriend, Follow, FollowState, Mute
from keepsake.privacy import Person, Relation
from keepsake.readdb import ReadQuery, Reads


@dataclass(frozen=True)
class Edge:
    """One row of a graph list: the edge's keyset position and the person at its far end."""

    id: uuid.UUID
    created_at: datetime
    person: Person


def _person_columns(viewer_id: BindParameter[uuid.UUID]) -> tuple[Any, ...]:
    """The person's public columns and, as correlated subqueries, their relation to the viewer.

    Every subquery is a primary-key (or `ix_blocks_blocked`) probe, so a page of people
    costs one query however long it is.
    """
    # Aliases, so the subqueries never correlate with graph tables the outer query joins.
    out, back = aliased(Follow), aliased(Follow)
    block_out, block_back, mute = aliased(Block), aliased(Block), aliased(Mute)
    close = aliased(CloseFriend)
    following = (
        select(out.state)
        .where(out.follower_id == viewer_id, out.followee_id == User.id)
        .scalar_subquery()
    )
    follows_viewer = exists().where(
        back.follower_id == User.id,
        back.followee_id == viewer_id,
        back.state == FollowState.active,
    )
    blocking = exists().where(block_out.blocker_id == viewer_id, block_out.blocked_id == User.id)
    blocked_by = exists().where(
        block_back.blocker_id == User.id, block_back.blocked_id == viewer_id
    )
    muting = exists().where(mute.muter_id == viewer_id, mute.muted_id == User.id)
    close_friend = exists().where(close.owner_id == User.id, close.friend_id == viewer_id)
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
        close_friend,
        User.avatar_key,
        User.discoverable,
    )


# Built once: constructing these aliases and subqueries costs more CPU than the query
# itself, so statements take the viewer as the bound parameter `viewer_id` instead.
VIEWER: BindParameter[uuid.UUID] = bindparam("viewer_id", type_=Uuid())
PERSON_COLUMNS = _person_columns(VIEWER)
_READ_BY_HANDLE = ReadQuery.compile(
    select(*PERSON_COLUMNS).where(func.lower(User.handle) == bindparam("handle")),
    "viewer_id",
    "handle",
)
_READ_BY_ID = ReadQuery.compile(
    select(*PERSON_COLUMNS).where(User.id == bindparam("user_id", type_=Uuid())),
    "viewer_id",
    "user_id",
)
_BY_IDS = select(*PERSON_COLUMNS).where(
    User.id.in_(bindparam("user_ids", type_=Uuid(), expanding=True))
)


def person_of(row: Sequence[Any]) -> Person:
    """A row starting with `PERSON_COLUMNS` as the `Person` it reads."""
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
            close_friend=row[12],
        ),
        avatar_key=row[13],
        discoverable=row[14],
    )


def edges(rows: Sequence[Sequence[Any]]) -> list[Edge]:
    """Rows of `(edge id, edge created_at, *PERSON_COLUMNS)` as list entries."""
    return [Edge(id=row[0], created_at=row[1], person=person_of(row[2:])) for row in rows]


async def person_by_handle(reads: Reads, viewer_id: uuid.UUID, handle: str) -> Person | None:
    """The account behind a handle (any case) and its relation to the viewer: one round trip."""
    rows = await reads.rows(_READ_BY_HANDLE, {"viewer_id": viewer_id, "handle": handle.lower()})
    return person_of(rows[0]) if rows else None


async def person_by_id(reads: Reads, viewer_id: uuid.UUID, user_id: uuid.UUID) -> Person | None:
    """The account with this id and its relation to the viewer: one round trip."""
    rows = await reads.rows(_READ_BY_ID, {"viewer_id": viewer_id, "user_id": user_id})
    return person_of(rows[0]) if rows else None


async def people_by_ids(
    db: AsyncSession, viewer_id: uuid.UUID, user_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Person]:
    """The accounts with these ids (missing ones left out), in one query."""
    if not user_ids:
        return {}
    rows = await db.execute(_BY_IDS, {"viewer_id": viewer_id, "user_ids": list(user_ids)})
    return {person.id: person for person in map(person_of, rows)}


RELATION_KINDS = (
    "following",
    "followers",
    "requested",
    "follow_requests",
    "blocked",
    "muted",
    "close_friends",
)


def _relation(
    user_id: uuid.UUID,
    kind: str,
    table: type[Follow] | type[Block] | type[Mute] | type[CloseFriend],
    mine: InstrumentedAttribute[uuid.UUID],
    theirs: InstrumentedAttribute[uuid.UUID],
    *where: ColumnElement[bool],
) -> Select[str, str, datetime]:
    return (
        select(literal(kind).label("kind"), User.handle, table.created_at.label("since"))
        .select_from(table)
        .join(User, User.id == theirs)
        .where(mine == user_id, User.status != AccountStatus.deleting, *where)
    )


async def relations(db: AsyncSession, user_id: uuid.UUID) -> list[tuple[str, str, datetime]]:
    """(kind, handle, since) of every edge from or to the user, oldest first, in one query.

    For the user's own data export, so blocks count too; accounts being deleted drop out,
    as from every other view.
    """
    active = Follow.state == FollowState.active
    requested = Follow.state == FollowState.requested
    out, back = (Follow.follower_id, Follow.followee_id), (Follow.followee_id, Follow.follower_id)
    query = union_all(
        _relation(user_id, "following", Follow, *out, active),
        _relation(user_id, "followers", Follow, *back, active),
        _relation(user_id, "requested", Follow, *out, requested),
        _relation(user_id, "follow_requests", Follow, *back, requested),
        _relation(user_id, "blocked", Block, Block.blocker_id, Block.blocked_id),
        _relation(user_id, "muted", Mute, Mute.muter_id, Mute.muted_id),
        _relation(
            user_id, "close_friends", CloseFriend, CloseFriend.owner_id, CloseFriend.friend_id
        ),
    ).order_by(column("since"))
    rows = await db.execute(query)
    return [(kind, handle, since) for kind, handle, since in rows]
