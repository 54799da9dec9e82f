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
from typing import Protocol, cast

from sqlalchemy import text

from keepsake.readdb import ReadDb, ReadQuery
from keepsake.search.query import Query

EXACT, RELATED, OTHERS = 0, 1, 2

_HANDLE_KEY = 'lower(u.handle) COLLATE "C"'
# What `UserPublic` shows of a person, carried from the branch that found them to the
# page: no second read of `users` once ranked.
_PERSON = "u.id, u.handle, u.display_name, u.bio, u.note, u.avatar_key, u.is_private"
# The viewer's circle (active follows either way) and everyone blocked either way, each
# read once per statement: a candidate is then checked against them in memory (hashed
# `NOT IN`), where each check was an index probe of `follows` or `blocks` per candidate.
_SETS = """
    WITH circle AS MATERIALIZED (
        SELECT id, bool_or(followed) AS followed, bool_or(NOT followed) AS follows_you
        FROM (SELECT followee_id AS id, true AS followed FROM follows
                WHERE follower_id = :viewer_id AND state = 'active'
            UNION ALL
            SELECT follower_id, false FROM follows
                WHERE followee_id = :viewer_id AND state = 'active') AS edges
        GROUP BY id),
    hidden AS MATERIALIZED (
        SELECT blocked_id AS id FROM blocks WHERE blocker_id = :viewer_id
        UNION ALL SELECT blocker_id FROM blocks WHERE blocked_id = :viewer_id)
"""
_FOLLOWS = """EXISTS (SELECT 1 FROM follows AS f
    WHERE f.follower_id = {a} AND f.followee_id = {b} AND f.state = 'active')"""
_ACTIVE = "u.status = 'active' AND u.id <> :viewer_id AND u.id NOT IN (SELECT id FROM hidden)"
# Anyone else is outside the circle, where only the searchable are found.
_OTHER = f"""
    {_ACTIVE} AND u.searchable AND {_HANDLE_KEY} <> :exact
    AND u.id NOT IN (SELECT id FROM circle)
"""


@dataclass(frozen=True)
class Position:
    """A row's place in the results: its rank, then its handle's sort key."""

    rank: int
    handle_key: str


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
    # One row at most: its relation to the viewer is read straight from `follows`.
    return f"""
        SELECT {_PERSON}, {_FOLLOWS.format(a=":viewer_id", b="u.id")} AS followed,
            {_FOLLOWS.format(a="u.id", b=":viewer_id")} AS follows_you,
            {EXACT} AS rank, {_HANDLE_KEY} AS handle_key
        FROM users AS u
        WHERE lower(u.handle) = :exact AND {_ACTIVE}
          AND (u.searchable OR {_FOLLOWS.format(a=":viewer_id", b="u.id")})
    """


def _related(shape: Shape, after: str) -> str:
    return f"""
        (SELECT {_PERSON}, c.followed, c.follows_you,
            {RELATED} AS rank, {_HANDLE_KEY} AS handle_key
        FROM circle AS c JOIN users AS u ON u.id = c.id
        WHERE {_matches(shape)} AND {_ACTIVE} AND (u.searchable OR c.followed)
          AND {_HANDLE_KEY} <> :exact {after}
        ORDER BY handle_key LIMIT :limit)
    """


def _by_grams(shape: Shape, after: str) -> str:
    # Nothing here may hinge on how selective a value is: prepared, the statement is
    # planned once for any query of its shape (a count of the other bigrams' postings
    # compared with their number made PostgreSQL plan every run afresh, ~2 ms each).
    column = "u.search_initials" if shape.initials else "u.search_name"
    return f"""
        (SELECT {_PERSON}, false AS followed, false AS follows_you,
            {OTHERS} AS rank, g.handle_key
        FROM user_search_grams AS g JOIN users AS u ON u.id = g.user_id
        WHERE g.gram = :first_gram {after.replace("handle_key", "g.handle_key")}
          AND strpos({column}, :term) > 0 AND {_OTHER}
        ORDER BY g.handle_key LIMIT :limit)
    """


