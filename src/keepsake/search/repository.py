# ruff: noqa: S608 - statements are put together from this module's constant fragments only;
# every value the caller gives is a bound parameter.
"""Search's queries: one statement per page of people, one per page of hashtags.

People come in ranks (0: the exact handle, 1: people the viewer follows or who follow
the viewer, 2: everyone else), each rank in handle order. Rank 2 reads the gram index
and the handle index in that same order, so a page reads about `limit` postings, not
every match. Privacy is in each branch's WHERE, before its LIMIT.

A page is one statement, compiled once per `Shape` and read outside any transaction
(see `keepsake.readdb`), the people's columns and their relation to the viewer with it.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass

from sqlalchemy import Integer, Text, Uuid, column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts.models import User
from keepsake.graph.people_repository import PERSON_COLUMNS, person_of
from keepsake.privacy import Person
from keepsake.readdb import ReadDb, ReadQuery
from keepsake.search.query import Query

EXACT, RELATED, OTHERS = 0, 1, 2

_HANDLE_KEY = 'lower(u.handle) COLLATE "C"'
_VISIBLE = f"""
    u.status = 'active' AND u.id <> :viewer_id AND {_HANDLE_KEY} <> :exact
    AND (u.searchable OR EXISTS (
        SELECT 1 FROM follows AS f
        WHERE f.follower_id = :viewer_id AND f.followee_id = u.id AND f.state = 'active'))
    AND NOT EXISTS (SELECT 1 FROM blocks AS b
        WHERE b.blocker_id = :viewer_id AND b.blocked_id = u.id)
    AND NOT EXISTS (SELECT 1 FROM blocks AS b
        WHERE b.blocker_id = u.id AND b.blocked_id = :viewer_id)
"""
_UNRELATED = """
    NOT EXISTS (SELECT 1 FROM follows AS f
        WHERE f.follower_id = :viewer_id AND f.followee_id = u.id AND f.state = 'active')
    AND NOT EXISTS (SELECT 1 FROM follows AS f
        WHERE f.follower_id = u.id AND f.followee_id = :viewer_id AND f.state = 'active')
"""


@dataclass(frozen=True)
class Position:
    """A row's place in the results: its rank, then its handle's sort key."""

    rank: int
    handle_key: str


@dataclass(frozen=True)
class Found:
    person: Person
    position: Position


@dataclass(frozen=True)
class Shape:
    """What a page's SQL depends on; the values themselves are bound parameters."""

    initials: bool
    handle: bool
    # The rank the cursor stopped in, None on the first page.
    resume: int | None

    @classmethod
    def of(cls, query: Query, after: Position | None) -> Shape:
        return cls(
            initials=query.initials,
            handle=query.handle is not None,
            resume=after.rank if after else None,
        )


def _matches(shape: Shape) -> str:
    column = "u.search_initials" if shape.initials else "u.search_name"
    found = f"strpos({column}, :term) > 0"
    if shape.handle:
        found = f"({found} OR {_HANDLE_KEY} LIKE :prefix)"
    return found


def _exact() -> str:
    # `:exact` is excluded by _VISIBLE everywhere else; here it is the one row wanted.
    visible = _VISIBLE.replace(f"AND {_HANDLE_KEY} <> :exact", "")
    return f"""
        SELECT u.id, {EXACT} AS rank, {_HANDLE_KEY} AS handle_key FROM users AS u
        WHERE lower(u.handle) = :exact AND {visible}
    """


def _related(shape: Shape, after: str) -> str:
    return f"""
        (SELECT u.id, {RELATED} AS rank, {_HANDLE_KEY} AS handle_key FROM users AS u
        WHERE u.id IN (
            SELECT followee_id FROM follows WHERE follower_id = :viewer_id AND state = 'active'
            UNION
            SELECT follower_id FROM follows WHERE followee_id = :viewer_id AND state = 'active')
          AND {_matches(shape)} AND {_VISIBLE} {after}
        ORDER BY handle_key LIMIT :limit)
    """


