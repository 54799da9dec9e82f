# ruff: noqa: S608 - statements are put together from this module's constant fragments only;
# every value the caller gives is a bound parameter.
"""Search's queries: one statement per page of people, one per page of hashtags.

People come in ranks (0: the exact handle, 1: people the viewer follows or who follow
the viewer, 2: everyone else), each rank in handle order. Rank 2 reads the gram index
and the handle index in that same order, so a page reads about `limit` postings, not
every match. Privacy is in each branch's WHERE, before its LIMIT.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.search.query import Query

EXACT, RELATED, OTHERS = 0, 1, 2

_HANDLE_KEY = 'lower(u.handle) COLLATE "C"'
_VISIBLE = f"""
    u.status = 'active' AND u.id <> :viewer AND {_HANDLE_KEY} <> :exact
    AND (u.searchable OR EXISTS (
        SELECT 1 FROM follows AS f
        WHERE f.follower_id = :viewer AND f.followee_id = u.id AND f.state = 'active'))
    AND NOT EXISTS (SELECT 1 FROM blocks AS b
        WHERE b.blocker_id = :viewer AND b.blocked_id = u.id)
    AND NOT EXISTS (SELECT 1 FROM blocks AS b
        WHERE b.blocker_id = u.id AND b.blocked_id = :viewer)
"""
_UNRELATED = """
    NOT EXISTS (SELECT 1 FROM follows AS f
        WHERE f.follower_id = :viewer AND f.followee_id = u.id AND f.state = 'active')
    AND NOT EXISTS (SELECT 1 FROM follows AS f
        WHERE f.follower_id = u.id AND f.followee_id = :viewer AND f.state = 'active')
"""


@dataclass(frozen=True)
class Position:
    """A row's place in the results: its rank, then its handle's sort key."""

    rank: int
    handle_key: str


@dataclass(frozen=True)
class Found:
    user_id: uuid.UUID
    position: Position


def _matches(query: Query) -> str:
    column = "u.search_initials" if query.initials else "u.search_name"
    found = f"strpos({column}, :term) > 0"
    if query.handle_prefix is not None:
        found = f"({found} OR {_HANDLE_KEY} LIKE :prefix)"
    return found


def _exact() -> str:
    # `:exact` is excluded by _VISIBLE everywhere else; here it is the one row wanted.
    visible = _VISIBLE.replace(f"AND {_HANDLE_KEY} <> :exact", "")
    return f"""
        SELECT u.id, {EXACT} AS rank, {_HANDLE_KEY} AS handle_key FROM users AS u
        WHERE lower(u.handle) = :exact AND {visible}
    """


def _related(query: Query, after: str) -> str:
    return f"""
        (SELECT u.id, {RELATED} AS rank, {_HANDLE_KEY} AS handle_key FROM users AS u
        WHERE u.id IN (
            SELECT followee_id FROM follows WHERE follower_id = :viewer AND state = 'active'
            UNION
            SELECT follower_id FROM follows WHERE followee_id = :viewer AND state = 'active')
          AND {_matches(query)} AND {_VISIBLE} {after}
        ORDER BY handle_key LIMIT :limit)
    """


def _by_grams(query: Query, after: str) -> str:
    column = "u.search_initials" if query.initials else "u.search_name"
    others = ""
    if len(query.grams) > 1:
        # Primary-key probes for the other bigrams: cheap, and most candidates stop here.
        others = """AND (SELECT count(*) FROM user_search_grams AS o
            WHERE o.gram = ANY(:others)
              AND o.handle_key = g.handle_key AND o.user_id = g.user_id
        ) = :others_count"""
    return f"""
        (SELECT u.id, {OTHERS} AS rank, g.handle_key FROM user_search_grams AS g
        JOIN users AS u ON u.id = g.user_id
        WHERE g.gram = :first_gram {after.replace("handle_key", "g.handle_key")} {others}
          AND strpos({column}, :term) > 0 AND {_VISIBLE} AND {_UNRELATED}
        ORDER BY g.handle_key LIMIT :limit)
    """


def _by_handle(after: str) -> str:
    return f"""
        (SELECT u.id, {OTHERS} AS rank, {_HANDLE_KEY} AS handle_key FROM users AS u
        WHERE {_HANDLE_KEY} LIKE :prefix {after.replace("handle_key", _HANDLE_KEY)}
          AND {_VISIBLE} AND {_UNRELATED}
        ORDER BY handle_key LIMIT :limit)
    """


def statement(query: Query, after: Position | None) -> str:
    """The page's SQL: only the ranks at or past the cursor, each resumed after it."""
    start = after.rank if after else EXACT

    def resume(rank: int) -> str:
        return "AND handle_key > :after" if after and after.rank == rank else ""

    parts = []
    if start <= EXACT and query.handle is not None:
        parts.append(_exact())
    if start <= RELATED:
        parts.append(_related(query, resume(RELATED).replace("handle_key", _HANDLE_KEY)))
    others = [_by_grams(query, resume(OTHERS))]
    if query.handle_prefix is not None:
        others.append(_by_handle(resume(OTHERS)))
    parts.append(f"SELECT * FROM ({' UNION '.join(others)}) AS others")
    return f"SELECT id, rank, handle_key FROM ({' UNION ALL '.join(parts)}) AS found" + (
        " ORDER BY rank, handle_key LIMIT :limit"
    )


def parameters(
    query: Query, *, viewer_id: uuid.UUID, after: Position | None, limit: int
) -> dict[str, object]:
    grams = query.grams
    return {
        "viewer": viewer_id,
        "exact": query.handle or "",
        "term": query.term,
        "prefix": query.handle_prefix,
        "first_gram": grams[0],
        "others": grams[1:],
        "others_count": len(grams) - 1,
        "after": after.handle_key if after else "",
        "limit": limit,
    }


async def people(
    db: AsyncSession, query: Query, *, viewer_id: uuid.UUID, after: Position | None, limit: int
) -> list[Found]:
    """Up to `limit` matches after `after`, in result order."""
    params = parameters(query, viewer_id=viewer_id, after=after, limit=limit)
    rows = await db.execute(text(statement(query, after)), params)
    return [Found(row[0], Position(row[1], row[2])) for row in rows]


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