def _by_handle(after: str) -> str:
    # A range rather than `LIKE :prefix`: PostgreSQL bounds an index scan by a LIKE only
    # when the pattern is a constant, and a prepared statement's plan serves any prefix.
    return f"""
        (SELECT {_PERSON}, false AS followed, false AS follows_you,
            {OTHERS} AS rank, {_HANDLE_KEY} AS handle_key
        FROM users AS u
        WHERE {_HANDLE_KEY} >= :exact AND {_HANDLE_KEY} < :past_prefix
          {after.replace("handle_key", _HANDLE_KEY)} AND {_OTHER}
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
    return f"SELECT * FROM ({' UNION ALL '.join(parts)}) AS found" + (
        " ORDER BY rank, handle_key LIMIT :limit"
    )


def page_query(query: Query, after: Position | None) -> ReadQuery:
    """The statement `people` runs for this query's shape."""
    return _page(Shape.of(query, after))


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


# The page's people with what `UserPublic` shows of their relation to the viewer, and no
# more: the visibility rules above already left out blocks either way and inactive
# accounts, and the circle gave `followed` and `follows_you`. `relationship` is
# `keepsake.privacy.relationship` (the viewer is never among the rows).
_PAGE = """
    {sets}
    SELECT id, handle, display_name, bio, note, avatar_key, is_private,
        CASE WHEN followed THEN 'following'
            WHEN EXISTS (SELECT 1 FROM follows AS f WHERE f.follower_id = :viewer_id
                AND f.followee_id = found.id AND f.state = 'requested') THEN 'requested'
            ELSE 'none'
        END AS relationship,
        follows_you,
        EXISTS (SELECT 1 FROM mutes AS m
            WHERE m.muter_id = :viewer_id AND m.muted_id = found.id) AS muted,
        rank, handle_key
    FROM ({found}) AS found
    ORDER BY rank, handle_key
"""


class Row(Protocol):
    """One row of a page: a person as `UserPublic` shows them, and their `Position`."""

    id: uuid.UUID
    handle: str
    display_name: str
    bio: str
    note: str
    avatar_key: str | None
    is_private: bool
    relationship: str
    follows_you: bool
    muted: bool
    rank: int
    handle_key: str


@functools.cache
def _page(shape: Shape) -> ReadQuery:
    # A few dozen shapes at most, each compiled once; the people's columns (and their
    # relation to the viewer) come with the same statement, so a page is one round trip.
    # Blanks collapsed: psycopg parses a statement's placeholders afresh on every run when
    # it is longer than 4096 bytes (`MAX_CACHED_STATEMENT_LENGTH`), and the handle shape's
    # indented SQL was 4.7 kB.
    sql = " ".join(_PAGE.format(sets=_SETS, found=_found(shape)).split())
    # No `::UUID` after each of the two dozen `viewer_id`s: psycopg sends a UUID as one.
    return ReadQuery.compile(text(sql), *_RUN, "limit")


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
) -> list[Row]:
    """Up to `limit` matches after `after`, in result order, read outside any transaction.

    The rows go to the response as they are: a page builds no object per person.
    """
    params = parameters(query, viewer_id=viewer_id, after=after, limit=limit)
    return cast(list[Row], await page_query(query, after).all(db, **params))


# A range, as `_by_handle` reads handles: the prepared plan bounds its index scan by it
# whatever the prefix, and `%` and `_` in a tag need no escaping.
_RECENT_TAGS = ReadQuery.compile(
    text(
        "SELECT tag FROM hashtags WHERE tag >= :prefix AND tag < :past_prefix"
        " ORDER BY last_used_at DESC, tag LIMIT :limit"
    ),
    "prefix",
    "past_prefix",
    "limit",
)


async def recent_tags(db: ReadDb, prefix: str, *, limit: int) -> list[str]:
    """Tags starting with `prefix`, most recently used first: one statement, no transaction."""
    rows = await _RECENT_TAGS.all(db, prefix=prefix, past_prefix=prefix + _LAST_CHAR, limit=limit)
    return [row[0] for row in rows]