def _by_grams(shape: Shape, after: str) -> str:
    # Nothing here may hinge on how selective a value is: prepared, the statement is
    # planned once for any query of its shape (a count of the other bigrams' postings
    # compared with their number made PostgreSQL plan every run afresh, ~2 ms each).
    column = "u.search_initials" if shape.initials else "u.search_name"
    return f"""
        (SELECT u.id, {OTHERS} AS rank, g.handle_key FROM user_search_grams AS g
        JOIN users AS u ON u.id = g.user_id
        WHERE g.gram = :first_gram {after.replace("handle_key", "g.handle_key")}
          AND strpos({column}, :term) > 0 AND {_VISIBLE} AND {_UNRELATED}
        ORDER BY g.handle_key LIMIT :limit)
    """


def _by_handle(after: str) -> str:
    # A range rather than `LIKE :prefix`: PostgreSQL bounds an index scan by a LIKE only
    # when the pattern is a constant, and a prepared statement's plan serves any prefix.
    return f"""
        (SELECT u.id, {OTHERS} AS rank, {_HANDLE_KEY} AS handle_key FROM users AS u
        WHERE {_HANDLE_KEY} >= :exact AND {_HANDLE_KEY} < :past_prefix
          {after.replace("handle_key", _HANDLE_KEY)}
          AND {_VISIBLE} AND {_UNRELATED}
        ORDER BY handle_key LIMIT :limit)
    """


def _found(shape: Shape) -> str:
    start = EXACT if shape.resume is None else shape.resume

    def resume(rank: int) -> str:
        return "AND handle_key > :after" if shape.resume == rank else ""

    parts = []
    if start <= EXACT and shape.handle:
        parts.append(_exact())
    if start <= RELATED:
        parts.append(_related(shape, resume(RELATED).replace("handle_key", _HANDLE_KEY)))
    others = [_by_grams(shape, resume(OTHERS))]
    if shape.handle:
        others.append(_by_handle(resume(OTHERS)))
    parts.append(f"SELECT * FROM ({' UNION '.join(others)}) AS others")
    return f"SELECT id, rank, handle_key FROM ({' UNION ALL '.join(parts)}) AS found" + (
        " ORDER BY rank, handle_key LIMIT :limit"
    )


def statement(query: Query, after: Position | None) -> str:
    """The SQL finding a page's ids: only the ranks at or past the cursor, each resumed after it."""
    return _found(Shape.of(query, after))


_RUN = (
    "viewer_id",
    "exact",
    "term",
    "prefix",
    "past_prefix",
    "first_gram",
    "after",
)
_LAST_CHAR = chr(0x10FFFF)


@functools.cache
def _page(shape: Shape) -> ReadQuery:
    # A few dozen shapes at most, each compiled once; the people's columns (and their
    # relation to the viewer) come with the same statement, so a page is one round trip.
    found = (
        text(_found(shape))
        .columns(column("id", Uuid()), column("rank", Integer()), column("handle_key", Text()))
        .subquery("found")
    )
    page = (
        select(*PERSON_COLUMNS, found.c.rank, found.c.handle_key)
        .join_from(User, found, User.id == found.c.id)
        .order_by(found.c.rank, found.c.handle_key)
    )
    return ReadQuery.compile(page, *_RUN, "limit")


def parameters(
    query: Query, *, viewer_id: uuid.UUID, after: Position | None, limit: int
) -> dict[str, object]:
    return {
        "viewer_id": viewer_id,
        "exact": query.handle or "",
        "term": query.term,
        "prefix": query.handle_prefix,
        # Past every handle starting with the query: handles hold ASCII only.
        "past_prefix": (query.handle or "") + _LAST_CHAR,
        "first_gram": query.first_gram,
        "after": after.handle_key if after else "",
        "limit": limit,
    }


async def people(
    db: ReadDb, query: Query, *, viewer_id: uuid.UUID, after: Position | None, limit: int
) -> list[Found]:
    """Up to `limit` matches after `after`, in result order, read outside any transaction."""
    params = parameters(query, viewer_id=viewer_id, after=after, limit=limit)
    rows = await _page(Shape.of(query, after)).all(db, **params)
    width = len(PERSON_COLUMNS)
    return [Found(person_of(row), Position(row[width], row[width + 1])) for row in rows]


async def recent_tags(db: AsyncSession, prefix: str, *, limit: int) -> list[str]:
    """Tags starting with `prefix`, most recently used first."""
    pattern = prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%"
    rows = await db.execute(
        text(
            "SELECT tag FROM hashtags WHERE tag LIKE :pattern"
            " ORDER BY last_used_at DESC, tag LIMIT :limit"
        ),
        {"pattern": pattern, "limit": limit},
    )
    return [row[0] for row in rows]
